"""Tables of the receipt inbox (the shoebox).

    IngestAddress   bon-<token>@<domain>: where a company's receipts are mailed to (rotatable)
    InboundMessage  one arrival, as received: a mail (SMTP/IMAP, raw .eml in the file store) or a
                    chat upload (bytes staged in the row until the worker files them)
    InboxDocument   one receipt / purchase invoice read from an arrival, with its status and fields
    ImapAccount     a mailbox Klerk polls for a company (password encrypted at rest)
    ImapUid         (account, folder, UIDVALIDITY, UID) already taken: the poller's idempotency
    AccountantShare one document mailed to the company's accountant, with its reference token
"""
from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from core.models import ExactDecimal, utcnow


class ReceiptStatus(str, enum.Enum):
    RECEIVED = "received"        # ontvangen
    CHECKED = "checked"          # gecontroleerd
    SHARED = "shared"            # gedeeld met boekhouder
    PROCESSED = "processed"      # verwerkt
    PRIVATE = "private"          # privé
    NOT_RECEIPT = "not_receipt"  # geen bon
    REJECTED = "rejected"        # refused file (quarantined with a reason)


class MessageStatus(str, enum.Enum):
    PENDING = "pending"          # stored, waiting for the worker
    PROCESSED = "processed"
    DUPLICATE = "duplicate"      # same Message-ID as an earlier arrival: not processed again
    QUARANTINED = "quarantined"  # kept, not processed, with a reason
    FAILED = "failed"            # the worker gave up; traceback in ``error``


class ShareMode(str, enum.Enum):
    CONFIRMED = "confirmed"      # documents the owner confirmed (✅)
    ALL = "all"                  # every document on arrival
    OFF = "off"


class IngestAddress(SQLModel, table=True):
    __tablename__ = "inbox_address"
    id: int | None = Field(default=None, primary_key=True)
    company_id: int = Field(foreign_key="company.id", index=True)
    token: str = Field(max_length=40, unique=True)            # >= 128 random bits, base32 lower case
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow)
    retired_at: datetime | None = None


