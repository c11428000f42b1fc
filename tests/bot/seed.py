"""Companies, customers and documents for the document conversations, made with the core services
(the onboarding conversation is not needed to test these), plus a real SMTP relay for the bot."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any

from sqlmodel import select

from core import storage
from core.companies import add_member, create_company, get_or_create_person
from core.contacts import create_contact, create_item
from core.document import DocumentKind
from core.documents import create_draft, get_document
from core.invoices import finalise_document
from core.models import Document, NumberCounter, Role
from tests.conftest import BUYER, NOW, SELLER, TODAY
from tests.mail_sink import MailSink, smtp_server

ADVICE = [{"description": "Advies", "quantity": "8", "unit": "uur", "unit_price": "75", "vat_rate": "21"}]


def seed_company(engine, owner_tg: int = 5001, *, language: str = "nl", **overrides: Any) -> int:  # type: ignore[no-untyped-def]
    with storage.session_scope(engine) as s:
        owner = get_or_create_person(s, telegram_user_id=owner_tg, name="Eva", lang=language)
        return create_company(s, "Studio Vos", owner=owner, **{**SELLER, **overrides}).id


def seed_member(engine, company_id: int, telegram_id: int, role: Role, *, language: str = "nl") -> None:  # type: ignore[no-untyped-def]
    with storage.session_scope(engine) as s:
        person = get_or_create_person(s, telegram_user_id=telegram_id, name="Anna", lang=language)
        add_member(s, company_id, person.id, role)


def seed_contact(engine, company_id: int, name: str = "Bakkerij de Vries B.V.", **overrides: Any) -> int:  # type: ignore[no-untyped-def]
    with storage.session_scope(engine) as s:
        return create_contact(s, company_id, name, **{**BUYER, **overrides}).id


def seed_item(engine, company_id: int, name: str = "Workshop", **fields: Any) -> int:  # type: ignore[no-untyped-def]
    with storage.session_scope(engine) as s:
        return create_item(s, company_id, name, **{"unit": "stuk", "unit_price": "450", "vat_rate": "21",
                                                   **fields}).id


def seed_document(engine, company_id: int, contact_id: int, *, kind: str = "invoice",  # type: ignore[no-untyped-def]
                  lines: list[dict] | None = None, sent: bool = True, today: date = TODAY,
                  now: datetime = NOW, **fields: Any) -> int:
    with storage.session_scope(engine) as s:
        doc = create_draft(s, company_id, DocumentKind(kind), contact_id, today=today,
                           lines=lines or ADVICE, **fields)
        if sent:
            finalise_document(s, company_id, doc.id, today=today, now=now)
        return doc.id


def document(engine, company_id: int, doc_id: int) -> Document:  # type: ignore[no-untyped-def]
    with storage.session_scope(engine) as s:
        return get_document(s, company_id, doc_id)


def documents(engine, company_id: int, kind: str | None = None) -> list[Document]:  # type: ignore[no-untyped-def]
    with storage.session_scope(engine) as s:
        stmt = select(Document).where(Document.company_id == company_id)
        if kind:
            stmt = stmt.where(Document.kind == kind)
        return list(s.exec(stmt.order_by(Document.id)))


def last_number(engine, company_id: int, series: str = "invoice") -> int:  # type: ignore[no-untyped-def]
    with storage.session_scope(engine) as s:
        counters = s.exec(select(NumberCounter).where(NumberCounter.company_id == company_id,
                                                      NumberCounter.series == series)).all()
        return max((c.last_seq for c in counters), default=0)


@contextmanager
def relay_for(services, handler: MailSink) -> Iterator[MailSink]:  # type: ignore[no-untyped-def]
    """Point the running bot's outgoing mail at a real SMTP server on loopback."""
    with smtp_server(handler) as relay:
        previous, services.relay = services.relay, relay
        try:
            yield handler
        finally:
            services.relay = previous
