"""Fixtures of the ingest tests: a company with an owner and an ingest address, the file store, a
real SMTP ingest on a free loopback port, a worker, and a recording SMTP relay for outgoing mail
(the third-party edge; a real aiosmtpd server on loopback, not a mock)."""
from __future__ import annotations

import smtplib
import socket
import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlmodel import select

import ingest.reading
from core import storage
from core.companies import create_company
from core.inbox.addresses import address_of, ingest_address
from core.inbox.store import FileStore
from core.mail import Relay
from core.models import Company, Notification, Person
from ingest.smtp_server import IngestHandler, make_controller
from ingest.worker import Worker
from tests.conftest import NOW, SELLER
from tests.ingest.mails import wire

DOMAIN = "klerk.test"
MAX_BYTES = 2 * 1024 * 1024


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Inbox:
    company_id: int
    owner_id: int
    address: str
    store: FileStore


@pytest.fixture
def store(tmp_path: Path) -> FileStore:
    return FileStore(tmp_path / "inbox")


@pytest.fixture
def inbox(engine, store) -> Inbox:  # type: ignore[no-untyped-def]
    with storage.session_scope(engine) as s:
        owner = Person(name="Eva Vos", telegram_user_id=None)
        s.add(owner)
        s.flush()
        company = create_company(s, "Studio Vos", owner=owner, **SELLER)
        address = address_of(ingest_address(s, company.id, now=NOW), DOMAIN)
        return Inbox(company.id, owner.id, address, store)


@pytest.fixture
def smtp_ingest(engine, store):  # type: ignore[no-untyped-def]
    """A running SMTP ingest; yields (host, port)."""
    port = free_port()
    handler = IngestHandler(engine, store, domain=DOMAIN, clock=lambda: NOW)
    controller = make_controller(handler, host="127.0.0.1", port=port, max_message_bytes=MAX_BYTES)
    controller.start()
    yield "127.0.0.1", port
    controller.stop()


def send(server: tuple[str, int], msg: EmailMessage | bytes, *, to: str | list[str],
         sender: str = "owner@example.nl") -> dict:
    """Send with smtplib; returns refused recipients (raises on a refused DATA)."""
    with smtplib.SMTP(*server, timeout=30) as smtp:
        return smtp.sendmail(sender, to, wire(msg))


@dataclass
class Captured:
    messages: list[tuple[str, list[str], EmailMessage]] = field(default_factory=list)
    refuse_with: str | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


class _Recorder:
    def __init__(self, captured: Captured) -> None:
        self.captured = captured

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        if self.captured.refuse_with:
            return self.captured.refuse_with
        msg = message_from_bytes(envelope.original_content, policy=policy.default)
        with self.captured.lock:
            self.captured.messages.append((envelope.mail_from, list(envelope.rcpt_tos), msg))
        return "250 OK"


@pytest.fixture
def relay_server():  # type: ignore[no-untyped-def]
    """The outgoing mail relay: a recording SMTP server on loopback. Yields (Relay, Captured)."""
    captured = Captured()
    port = free_port()
    controller = Controller(_Recorder(captured), hostname="127.0.0.1", port=port)
    controller.start()
    yield Relay(host="127.0.0.1", port=port, starttls=False, sender="klerk@klerk.test", timeout=10), captured
    controller.stop()


@pytest.fixture
def make_worker(engine, store):  # type: ignore[no-untyped-def]
    def make(relay: Relay | None = None, reader=ingest.reading, **kw) -> Worker:  # type: ignore[no-untyped-def]
        kw.setdefault("clock", lambda: NOW)
        return Worker(engine, store, reader, ingest_domain=DOMAIN, relay=relay or Relay(host=""), **kw)
    return make


def notifications(engine, kind: str | None = None) -> list[Notification]:  # type: ignore[no-untyped-def]
    with storage.session_scope(engine) as s:
        stmt = select(Notification).order_by(Notification.id)
        if kind:
            stmt = stmt.where(Notification.kind == kind)
        return list(s.exec(stmt))


def company(engine, company_id: int) -> Company:  # type: ignore[no-untyped-def]
    with storage.session_scope(engine) as s:
        return s.get(Company, company_id)
