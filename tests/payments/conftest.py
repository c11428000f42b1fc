"""Fixtures for getting paid: the Mollie double, a provider wired to it, and sent invoices."""
from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from core import storage
from core.document import DocumentKind
from core.documents import create_draft
from core.invoices import finalise_document
from core.payments.accounts import connect_provider
from core.payments.providers import MollieProvider
from core.secrets import SecretBox
from tests.conftest import NOW, TODAY
from klerk.mollie_double import MollieDouble

TEST_KEY = "test_dHar4XY7LxsDOtmnkVtjNVWXLSlXsM"
OTHER_KEY = "test_OtherCompanyKey000000000000aa"


@pytest.fixture
def mollie():  # type: ignore[no-untyped-def]
    double = MollieDouble(clock=lambda: NOW).start()
    yield double
    double.stop()


@pytest.fixture
def box() -> SecretBox:
    return SecretBox(Fernet.generate_key())


@pytest.fixture
def provider(mollie, box) -> MollieProvider:  # type: ignore[no-untyped-def]
    return MollieProvider(box, api_endpoint=mollie.url, public_url="https://klerk.example",
                          redirect_url="https://klerk.example/thanks")


@pytest.fixture
def connect(session, box, mollie):  # type: ignore[no-untyped-def]
    """Connect a company to Mollie (the double knows the key)."""
    def make(company, key: str = TEST_KEY):  # type: ignore[no-untyped-def]
        mollie.add_account(key)
        return connect_provider(session, box, company.id, key, now=NOW)
    return make


@pytest.fixture
def make_invoice(session):  # type: ignore[no-untyped-def]
    """A sent invoice: ``price`` excl. 21 % VAT (so 100 -> 121.00 to pay)."""
    def make(company, contact, price: str = "100", *, today=TODAY, now=NOW, **fields):  # type: ignore[no-untyped-def]
        doc = create_draft(session, company.id, DocumentKind.INVOICE, contact.id, today=today, lines=[
            {"description": "Ontwerp", "quantity": "1", "unit_price": price, "vat_rate": "21"}], **fields)
        finalise_document(session, company.id, doc.id, today=today, now=now)
        return doc
    return make


class Shop:
    """A company with a customer, built in committed transactions: for tests that run the web app,
    the worker or a second engine next to each other (the ``session`` fixture would hold SQLite's
    write lock for the whole test)."""

    def __init__(self, engine, box: SecretBox, mollie: MollieDouble | None, *, name: str = "Studio Vos",
                 **company_fields) -> None:  # type: ignore[no-untyped-def]
        from core.companies import create_company
        from core.contacts import create_contact
        from tests.conftest import BUYER, SELLER

        self.engine, self.box, self.mollie = engine, box, mollie
        with storage.session_scope(engine) as s:
            company = create_company(s, name, **{**SELLER, **company_fields})
            contact = create_contact(s, company.id, "Bakkerij de Vries B.V.", **BUYER)
            self.company_id, self.contact_id = company.id, contact.id

    def connect(self, key: str = TEST_KEY):  # type: ignore[no-untyped-def]
        assert self.mollie is not None
        self.mollie.add_account(key)
        with storage.session_scope(self.engine) as s:
            return connect_provider(s, self.box, self.company_id, key, now=NOW)

    def contact(self, name: str, **fields) -> int:  # type: ignore[no-untyped-def]
        from core.contacts import create_contact
        from tests.conftest import BUYER

        with storage.session_scope(self.engine) as s:
            return create_contact(s, self.company_id, name, **{**BUYER, **fields}).id

    def invoice(self, price: str = "100", *, contact_id: int | None = None, today=TODAY, now=NOW,
                **fields):  # type: ignore[no-untyped-def]
        with storage.session_scope(self.engine) as s:
            doc = create_draft(s, self.company_id, DocumentKind.INVOICE, contact_id or self.contact_id,
                               today=today, lines=[{"description": "Ontwerp", "quantity": "1",
                                                    "unit_price": price, "vat_rate": "21"}], **fields)
            finalise_document(s, self.company_id, doc.id, today=today, now=now)
            return doc


@pytest.fixture
def shop(engine, box, mollie) -> Shop:  # type: ignore[no-untyped-def]
    return Shop(engine, box, mollie)


class MailSink:
    """A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps what it receives."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        from klerk.mollie_double import free_port

        self.messages: list = []
        self.refuse_with: str | None = None       # e.g. "451 4.3.0 try later"
        self.controller = Controller(self, hostname="127.0.0.1", port=free_port())

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        if self.refuse_with:
            return self.refuse_with
        from email import message_from_bytes, policy

        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"

    def relay(self):  # type: ignore[no-untyped-def]
        from core.mail import Relay

        return Relay(host="127.0.0.1", port=self.controller.port, starttls=False, sender="facturen@klerk.test")


@pytest.fixture
def mail_sink():  # type: ignore[no-untyped-def]
    sink = MailSink()
    sink.controller.start()
    yield sink
    sink.controller.stop()
