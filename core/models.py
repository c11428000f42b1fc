"""The tables (SQLModel). Every business row carries ``company_id``; services always filter on it.

Exact numbers: ``ExactDecimal`` is NUMERIC on PostgreSQL and canonical text on SQLite (whose
NUMERIC is a float), so a cent is never lost on either.
"""
from __future__ import annotations

import enum
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class ExactDecimal(TypeDecorator):
    impl = sa.String(40)
    cache_ok = True

    def __init__(self, scale: int = 2) -> None:
        super().__init__()
        self.scale = scale

    def __repr__(self) -> str:
        return f"ExactDecimal(scale={self.scale})"

    def load_dialect_impl(self, dialect: sa.Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(sa.Numeric(20, self.scale))
        return dialect.type_descriptor(sa.String(40))

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> Any:
        if value is None:
            return None
        value = Decimal(value).quantize(Decimal(1).scaleb(-self.scale))
        return value if dialect.name == "postgresql" else str(value)

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> Decimal | None:
        if value is None:
            return None
        return Decimal(value).quantize(Decimal(1).scaleb(-self.scale))


def _money(**kw: Any) -> Any:
    return Field(default=Decimal("0.00"), sa_type=ExactDecimal(2), **kw)


class Role(str, enum.Enum):
    OWNER = "owner"
    STAFF = "staff"
    ACCOUNTANT = "accountant"


class ContactKind(str, enum.Enum):
    CUSTOMER = "customer"
    SUPPLIER = "supplier"
    BOTH = "both"


class SendFormat(str, enum.Enum):
    PDF = "pdf"
    UBL = "ubl"
    BOTH = "both"


class DocumentStatus(str, enum.Enum):
    DRAFT = "draft"
    SENT = "sent"
    ACCEPTED = "accepted"        # quote
    DECLINED = "declined"        # quote
    EXPIRED = "expired"          # quote
    INVOICED = "invoiced"        # quote
    PARTIALLY_PAID = "partially_paid"  # invoice
    PAID = "paid"                # invoice
    CREDITED = "credited"        # invoice


class Company(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    trade_name: str = Field(default="", max_length=200)
    street: str = Field(default="", max_length=200)
    postcode: str = Field(default="", max_length=20)
    city: str = Field(default="", max_length=100)
    country: str = Field(default="NL", max_length=2)
    kvk: str = Field(default="", max_length=8)
    vat_id: str = Field(default="", max_length=20)
    iban: str = Field(default="", max_length=34)
    bic: str = Field(default="", max_length=11)
    iban_verified_at: datetime | None = None
    email: str = Field(default="", max_length=254)
    phone: str = Field(default="", max_length=40)
    website: str = Field(default="", max_length=200)
    kor: bool = False
    logo: bytes | None = Field(default=None, sa_type=sa.LargeBinary)
    logo_mime: str = Field(default="", max_length=40)
    color: str = Field(default="#1f4e79", max_length=7)
    payment_term_days: int = 30
    quote_valid_days: int = 30
    pattern_invoice: str = Field(default="{year}-{seq:04}", max_length=40)
    pattern_quote: str = Field(default="OFF-{year}-{seq:03}", max_length=40)
    pattern_credit_note: str = Field(default="CN-{year}-{seq:04}", max_length=40)
    invoice_intro: str = Field(default="", max_length=2000)
    invoice_outro: str = Field(default="", max_length=2000)
    quote_intro: str = Field(default="", max_length=2000)
    quote_outro: str = Field(default="", max_length=2000)
    terms_pdf: bytes | None = Field(default=None, sa_type=sa.LargeBinary)
    terms_filename: str = Field(default="", max_length=200)
    language: str = Field(default="nl", max_length=2)
    accountant_email: str = Field(default="", max_length=254)
    created_at: datetime = Field(default_factory=utcnow)


class Person(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(default="", max_length=200)
    email: str = Field(default="", max_length=254)
    telegram_user_id: int | None = Field(default=None, sa_type=sa.BigInteger, unique=True, index=True)
    language: str = Field(default="nl", max_length=2)
    created_at: datetime = Field(default_factory=utcnow)


class Membership(SQLModel, table=True):
    __table_args__ = (sa.UniqueConstraint("company_id", "person_id"),)
    id: int | None = Field(default=None, primary_key=True)
    company_id: int = Field(foreign_key="company.id", index=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    role: Role = Field(sa_type=sa.String(20))
    created_at: datetime = Field(default_factory=utcnow)


class Contact(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    company_id: int = Field(foreign_key="company.id", index=True)
    kind: ContactKind = Field(default=ContactKind.CUSTOMER, sa_type=sa.String(10))
    is_business: bool = True
    name: str = Field(max_length=200)
    contact_person: str = Field(default="", max_length=200)
    street: str = Field(default="", max_length=200)
    postcode: str = Field(default="", max_length=20)
    city: str = Field(default="", max_length=100)
    country: str = Field(default="NL", max_length=2)
    email: str = Field(default="", max_length=254)
    extra_emails: str = Field(default="", max_length=1000)   # comma separated, CC on sending
    phone: str = Field(default="", max_length=40)
    kvk: str = Field(default="", max_length=8)
    vat_id: str = Field(default="", max_length=20)
    iban: str = Field(default="", max_length=34)
    payment_term_days: int | None = None
    vat_treatment: str = Field(default="standard", max_length=20)
    send_format: SendFormat = Field(default=SendFormat.PDF, sa_type=sa.String(10))
    language: str = Field(default="nl", max_length=2)
    categories: str = Field(default="", max_length=500)       # comma separated
    notes: str = Field(default="", max_length=5000)
    archived: bool = False
    created_at: datetime = Field(default_factory=utcnow)


class Item(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    company_id: int = Field(foreign_key="company.id", index=True)
    name: str = Field(max_length=200)
    description: str = Field(default="", max_length=2000)
    unit: str = Field(default="", max_length=20)
    unit_price: Decimal = Field(default=Decimal(0), sa_type=ExactDecimal(4))
    vat_rate: Decimal = Field(default=Decimal(21), sa_type=ExactDecimal(2))
    archived: bool = False
    created_at: datetime = Field(default_factory=utcnow)


class Document(SQLModel, table=True):
    """A quote, invoice or credit note. ``number`` is NULL until the document is finalised."""

    __table_args__ = (
        sa.UniqueConstraint("company_id", "kind", "number", name="uq_document_number"),
        sa.Index("ix_document_company_kind_status", "company_id", "kind", "status"),
    )
    id: int | None = Field(default=None, primary_key=True)
    company_id: int = Field(foreign_key="company.id", index=True)
    kind: str = Field(max_length=12)                        # core.document.DocumentKind
    status: DocumentStatus = Field(default=DocumentStatus.DRAFT, sa_type=sa.String(16))
    number: str | None = Field(default=None, max_length=40)
    contact_id: int = Field(foreign_key="contact.id", index=True)
    issue_date: date | None = None
    delivery_date: date | None = None
    due_date: date | None = None
    valid_until: date | None = None
    term_days: int = 30                                      # payment term or validity in days
    currency: str = Field(default="EUR", max_length=3)
    language: str = Field(default="nl", max_length=2)
    vat_treatment: str = Field(default="standard", max_length=20)
    discount_percent: Decimal = Field(default=Decimal(0), sa_type=ExactDecimal(4))
    intro: str = Field(default="", max_length=2000)
    outro: str = Field(default="", max_length=2000)
    buyer_reference: str = Field(default="", max_length=200)
    payment_reference: str = Field(default="", max_length=40)
    payment_link: str = Field(default="", max_length=500)
    original_id: int | None = Field(default=None, foreign_key="document.id")   # credit note -> invoice
    quote_id: int | None = Field(default=None, foreign_key="document.id")      # invoice -> quote
    seller_snapshot: dict | None = Field(default=None, sa_type=sa.JSON)
    buyer_snapshot: dict | None = Field(default=None, sa_type=sa.JSON)
    total_excl: Decimal = _money()
    total_vat: Decimal = _money()
    total_incl: Decimal = _money()
    amount_paid: Decimal = _money()
    sent_at: datetime | None = None
    mail_message_id: str = Field(default="", max_length=250, index=True)   # of the mail that sent it
    delivery: str = Field(default="", max_length=12)   # "" | mailed | chat | bounced | failed
    delivery_error: str = Field(default="", max_length=500)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class DocumentLine(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(foreign_key="document.id", index=True)
    company_id: int = Field(foreign_key="company.id", index=True)
    position: int = 0
    item_id: int | None = Field(default=None, foreign_key="item.id")
    description: str = Field(max_length=2000)
    quantity: Decimal = Field(sa_type=ExactDecimal(4))
    unit: str = Field(default="", max_length=20)
    unit_price: Decimal = Field(sa_type=ExactDecimal(4))
    vat_rate: Decimal = Field(default=Decimal(21), sa_type=ExactDecimal(2))
    discount_percent: Decimal = Field(default=Decimal(0), sa_type=ExactDecimal(4))


class NumberCounter(SQLModel, table=True):
    """The last number handed out per company, series and year (0 = a series without the year)."""

    company_id: int = Field(foreign_key="company.id", primary_key=True)
    series: str = Field(max_length=12, primary_key=True)
    year: int = Field(primary_key=True)
    last_seq: int = 0


# ---- shared infrastructure: outbox, jobs, chat state, invites -------------------------------

class Notification(SQLModel, table=True):
    """The outbox: any process writes a message for a person; the bot process delivers it.

    ``kind`` selects how the bot words it (e.g. ``receipt_received``, ``invoice_paid``); ``payload``
    holds the facts. ``person_id`` NULL means every owner and staff member of the company.
    """

    __table_args__ = (sa.Index("ix_notification_pending", "sent_at", "next_attempt_at"),)
    id: int | None = Field(default=None, primary_key=True)
    company_id: int = Field(foreign_key="company.id", index=True)
    person_id: int | None = Field(default=None, foreign_key="person.id")
    kind: str = Field(max_length=40)
    payload: dict = Field(default_factory=dict, sa_type=sa.JSON)
    dedupe_key: str | None = Field(default=None, max_length=200, unique=True)
    created_at: datetime = Field(default_factory=utcnow)
    next_attempt_at: datetime = Field(default_factory=utcnow)
    attempts: int = 0
    sent_at: datetime | None = None
    last_error: str = Field(default="", max_length=1000)


class Job(SQLModel, table=True):
    """A unit of background work, claimed by one worker at a time (SKIP LOCKED on PostgreSQL)."""

    __table_args__ = (sa.Index("ix_job_claim", "status", "kind", "run_after"),)
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=40)
    company_id: int | None = Field(default=None, foreign_key="company.id", index=True)
    payload: dict = Field(default_factory=dict, sa_type=sa.JSON)
    dedupe_key: str | None = Field(default=None, max_length=200, unique=True)
    status: str = Field(default="queued", max_length=10)     # queued | running | done | failed
    attempts: int = 0
    max_attempts: int = 5
    run_after: datetime = Field(default_factory=utcnow)
    locked_by: str = Field(default="", max_length=100)
    locked_until: datetime | None = None
    last_error: str = Field(default="", max_length=4000)
    created_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None


class ChatState(SQLModel, table=True):
    """Where a person is in a chat conversation, kept in the database so a restart loses nothing."""

    chat_id: int = Field(sa_type=sa.BigInteger, primary_key=True)
    user_id: int = Field(sa_type=sa.BigInteger, primary_key=True)
    company_id: int | None = Field(default=None, foreign_key="company.id")   # the active company
    flow: str = Field(default="", max_length=40)
    step: str = Field(default="", max_length=40)
    data: dict = Field(default_factory=dict, sa_type=sa.JSON)
    language: str = Field(default="nl", max_length=2)
    updated_at: datetime = Field(default_factory=utcnow)


class Invite(SQLModel, table=True):
    """A single-use, expiring invitation into a company (deep link ``?start=<token>``)."""

    id: int | None = Field(default=None, primary_key=True)
    company_id: int = Field(foreign_key="company.id", index=True)
    role: Role = Field(sa_type=sa.String(20))
    token_hash: str = Field(max_length=64, unique=True)
    created_by: int | None = Field(default=None, foreign_key="person.id")
    expires_at: datetime
    used_at: datetime | None = None
    used_by: int | None = Field(default=None, foreign_key="person.id")
