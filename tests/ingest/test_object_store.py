"""The inbox store on S3-compatible storage: the real boto3 client over HTTP against moto's S3 server
on 127.0.0.1 (S3 is a third-party edge we cannot run here). The ``store`` fixture is an ``S3Store``
in this module, so the SMTP ingest and the worker of tests/ingest/conftest.py run on it unchanged."""
from __future__ import annotations

import re
import smtplib
import uuid
from pathlib import Path

import pytest
from botocore.exceptions import ClientError
from moto.server import ThreadedMotoServer
from sqlmodel import select

from core import storage
from core.errors import NotFoundError, ValidationError
from core.inbox.models import InboundMessage, InboxDocument
from core.inbox.object_store import S3Store, make_s3_client
from core.inbox.store import FileStore, sha256_hex, store_from_settings
from core.settings import load
from ingest.smtp_server import IngestHandler, make_controller
from tests.conftest import NOW
from tests.ingest.conftest import DOMAIN, MAX_BYTES, free_port, send
from tests.ingest.mails import mail, ubl_invoice, wire

REGION = "eu-central-1"
KEYS = {"access_key_id": "klerk-test", "secret_access_key": "klerk-test-secret"}


@pytest.fixture(scope="module")
def s3_endpoint():  # type: ignore[no-untyped-def]
    """moto's S3 server on a free loopback port, for this module."""
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def client(s3_endpoint):  # type: ignore[no-untyped-def]
    return make_s3_client(endpoint_url=s3_endpoint, region=REGION, **KEYS)


@pytest.fixture
def bucket(client) -> str:  # type: ignore[no-untyped-def]
    name = f"klerk-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    return name


@pytest.fixture
def store(client, bucket) -> S3Store:  # type: ignore[no-untyped-def]
    return S3Store(client, bucket, "klerk/inbox")


def keys(client, bucket: str) -> list[str]:  # type: ignore[no-untyped-def]
    return sorted(o["Key"] for o in client.list_objects_v2(Bucket=bucket).get("Contents", []))


def count_calls(client, operation: str) -> list[str]:  # type: ignore[no-untyped-def]
    """Record each ``operation`` the boto3 client sends (botocore's own event hooks)."""
    seen: list[str] = []
    client.meta.events.register(f"before-call.s3.{operation}", lambda **kw: seen.append(operation))
    return seen


def test_a_raw_mail_is_stored_under_the_prefix_and_read_back(store, client, bucket) -> None:  # type: ignore[no-untyped-def]
    rel = store.write_raw(b"From: a@b\r\n\r\nbon", now=NOW)
    assert re.fullmatch(r"raw/2026/11/30/[0-9a-f]{32}\.eml", rel)
    assert keys(client, bucket) == [f"klerk/inbox/{rel}"]
    assert store.read(rel) == b"From: a@b\r\n\r\nbon"
    assert store.write_raw(b"From: a@b\r\n\r\nbon", now=NOW) != rel          # every arrival its own name
    assert store.location == f"s3://{bucket}/klerk/inbox"


def test_an_original_is_uploaded_once_and_repaired_when_its_size_differs(store, client, bucket) -> None:  # type: ignore[no-untyped-def]
    puts = count_calls(client, "PutObject")
    data = b"%PDF-1.4 a receipt"
    rel, digest = store.write_original(data, ".PDF")
    assert (rel, digest) == (f"originals/{digest[:2]}/{digest}.pdf", sha256_hex(data))
    assert store.write_original(data, "pdf") == (rel, digest)
    assert len(puts) == 1                                                   # the same size: no upload
    client.put_object(Bucket=bucket, Key=f"klerk/inbox/{rel}", Body=data[:5])   # a truncated copy
    assert store.write_original(data, "pdf") == (rel, digest)
    assert store.read(rel) == data and len(puts) == 3


def test_missing_and_unsafe_names_are_not_found(store) -> None:  # type: ignore[no-untyped-def]
    for rel in ("raw/2026/11/30/nothing.eml", "", "../klerk/inbox/x", "/etc/passwd", "raw//x", "a\\b"):
        with pytest.raises(NotFoundError):
            store.read(rel)
    with pytest.raises(ValidationError):
        store.put("../outside", b"x")