class InboundMessage(SQLModel, table=True):
    __tablename__ = "inbox_message"
    __table_args__ = (
        sa.Index("ix_inbox_message_company_msgid", "company_id", "message_id"),
        sa.Index("ix_inbox_message_reply", "reply_to", "received_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    company_id: int = Field(foreign_key="company.id", index=True)
    source: str = Field(max_length=10)                         # smtp | imap | upload | bounce (to a bounce address)
    status: str = Field(default=MessageStatus.PENDING.value, max_length=12)
    kind: str = Field(default="", max_length=20)               # receipts | bounce | accountant_reply
    path: str = Field(default="", max_length=300)              # raw file, relative to the store root
    content: bytes | None = Field(default=None, sa_type=sa.LargeBinary)   # a staged upload
    filename: str = Field(default="", max_length=200)          # uploads
    mime: str = Field(default="", max_length=100)              # uploads
    size: int = 0
    sha256: str = Field(default="", max_length=64)
    message_id: str = Field(default="", max_length=300)        # the Message-ID header
    subject: str = Field(default="", max_length=300)
    envelope_from: str = Field(default="", max_length=254)
    person_id: int | None = Field(default=None, foreign_key="person.id")   # the uploader
    imap_account_id: int | None = Field(default=None, foreign_key="inbox_imap_account.id")
    reason: str = Field(default="", max_length=500)
    error: str = Field(default="", max_length=4000)
    reply_to: str = Field(default="", max_length=254)
    reply_status: str = Field(default="", max_length=40)       # queued | sent | skipped:<why>
    received_at: datetime = Field(default_factory=utcnow)
    processed_at: datetime | None = None


class InboxDocument(SQLModel, table=True):
    __tablename__ = "inbox_document"
    __table_args__ = (
        sa.UniqueConstraint("inbound_id", "position", name="uq_inbox_document_part"),
        sa.Index("ix_inbox_document_company_status", "company_id", "status"),
        sa.Index("ix_inbox_document_company_period", "company_id", "period_date"),
        sa.Index("ix_inbox_document_company_sha", "company_id", "sha256"),
        sa.Index("ix_inbox_document_company_dedupe", "company_id", "dedupe_key"),
    )
    id: int | None = Field(default=None, primary_key=True)
    company_id: int = Field(foreign_key="company.id", index=True)
    inbound_id: int = Field(foreign_key="inbox_message.id", index=True)
    position: int = 0                                          # order within the arrival
    filename: str = Field(default="", max_length=200)
    mime: str = Field(default="", max_length=100)
    path: str = Field(default="", max_length=300)              # the original, in the file store
    sha256: str = Field(default="", max_length=64)
    size: int = 0
    status: str = Field(default=ReceiptStatus.RECEIVED.value, max_length=12)
    reason: str = Field(default="", max_length=500)            # why it was rejected
    source: str = Field(default="", max_length=10)             # Extraction.source
    vendor: str = Field(default="", max_length=200)
    vendor_kvk: str = Field(default="", max_length=20)
    vendor_vat_id: str = Field(default="", max_length=20)
    vendor_iban: str = Field(default="", max_length=34)
    invoice_number: str = Field(default="", max_length=100)
    doc_date: date | None = None
    period_date: date | None = None                            # doc_date, else the arrival date
    total: Decimal | None = Field(default=None, sa_type=ExactDecimal(2))
    net: Decimal | None = Field(default=None, sa_type=ExactDecimal(2))
    currency: str = Field(default="EUR", max_length=3)
    vat: list = Field(default_factory=list, sa_type=sa.JSON)   # [{"rate": "21", "amount": "2.10", "base": ...}]
    confidence: dict = Field(default_factory=dict, sa_type=sa.JSON)
    paid_hint: bool | None = None
    text: str = Field(default="", sa_type=sa.Text)
    dedupe_key: str = Field(default="", max_length=300)
    duplicate_of: int | None = Field(default=None, foreign_key="inbox_document.id")
    duplicate_reason: str = Field(default="", max_length=20)   # same_file | same_fields
    person_id: int | None = Field(default=None, foreign_key="person.id")   # who last set the status
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    checked_at: datetime | None = None
    shared_at: datetime | None = None
    processed_at: datetime | None = None


class ImapAccount(SQLModel, table=True):
    __tablename__ = "inbox_imap_account"
    id: int | None = Field(default=None, primary_key=True)
    company_id: int = Field(foreign_key="company.id", index=True)
    host: str = Field(max_length=200)
    port: int = 993
    use_ssl: bool = True
    username: str = Field(max_length=254)
    password_encrypted: str = Field(max_length=1000)          # Fernet token (core.secrets)
    folders: str = Field(default="INBOX", max_length=1000)     # comma separated
    action: str = Field(default="flag", max_length=10)         # flag | move
    move_to: str = Field(default="", max_length=200)
    active: bool = True
    last_error: str = Field(default="", max_length=500)
    last_polled_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


class ImapUid(SQLModel, table=True):
    __tablename__ = "inbox_imap_uid"
    __table_args__ = (sa.UniqueConstraint("account_id", "folder", "uidvalidity", "uid",
                                          name="uq_inbox_imap_uid"),)
    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="inbox_imap_account.id", index=True)
    folder: str = Field(max_length=200)
    uidvalidity: int = Field(sa_type=sa.BigInteger)
    uid: int = Field(sa_type=sa.BigInteger)
    inbound_id: int | None = Field(default=None, foreign_key="inbox_message.id")
    outcome: str = Field(default="stored", max_length=20)      # stored | duplicate | too_large
    created_at: datetime = Field(default_factory=utcnow)


class AccountantShare(SQLModel, table=True):
    __tablename__ = "inbox_share"
    id: int | None = Field(default=None, primary_key=True)
    company_id: int = Field(foreign_key="company.id", index=True)
    document_id: int = Field(foreign_key="inbox_document.id", unique=True)
    token: str = Field(max_length=20, unique=True)             # "KLERK-" and 12 characters, in the subject
    message_id: str = Field(max_length=300, index=True)
    recipient: str = Field(default="", max_length=254)
    status: str = Field(default="sending", max_length=10)      # sending | sent | processed | bounced
    error: str = Field(default="", max_length=500)
    created_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = None
    processed_at: datetime | None = None
