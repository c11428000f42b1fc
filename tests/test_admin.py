"""``klerk admin`` through the real command line (typer's runner, in process) against a real data dir and
database (SQLite, and the PostgreSQL that ./dev test starts): companies, the owner's invitation as the
bot redeems it, documents, and backup/restore round trips."""
from __future__ import annotations

import io
import json
import os
import re
import tarfile
import threading
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet
from moto.server import ThreadedMotoServer
from sqlmodel import select
from typer.testing import CliRunner

from bot.app import build_application, on_startup
from bot.context import Services
from core import storage
from core.companies import create_company, list_companies
from core.extraction import Extraction, VatAmount
from core.inbox.filing import file_readings
from core.inbox.imap_accounts import add_imap_account, imap_login
from core.inbox.incoming import PartReading
from core.inbox.messages import accept_mail
from core.inbox.models import ImapAccount, InboundMessage, InboxDocument
from core.inbox.object_store import S3Store, make_s3_client
from core.inbox.store import FileStore
from core.secrets import KEY_FILE, load_secret_box
from klerk.botapi_double import BotApiDouble
from klerk.cli import app
from tests.bot.harness import ChatDriver, RecordingRequest
from tests.conftest import NOW
from tests.ingest.conftest import free_port

LINK = re.compile(r"^https://t\.me/(\w+)\?start=(inv_[A-Za-z0-9_-]+)$")
RAW = b"From: shop@example.nl\r\nTo: bon@klerk.test\r\nSubject: Bon\r\n\r\nZie bijlage.\r\n"
PDF = b"%PDF-1.4 the receipt of Bakkerij de Vries"


@dataclass
class Installation:
    """A data dir and a database, as an operator's environment points at them."""

    data_dir: Path
    database_url: str                   # "" = the SQLite file in data_dir

    @property
    def env(self) -> dict[str, str]:
        return {"KLERK_DATA_DIR": str(self.data_dir), "KLERK_DATABASE_URL": self.database_url}

    def klerk(self, *args: str, **env: str) -> tuple[int, str, str]:
        result = CliRunner().invoke(app, ["admin", *args], env={**self.env, **env}, catch_exceptions=False)
        return result.exit_code, result.stdout, result.stderr

    def json(self, *args: str) -> object:
        code, out, err = self.klerk(*args, "--json")
        assert code == 0, err
        return json.loads(out)

    @property
    def engine(self) -> sa.Engine:
        url = self.database_url or f"sqlite:///{self.data_dir / 'klerk.sqlite3'}"
        return storage.make_engine(url)

    @property
    def store(self) -> FileStore:
        return FileStore(self.data_dir / "documents" / "inbox")