def test_put_restores_exact_names_in_both_stores(store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    for target in (store, FileStore(tmp_path / "inbox")):
        target.put("raw/2026/11/30/abc.eml", b"mail")
        assert target.read("raw/2026/11/30/abc.eml") == b"mail"
        for unsafe in ("../x", "/abs", "raw/../../x", ""):
            with pytest.raises(ValidationError):
                target.put(unsafe, b"x")
    assert not (tmp_path / "x").exists()


def test_listing_sizes_and_moving_alike_in_both_stores(store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """What ``klerk admin check-store`` needs of a store, on a directory and on S3."""
    (tmp_path / "inbox" / "raw").mkdir(parents=True)
    (tmp_path / "inbox" / "raw" / ".half.eml.1234.tmp").write_bytes(b"a write cut short")
    for target in (store, FileStore(tmp_path / "inbox")):
        raw = target.write_raw(b"mail one", now=NOW)
        original, _ = target.write_original(b"%PDF-1.4 bon", "pdf")
        listed = list(target.list_files())
        assert [name for name, _ in listed] == sorted([raw, original])      # no temporary file
        assert all(modified.tzinfo is not None for _, modified in listed)
        assert [name for name, _ in target.list_files("raw/")] == [raw]
        assert (target.size(raw), target.size("raw/none.eml"), target.size("../x")) == (8, None, None)
        target.move(raw, "unreferenced/" + raw)
        assert target.read("unreferenced/" + raw) == b"mail one" and target.size(raw) is None
        with pytest.raises(ValidationError):
            target.move(original, "../outside")
        assert target.read(original) == b"%PDF-1.4 bon"
    assert not (tmp_path / "outside").exists()


def test_write_raw_returns_only_after_s3_acknowledged(client, s3_endpoint) -> None:  # type: ignore[no-untyped-def]
    gone = S3Store(client, f"missing-{uuid.uuid4().hex[:8]}")
    with pytest.raises(ClientError):
        gone.write_raw(b"From: a@b\r\n\r\nbon", now=NOW)
    with pytest.raises(ClientError):
        gone.check()


def test_store_from_settings(tmp_path, s3_endpoint, bucket) -> None:  # type: ignore[no-untyped-def]
    default = store_from_settings(load(data_dir=tmp_path))
    assert isinstance(default, FileStore) and default.root == tmp_path / "documents" / "inbox"
    shared = store_from_settings(load(data_dir=tmp_path, storage_url=str(tmp_path / "shared")))
    assert isinstance(shared, FileStore) and shared.root == tmp_path / "shared"
    as_url = store_from_settings(load(data_dir=tmp_path, storage_url=f"file://{tmp_path}/nfs"))
    assert isinstance(as_url, FileStore) and as_url.root == tmp_path / "nfs"
    for wrong in ("ftp://host/dir", "s3://", "s3:///prefix"):
        with pytest.raises(ValidationError):
            store_from_settings(load(data_dir=tmp_path, storage_url=wrong))

    s3 = store_from_settings(load(data_dir=tmp_path, storage_url=f"s3://{bucket}/kantoor/", s3_endpoint_url=s3_endpoint,
                                  s3_region=REGION, s3_access_key_id=KEYS["access_key_id"],
                                  s3_secret_access_key=KEYS["secret_access_key"]))
    assert isinstance(s3, S3Store) and (s3.bucket, s3.prefix) == (bucket, "kantoor")
    s3.check()
    rel, _ = s3.write_original(b"receipt", "jpg")
    assert s3.read(rel) == b"receipt" and s3.key(rel) == f"kantoor/{rel}"


def test_smtp_accepts_into_s3_and_the_worker_reads_it_back(engine, inbox, smtp_ingest, make_worker,  # type: ignore[no-untyped-def]
                                                           client, bucket) -> None:
    msg = mail(to=inbox.address, subject="Factuur", attachments=(("factuur.xml", "application/xml", ubl_invoice()),))
    assert send(smtp_ingest, msg, to=inbox.address) == {}
    with storage.session_scope(engine) as s:
        [arrival] = s.exec(select(InboundMessage)).all()
    assert inbox.store.read(arrival.path) == wire(msg)                     # stored in S3 before the 250
    assert f"klerk/inbox/{arrival.path}" in keys(client, bucket)

    make_worker().run_until_idle()
    with storage.session_scope(engine) as s:
        [doc] = s.exec(select(InboxDocument)).all()
        status = s.get(InboundMessage, arrival.id).status
    assert status == "processed" and doc.invoice_number == "2026-0042" and str(doc.total) == "1193.62"
    assert inbox.store.read(doc.path) == ubl_invoice() and doc.sha256 == sha256_hex(ubl_invoice())
    assert sorted(k.split("/")[2] for k in keys(client, bucket)) == ["originals", "raw"]


def test_smtp_answers_451_and_stores_nothing_when_s3_refuses(engine, inbox, client) -> None:  # type: ignore[no-untyped-def]
    gone = S3Store(client, f"missing-{uuid.uuid4().hex[:8]}")
    port = free_port()
    controller = make_controller(IngestHandler(engine, gone, domain=DOMAIN, clock=lambda: NOW),
                                 host="127.0.0.1", port=port, max_message_bytes=MAX_BYTES)
    controller.start()
    try:
        with pytest.raises(smtplib.SMTPDataError) as refused:
            send(("127.0.0.1", port), mail(to=inbox.address), to=inbox.address)
    finally:
        controller.stop()
    assert refused.value.smtp_code == 451
    with storage.session_scope(engine) as s:
        assert s.exec(select(InboundMessage)).all() == []
