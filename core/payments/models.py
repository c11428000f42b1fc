"""The tables of getting paid. Every row carries ``company_id``; services always filter on it.

Idempotency lives in unique constraints, not in code paths:
  payment (provider_payment_id)             a provider payment (or bank line) is booked once
  bank_transaction (company, fingerprint)  the same statement imported twice stores each line once
  reminder (document, stage)               a reminder stage exists once per invoice: sent at most once
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from core.models import ExactDecimal, utcnow


def _money(**kw: Any) -> Any:
    return Field(default=Decimal("0.00"), sa_type=ExactDecimal(2), **kw)


class PaymentAccount(SQLModel, table=True):
    """A company's connection to a payment provider; the API key is stored encrypted (Fernet)."""

    __tablename__ = "payment_account"
    __table_args__ = (sa.UniqueConstraint("company_id", "provider", name="uq_payment_account_provider"),)
    id: int | None = Field(default=None, primary_key=True)
    company_id: int = Field(foreign_key="company.id", index=True)
    provider: str = Field(default="mollie", max_length=20)
    api_key_encrypted: str = Field(max_length=1000)
    key_hint: str = Field(default="", max_length=20)          # e.g. "test_…AbCd", safe to show
    webhook_token: str = Field(max_length=64, unique=True)    # routes a webhook to this account
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class PaymentRequest(SQLModel, table=True):
    """Something we asked a provider for: a payment link for an invoice, or the IBAN check payment."""

    __tablename__ = "payment_request"
    __table_args__ = (
        sa.UniqueConstraint("provider", "provider_ref", name="uq_payment_request_ref"),
        sa.Index("ix_payment_request_document", "company_id", "document_id"),
    )
    id: int | None = Field(default=None, primary_key=True)
    company_id: int = Field(foreign_key="company.id", index=True)
    document_id: int | None = Field(default=None, foreign_key="document.id")
    provider: str = Field(default="mollie", max_length=20)
    purpose: str = Field(max_length=12)                       # invoice | iban_check
    provider_ref: str = Field(max_length=100)                 # pl_... (link) or tr_... (payment)
    url: str = Field(default="", max_length=500)
    description: str = Field(default="", max_length=255)
    amount: Decimal = _money()
    status: str = Field(default="open", max_length=20)        # open | paid | done
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class Payment(SQLModel, table=True):
    """Money received for an invoice, from a provider, a bank statement line or by hand.

    ``booked`` is what this payment currently contributes to the invoice's ``amount_paid``; a
    webhook or import recomputes what it should be and books only the difference, which makes
    replays harmless and turns refunds and chargebacks into negative differences.
    """

    __tablename__ = "payment"
    __table_args__ = (sa.Index("ix_payment_company_received", "company_id", "received_on"),)
    id: int | None = Field(default=None, primary_key=True)
    company_id: int = Field(foreign_key="company.id", index=True)
    document_id: int | None = Field(default=None, foreign_key="document.id", index=True)
    source: str = Field(max_length=12)                        # mollie | bank | manual
    provider_payment_id: str = Field(max_length=100, unique=True)
    status: str = Field(default="paid", max_length=20)        # provider status; "unapplied" if not bookable
    method: str = Field(default="", max_length=30)
    currency: str = Field(default="EUR", max_length=3)
    amount: Decimal = _money()
    refunded: Decimal = _money()
    charged_back: Decimal = _money()
    booked: Decimal = _money()
    payer_name: str = Field(default="", max_length=200)
    payer_iban: str = Field(default="", max_length=34)
    paid_at: datetime | None = None
    received_on: date | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class BankTransaction(SQLModel, table=True):
    """One line of an imported bank statement (CAMT.053 or MT940). Amounts are positive."""

    __tablename__ = "bank_transaction"
    __table_args__ = (
        sa.UniqueConstraint("company_id", "fingerprint", name="uq_bank_transaction_fingerprint"),
        sa.Index("ix_bank_transaction_status", "company_id", "direction", "status"),
    )
    id: int | None = Field(default=None, primary_key=True)
    company_id: int = Field(foreign_key="company.id", index=True)
    fingerprint: str = Field(max_length=64)
    source_format: str = Field(max_length=10)                 # camt053 | mt940
    account: str = Field(default="", max_length=40)
    booking_date: date
    value_date: date | None = None
    direction: str = Field(max_length=6)                      # credit | debit
    amount: Decimal = _money()
    currency: str = Field(default="EUR", max_length=3)
    counterparty_name: str = Field(default="", max_length=200)
    counterparty_iban: str = Field(default="", max_length=34)
    remittance: str = Field(default="", max_length=1000)
    end_to_end_id: str = Field(default="", max_length=100)
    bank_reference: str = Field(default="", max_length=100)
    status: str = Field(default="unmatched", max_length=10)   # unmatched | booked | ignored
    document_id: int | None = Field(default=None, foreign_key="document.id")
    confidence: Decimal = Field(default=Decimal("0.00"), sa_type=ExactDecimal(2))
    imported_at: datetime = Field(default_factory=utcnow)


class ContactReminderMode(SQLModel, table=True):
    """Per contact: reminders go out automatically, or (default) each needs the owner's tap."""

    __tablename__ = "contact_reminder_mode"
    id: int | None = Field(default=None, primary_key=True)
    company_id: int = Field(foreign_key="company.id", index=True)
    contact_id: int = Field(foreign_key="contact.id", unique=True)
    automatic: bool = False
    paused: bool = False
    updated_at: datetime = Field(default_factory=utcnow)


class Reminder(SQLModel, table=True):
    """One reminder stage of one invoice. Status: pending (awaits the owner) -> approved -> sending
    -> sent; or skipped (the owner said no) / cancelled (paid meanwhile) / failed."""

    __tablename__ = "reminder"
    __table_args__ = (
        sa.UniqueConstraint("document_id", "stage", name="uq_reminder_stage"),
        sa.Index("ix_reminder_company_status", "company_id", "status"),
    )
    id: int | None = Field(default=None, primary_key=True)
    company_id: int = Field(foreign_key="company.id")
    document_id: int = Field(foreign_key="document.id")
    stage: int                                                # 1 friendly, 2 second, 3 final
    status: str = Field(default="pending", max_length=10)
    automatic: bool = False
    due_on: date                                              # the day the schedule made it due
    outstanding: Decimal = _money()
    collection_costs: Decimal = _money()
    interest: Decimal = _money()
    deadline: date | None = None                              # B2C final: pay before this day ends
    error: str = Field(default="", max_length=500)
    created_at: datetime = Field(default_factory=utcnow)
    decided_at: datetime | None = None
    sending_at: datetime | None = None                        # the mail was about to leave (see letters.py)
    sent_at: datetime | None = None