@pytest.fixture
def operator_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No setting from the developer's shell leaks in; pg_dump/pg_restore of the test PostgreSQL first."""
    for name in ("TELEGRAM_BOT_TOKEN", "KLERK_TELEGRAM_BOT_TOKEN", "TELEGRAM_API_BASE_URL", "KLERK_SECRET_KEY",
                 "KLERK_STORAGE_URL", "KLERK_INGEST_DOMAIN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)                                   # no .env of the repository
    pg_ctl = os.environ.get("KLERK_TEST_PG_CTL")
    if pg_ctl:
        monkeypatch.setenv("PATH", f"{Path(pg_ctl).parent}{os.pathsep}{os.environ.get('PATH', '')}")


@pytest.fixture
def installation(engine, tmp_path: Path, operator_env) -> Installation:  # type: ignore[no-untyped-def]
    """The test database (SQLite: tmp_path/klerk.sqlite3 is the engine fixture's file)."""
    url = "" if engine.url.get_backend_name() == "sqlite" else engine.url.render_as_string(hide_password=False)
    return Installation(tmp_path, url)


@pytest.fixture
def second(engine, tmp_path: Path, operator_env):  # type: ignore[no-untyped-def]
    """Another, empty installation of the same kind: where a backup is restored."""
    data_dir = tmp_path / "elsewhere"
    if engine.url.get_backend_name() == "sqlite":
        yield Installation(data_dir, "")
        return
    name = f"klerk_restore_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(os.environ["KLERK_TEST_POSTGRES_URL"], isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = engine.url.set(database=name).render_as_string(hide_password=False)
    yield Installation(data_dir, url)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


def seed_documents(installation: Installation, company_id: int) -> list[int]:
    """An arrival through core, read into a receipt with fields and a refused part."""
    engine = installation.engine
    try:
        with storage.session_scope(engine) as s:
            [msg] = accept_mail(s, installation.store, RAW, company_ids=[company_id], source="smtp",
                                envelope_from="shop@example.nl", message_id="<1@example.nl>", subject="Bon", now=NOW)
            extraction = Extraction(source="pdf_text", total=Decimal("12.50"), net=Decimal("11.47"),
                                    vat=(VatAmount(Decimal("9"), Decimal("1.03"), Decimal("11.47")),),
                                    date=date(2026, 11, 12), vendor="Bakkerij de Vries", invoice_number="991")
            docs = file_readings(s, installation.store, msg, [
                PartReading("bon.pdf", "application/pdf", PDF, extraction),
                PartReading("virus.exe", "application/octet-stream", b"MZ", rejection="not a receipt file")],
                None, now=NOW)
            return [d.id for d in docs]
    finally:
        engine.dispose()


# ---- companies and the owner's invitation -------------------------------------------------------

def test_company_add_prints_the_address_and_a_single_use_owner_link(installation) -> None:  # type: ignore[no-untyped-def]
    made = installation.json("company-add", "Bakkerij Jansen", "--bot-username", "@klerk_kantoor_bot")
    bot, token = LINK.match(made["invite"]["link"]).groups()
    assert (bot, token, made["invite"]["role"]) == ("klerk_kantoor_bot", made["invite"]["token"], "owner")
    expires = datetime.fromisoformat(made["invite"]["expires_at"])
    assert timedelta(days=6, hours=23) < expires - datetime.now(timezone.utc) <= timedelta(days=7)
    assert re.fullmatch(r"bon-[a-z2-7]{32}@klerk\.localhost", made["ingest_address"])
    [listed] = installation.json("companies")
    assert listed == {"id": made["company_id"], "name": "Bakkerij Jansen", "trade_name": None, "kvk": None,
                      "ingest_address": made["ingest_address"], "members": []}

    code, out, _ = installation.klerk("company-add", "Studio Vos")     # no token, no --bot-username
    assert code == 0 and "/start inv_" in out and "t.me" in out and "ingest address: bon-" in out
    code, out, _ = installation.klerk("companies")
    assert code == 0 and "#1 Bakkerij Jansen" in out and "#2 Studio Vos" in out and "nobody yet" in out

    code, _, err = installation.klerk("company-add", "   ")
    assert code == 1 and err.startswith("error: name:") and "Traceback" not in err
    assert len(installation.json("companies")) == 2


async def test_the_owner_link_opens_the_set_up_in_the_chat(installation, engine) -> None:  # type: ignore[no-untyped-def]
    made = installation.json("company-add", "Bakkerij Jansen", "--bot-username", "klerk_test_bot")
    spare = installation.json("company-add", "Kapsalon Kim", "--bot-username", "klerk_test_bot")
    second_link = installation.json("company-add", "Bakkerij Jansen 2", "--bot-username", "klerk_test_bot")
    request = RecordingRequest()
    application = build_application(Services(engine=engine, secret=b"test-secret-0123456789", clock=lambda: NOW),
                                    token="123:TEST", request=request, deliver_notifications=False)
    async with application:
        await on_startup(application)
        anna = ChatDriver(application, request, 7001, first_name="Anna")
        welcome = anna.texts(await anna.send(f"/start {made['invite']['token']}"))
        assert "Welkom! Je werkt nu in Bakkerij Jansen als eigenaar" in welcome
        assert [label for label, _ in anna.buttons()][:2] == ["Nederlands", "English"]   # the set-up starts at once
        resumed = anna.texts(await anna.send("/start"))                 # the set-up goes on from its start
        assert "We waren gebleven bij" in resumed
        assert [label for label, _ in anna.buttons()][:2] == ["Nederlands", "English"]
        mallory = ChatDriver(application, request, 7666, first_name="Mallory")
        assert "niet geldig" in mallory.texts(await mallory.send(f"/start {made['invite']['token']}"))
    [jansen, kim, _] = installation.json("companies")
    assert jansen["members"] == [{"person_id": jansen["members"][0]["person_id"], "name": "Anna",
                                  "telegram_user_id": 7001, "role": "owner"}]
    assert kim["members"] == [] and spare["company_id"] == kim["id"]
    assert second_link["invite"]["token"] != made["invite"]["token"]


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_the_bot_name_is_asked_from_telegram(installation) -> None:  # type: ignore[no-untyped-def]
    double = BotApiDouble(username="kantoor_klerk_bot")
    base = double.start()
    try:
        code, out, err = installation.klerk("company-add", "Bakkerij Jansen", "--json",
                                            TELEGRAM_BOT_TOKEN="123:TEST", TELEGRAM_API_BASE_URL=base)
    finally:
        double.stop()
    assert code == 0, err
    assert LINK.match(json.loads(out)["invite"]["link"]).group(1) == "kantoor_klerk_bot"
    code, out, err = installation.klerk("company-add", "Nergens", TELEGRAM_BOT_TOKEN="123:TEST",
                                        TELEGRAM_API_BASE_URL=f"http://127.0.0.1:{free_port()}")
    assert code == 1 and "--bot-username" in err and "123:TEST" not in err
    assert [c["name"] for c in installation.json("companies")] == ["Bakkerij Jansen"]


# ---- documents ----------------------------------------------------------------------------------

def test_documents_with_status_and_fields(installation) -> None:  # type: ignore[no-untyped-def]
    company_id = installation.json("company-add", "Bakkerij Jansen", "--bot-username", "b")["company_id"]
    other = installation.json("company-add", "Studio Vos", "--bot-username", "b")["company_id"]
    receipt_id, refused_id = seed_documents(installation, company_id)
    rows = {r["id"]: r for r in installation.json("documents")}
    assert rows[receipt_id] == {
        "id": receipt_id, "company_id": company_id, "status": "received", "vendor": "Bakkerij de Vries",
        "date": "2026-11-12", "invoice_number": "991", "total": "12.50", "net": "11.47", "currency": "EUR",
        "vat": [{"rate": "9", "amount": "1.03", "base": "11.47"}], "filename": "bon.pdf", "source": "pdf_text",
        "received_at": rows[receipt_id]["received_at"], "duplicate_of": None, "reason": None}
    assert rows[receipt_id]["received_at"].startswith("2026-11-30T10:00:00")
    assert (rows[refused_id]["status"], rows[refused_id]["total"], rows[refused_id]["reason"]) == (
        "rejected", None, "not a receipt file")
    assert installation.json("documents", "--company", str(other)) == []
    assert len(installation.json("documents", "--company", str(company_id))) == 2
    code, out, _ = installation.klerk("documents")
    assert code == 0 and "Bakkerij de Vries · EUR 12.50 (9%: 1.03) · nr 991" in out
    code, _, err = installation.klerk("documents", "--company", "999")
    assert code == 1 and "not found" in err


# ---- the store ----------------------------------------------------------------------------------

def _paths(installation: Installation) -> tuple[str, str]:
    """(raw mail, receipt original) of the seeded arrival."""
    engine = installation.engine
    try:
        with storage.session_scope(engine) as s:
            raw = s.exec(select(InboundMessage.path)).one()
            original = s.exec(select(InboxDocument.path).where(InboxDocument.filename == "bon.pdf")).one()
            return raw, original
    finally:
        engine.dispose()


def _aged(store: FileStore, rel: str, days: int) -> None:
    then = (datetime.now(timezone.utc) - timedelta(days=days)).timestamp()
    os.utime(store.root / rel, (then, then))


def test_check_store_finds_missing_damaged_and_left_over_files(installation) -> None:  # type: ignore[no-untyped-def]
    company_id = installation.json("company-add", "Bakkerij Jansen", "--bot-username", "b")["company_id"]
    seed_documents(installation, company_id)
    report = installation.json("check-store")
    assert report["ok"] is True and report["checked"] >= 2
    assert (report["missing"], report["damaged"], report["unreferenced"]) == ([], [], [])

    store = installation.store
    raw, original = _paths(installation)
    crashed = store.write_raw(b"From: a@example.nl\r\n\r\nleft by a kill -9 before the commit\r\n", now=NOW)
    _aged(store, crashed, 2)
    orphan, _ = store.write_original(b"%PDF-1.4 read, but its row never committed", "pdf")
    _aged(store, orphan, 2)
    young = store.write_raw(b"From: b@example.nl\r\n\r\nits row may still be on its way\r\n", now=NOW)
    (store.root / raw).unlink()
    (store.root / original).write_bytes(b"%PDF-1.4 something else, longer than it was")

    for quick in (False, True):
        code, out, err = installation.klerk("check-store", "--json", *(["--quick"] if quick else []))
        assert code == 1, err
        report = json.loads(out)
        assert report["ok"] is False
        assert [m.split(": ")[1] for m in report["missing"]] == [raw] and report["missing"][0].startswith("mail #")
        assert [d.split(": ")[1].split(" (")[0] for d in report["damaged"]] == [original]
        assert sorted(report["unreferenced"]) == sorted([crashed, orphan])       # not the young one
        assert report["moved"] == []

    code, out, _ = installation.klerk("check-store", "--move-unreferenced")
    assert code == 1
    assert "MISSING: mail #" in out and "DAMAGED: document #" in out and f"moved to: unreferenced/{crashed}" in out
    assert "1 missing, 1 damaged: restore those files from a backup" in out
    assert not (store.root / crashed).exists()
    assert store.read("unreferenced/" + crashed).endswith(b"before the commit\r\n")
    assert store.read(orphan) and store.read(young)          # originals and young mails stay where they are
    report = json.loads(installation.klerk("check-store", "--json")[1])
    assert report["unreferenced"] == [orphan]


# ---- backup and restore -------------------------------------------------------------------------

def _seed_secret(installation: Installation, company_id: int) -> None:
    box = load_secret_box("", installation.data_dir)            # makes the key file, as the bot would
    engine = installation.engine
    try:
        with storage.session_scope(engine) as s:
            add_imap_account(s, box, company_id, host="imap.example.nl", username="bonnen@example.nl",
                             password="geheim-wachtwoord", now=NOW)
    finally:
        engine.dispose()


def _imap_password(installation: Installation) -> str:
    box = load_secret_box("", installation.data_dir)
    engine = installation.engine
    try:
        with storage.session_scope(engine) as s:
            account_id = s.exec(select(ImapAccount.id)).one()
            return imap_login(s, box, account_id).password
    finally:
        engine.dispose()


def test_backup_and_restore_round_trip(installation, second, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    company_id = installation.json("company-add", "Bakkerij Jansen", "--bot-username", "b")["company_id"]
    seed_documents(installation, company_id)
    _seed_secret(installation, company_id)
    archive = tmp_path / "backups" / "klerk.tar.gz"
    code, out, err = installation.klerk("backup", str(archive))
    assert code == 0, err
    assert "originals: 3 files" in out and f"{KEY_FILE} is IN this backup" in out
    assert archive.stat().st_mode & 0o077 == 0                                # it holds the key
    with tarfile.open(archive) as tar:
        names = tar.getnames()
    assert names[0] == "klerk-backup.json" and KEY_FILE in names
    assert sorted(n.split("/")[1] for n in names if n.startswith("store/")) == ["originals", "originals", "raw"]

    code, out, err = second.klerk("restore", str(archive))
    assert code == 0, err
    assert "database: restored" in out and "originals: 3 files restored" in out and "key:" in out
    assert second.json("companies") == installation.json("companies")
    assert second.json("documents") == installation.json("documents")
    engine = second.engine
    try:
        with storage.session_scope(engine) as s:
            paths = [d.path for d in s.exec(select(InboxDocument).order_by(InboxDocument.id))]
    finally:
        engine.dispose()
    assert second.store.read(paths[0]) == PDF
    assert _imap_password(second) == "geheim-wachtwoord"                   # the key came along

    code, _, err = second.klerk("restore", str(archive))                    # not empty now
    assert code == 1 and "not empty" in err and "--force" in err
    second.json("company-add", "Na de backup", "--bot-username", "b")
    code, out, err = second.klerk("restore", str(archive), "--force")
    assert code == 0, err
    assert [c["name"] for c in second.json("companies")] == ["Bakkerij Jansen"]


def test_restore_keeps_a_different_key_unless_forced(installation, second, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    company_id = installation.json("company-add", "Bakkerij Jansen", "--bot-username", "b")["company_id"]
    _seed_secret(installation, company_id)
    archive = tmp_path / "klerk.tar.gz"
    assert installation.klerk("backup", str(archive))[0] == 0
    other_key = Fernet.generate_key() + b"\n"
    second.data_dir.mkdir()
    (second.data_dir / KEY_FILE).write_bytes(other_key)
    code, _, err = second.klerk("restore", str(archive))
    assert code == 1 and "differs from the key in the backup" in err and "--force" in err
    assert (second.data_dir / KEY_FILE).read_bytes() == other_key and second.json("companies") == []
    code, out, err = second.klerk("restore", str(archive), "--force")
    assert code == 0, err
    assert _imap_password(second) == "geheim-wachtwoord"


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_sqlite_backup_while_the_database_is_written(installation, second, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    engine = installation.engine
    stop, written = threading.Event(), []

    def writer() -> None:
        while not stop.is_set() and len(written) < 2000:
            with storage.session_scope(engine) as s:
                written.append(create_company(s, f"Bedrijf {len(written)}").id)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while len(written) < 20:
            threading.Event().wait(0.01)
        code, out, err = installation.klerk("backup", str(tmp_path / "live.tar.gz"))
    finally:
        stop.set()
        thread.join()
        engine.dispose()
    assert code == 0, err
    assert second.klerk("restore", str(tmp_path / "live.tar.gz"))[0] == 0
    restored = second.engine
    try:
        with storage.session_scope(restored) as s:
            ids = [c.id for c in list_companies(s)]
    finally:
        restored.dispose()
    assert 20 <= len(ids) <= len(written) and ids == written[:len(ids)]      # a prefix: one snapshot


def test_s3_originals_are_not_in_the_archive_and_the_output_says_so(installation, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    archive = tmp_path / "klerk.tar.gz"
    code, out, err = installation.klerk("backup", str(archive), KLERK_STORAGE_URL="s3://klerk-bonnen/kantoor",
                                        KLERK_SECRET_KEY="a key from the environment")
    assert code == 0, err
    assert "NOT in this backup" in out and "s3://klerk-bonnen/kantoor" in out
    assert "KLERK_SECRET_KEY and is NOT in this backup" in out
    with tarfile.open(archive) as tar:
        assert not [n for n in tar.getnames() if n.startswith("store/") or n == KEY_FILE]
        manifest = json.load(tar.extractfile("klerk-backup.json"))
    assert manifest["store"] == {"location": "s3://klerk-bonnen/kantoor", "kind": "s3", "included": False}


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_restore_moves_local_originals_into_s3(installation, second, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    company_id = installation.json("company-add", "Bakkerij Jansen", "--bot-username", "b")["company_id"]
    seed_documents(installation, company_id)
    archive = tmp_path / "klerk.tar.gz"
    assert installation.klerk("backup", str(archive))[0] == 0
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        s3 = {"KLERK_STORAGE_URL": "s3://bonnen/kantoor", "KLERK_S3_ENDPOINT_URL": f"http://127.0.0.1:{port}",
              "KLERK_S3_REGION": "eu-central-1", "KLERK_S3_ACCESS_KEY_ID": "k", "KLERK_S3_SECRET_ACCESS_KEY": "s"}
        client = make_s3_client(endpoint_url=s3["KLERK_S3_ENDPOINT_URL"], region="eu-central-1",
                                access_key_id="k", secret_access_key="s")
        client.create_bucket(Bucket="bonnen", CreateBucketConfiguration={"LocationConstraint": "eu-central-1"})
        code, out, err = second.klerk("restore", str(archive), **s3)
        assert code == 0, err
        assert "originals: 3 files restored into s3://bonnen/kantoor" in out
        [receipt] = [d for d in second.json("documents") if d["status"] == "received"]
        engine = second.engine
        try:
            with storage.session_scope(engine) as s:
                path = s.get(InboxDocument, receipt["id"]).path
        finally:
            engine.dispose()
        assert S3Store(client, "bonnen", "kantoor").read(path) == PDF
    finally:
        server.stop()


def test_restore_refuses_junk_and_the_other_kind_of_database(installation, tmp_path: Path, engine) -> None:  # type: ignore[no-untyped-def]
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"not a backup")
    code, _, err = installation.klerk("restore", str(junk))
    assert code == 1 and "not a Klerk backup" in err and "Traceback" not in err
    other = "postgresql" if engine.url.get_backend_name() == "sqlite" else "sqlite"
    crafted = tmp_path / "other.tar.gz"
    with tarfile.open(crafted, "w:gz") as tar:
        data = json.dumps({"format": 1, "database": other, "store": {}, "key_file": False}).encode()
        info = tarfile.TarInfo("klerk-backup.json")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    code, _, err = installation.klerk("restore", str(crafted))
    assert code == 1 and f"holds a {other} database" in err
    code, _, err = installation.klerk("restore", str(tmp_path / "missing.tar.gz"))
    assert code == 1 and "no such file" in err
    assert installation.json("companies") == []
