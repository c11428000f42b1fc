"""The SMTP ingest on a real port: codes, and what is stored before the 250."""
from __future__ import annotations

import smtplib
from pathlib import Path

import pytest
from sqlmodel import select

from core import storage
from core.companies import create_company
from core.inbox.addresses import address_of, ingest_address, rotate_ingest_address
from core.inbox.models import InboundMessage
from core.inbox.store import FileStore, sha256_hex
from core.models import Job
from ingest.smtp_server import IngestHandler, make_controller
from tests.conftest import NOW
from tests.ingest.conftest import DOMAIN, MAX_BYTES, free_port, send
from tests.ingest.mails import mail, text_pdf, wire


def arrivals(engine) -> list[InboundMessage]:  # type: ignore[no-untyped-def]
    with storage.session_scope(engine) as s:
        return list(s.exec(select(InboundMessage).order_by(InboundMessage.id)))


def test_accepted_mail_is_on_disk_and_queued_before_250(engine, inbox, smtp_ingest) -> None:  # type: ignore[no-untyped-def]
    msg = mail(to=inbox.address, attachments=(("bon.pdf", "application/pdf", text_pdf()),))
    raw = wire(msg)
    assert send(smtp_ingest, msg, to=inbox.address, sender="eva@example.nl") == {}
    [row] = arrivals(engine)
    assert (row.company_id, row.source, row.status, row.envelope_from) == (inbox.company_id, "smtp", "pending",
                                                                           "eva@example.nl")
    stored = inbox.store.read(row.path)
    assert stored == raw
    assert row.sha256 == sha256_hex(stored) and row.size == len(stored)
    assert row.message_id == str(msg["Message-ID"]) and row.subject == "Bonnetje"
    with storage.session_scope(engine) as s:
        [job] = s.exec(select(Job)).all()
    assert (job.kind, job.payload, job.status) == ("inbox_message", {"inbound_id": row.id}, "queued")


def test_unknown_and_retired_addresses_are_refused_with_550(engine, inbox, smtp_ingest) -> None:  # type: ignore[no-untyped-def]
    unknown = f"bon-{'a' * 32}@{DOMAIN}"
    for to in (unknown, "info@" + DOMAIN, inbox.address.replace(DOMAIN, "other.test")):
        with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
            send(smtp_ingest, mail(to=to), to=to)
        assert refused.value.recipients[to][0] == 550
        assert refused.value.recipients[to][1].startswith(b"5.1.1")
    with storage.session_scope(engine) as s:
        rotate_ingest_address(s, inbox.company_id, now=NOW)
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        send(smtp_ingest, mail(to=inbox.address), to=inbox.address)
    assert refused.value.recipients[inbox.address][0] == 550
    assert arrivals(engine) == []


def test_the_address_is_case_insensitive(engine, inbox, smtp_ingest) -> None:  # type: ignore[no-untyped-def]
    shouted = inbox.address.upper()
    assert send(smtp_ingest, mail(to=shouted), to=shouted) == {}
    assert len(arrivals(engine)) == 1


def test_over_the_size_limit_is_552_declared_or_not(engine, inbox, smtp_ingest) -> None:  # type: ignore[no-untyped-def]
    big = mail(to=inbox.address, attachments=(("big.pdf", "application/pdf", b"%PDF-1.4\n" + b"0" * MAX_BYTES),))
    with pytest.raises(smtplib.SMTPSenderRefused) as declared:       # smtplib sends SIZE= on MAIL FROM
        send(smtp_ingest, big, to=inbox.address)
    assert declared.value.smtp_code == 552
    with smtplib.SMTP(*smtp_ingest) as smtp:                            # no SIZE: refused after DATA
        smtp.ehlo()
        smtp.mail("owner@example.nl")
        smtp.rcpt(inbox.address)
        code, _ = smtp.data(wire(big))
    assert code == 552
    assert arrivals(engine) == []


def test_ten_thousand_recipients_get_452_and_the_server_keeps_serving(engine, inbox, smtp_ingest) -> None:  # type: ignore[no-untyped-def]
    codes = []
    with smtplib.SMTP(*smtp_ingest) as smtp:
        smtp.ehlo()
        smtp.mail("spam@example.nl")
        try:
            for n in range(10_000):
                codes.append(smtp.rcpt(inbox.address if n < 60 else f"x{n}@{DOMAIN}")[0])
        except smtplib.SMTPServerDisconnected:
            pass                                                         # 421 after 1000 RCPTs: cut off
    assert codes[:50] == [250] * 50 and set(codes[50:]) <= {452, 421}
    assert len(codes) <= 1001
    assert send(smtp_ingest, mail(to=inbox.address), to=inbox.address) == {}
    assert len(arrivals(engine)) == 1


def test_bytes_that_are_no_mail_get_554(engine, inbox, smtp_ingest) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(smtplib.SMTPDataError) as refused:
        send(smtp_ingest, b"\x00\x01\x02 binary junk without any header\r\n", to=inbox.address)
    assert refused.value.smtp_code == 554
    assert arrivals(engine) == []


def test_a_storage_fault_is_451_never_a_silent_drop(engine, inbox, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("a file where the store should be")
    port = free_port()
    controller = make_controller(IngestHandler(engine, FileStore(blocked), domain=DOMAIN, clock=lambda: NOW),
                                 host="127.0.0.1", port=port, max_message_bytes=MAX_BYTES)
    controller.start()
    try:
        with pytest.raises(smtplib.SMTPDataError) as refused:
            send(("127.0.0.1", port), mail(to=inbox.address), to=inbox.address)
        assert refused.value.smtp_code == 451
        assert refused.value.smtp_error.startswith(b"4.3.0")
    finally:
        controller.stop()
    assert arrivals(engine) == []


def test_one_mail_to_two_companies_is_one_file_and_two_arrivals(engine, inbox, smtp_ingest) -> None:  # type: ignore[no-untyped-def]
    with storage.session_scope(engine) as s:
        other = create_company(s, "Bakkerij")
        second = address_of(ingest_address(s, other.id, now=NOW), DOMAIN)
    assert send(smtp_ingest, mail(to=inbox.address), to=[inbox.address, second]) == {}
    rows = arrivals(engine)
    assert sorted(r.company_id for r in rows) == sorted([inbox.company_id, other.id])
    assert len({r.path for r in rows}) == 1


def test_a_flood_to_one_company_is_deferred_not_dropped(engine, inbox, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    port = free_port()
    handler = IngestHandler(engine, FileStore(tmp_path / "s"), domain=DOMAIN, max_per_hour=3, clock=lambda: NOW)
    controller = make_controller(handler, host="127.0.0.1", port=port, max_message_bytes=MAX_BYTES)
    controller.start()
    try:
        for _ in range(3):
            assert send(("127.0.0.1", port), mail(to=inbox.address), to=inbox.address) == {}
        with pytest.raises(smtplib.SMTPRecipientsRefused) as deferred:
            send(("127.0.0.1", port), mail(to=inbox.address), to=inbox.address)
        assert deferred.value.recipients[inbox.address][0] == 451
    finally:
        controller.stop()
    assert len(arrivals(engine)) == 3
