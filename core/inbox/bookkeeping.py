"""What the books need from the shoebox (``core.payments`` takes these as parameters):

    input_vat(session, company_id, start, end) -> Decimal     the VAT on confirmed receipts (5b)
    has_receipt(session, transaction) -> bool                 is there a receipt for this bank debit
"""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Protocol

import sqlalchemy as sa
from sqlmodel import Session, col, select

from core.inbox.models import InboxDocument, ReceiptStatus

CONFIRMED = (ReceiptStatus.CHECKED.value, ReceiptStatus.SHARED.value, ReceiptStatus.PROCESSED.value)
BUSINESS = (ReceiptStatus.RECEIVED.value, *CONFIRMED)


class Debit(Protocol):
    company_id: int
    amount: Decimal
    booking_date: date
    currency: str


def input_vat(session: Session, company_id: int, start: date, end: date) -> Decimal:
    """The VAT on receipts the owner confirmed, dated ``start`` to ``end`` inclusive, in euros;
    duplicates, private expenses and non-receipts left out."""
    rows = session.exec(select(InboxDocument.vat).where(
        InboxDocument.company_id == company_id, col(InboxDocument.status).in_(CONFIRMED),
        InboxDocument.duplicate_of.is_(None), InboxDocument.currency == "EUR",
        InboxDocument.period_date >= start, InboxDocument.period_date <= end))
    return sum((Decimal(v["amount"]) for vat in rows for v in vat or []), Decimal("0.00"))


def has_receipt(session: Session, transaction: Debit, *, days_before: int = 10, days_after: int = 3) -> bool:
    """A business receipt of the same amount, dated from ``days_before`` days before the booking
    to ``days_after`` after (a card payment is booked a day or two after the receipt's date)."""
    day = transaction.booking_date
    found = session.exec(select(sa.func.count()).select_from(InboxDocument).where(
        InboxDocument.company_id == transaction.company_id, col(InboxDocument.status).in_(BUSINESS),
        InboxDocument.duplicate_of.is_(None), InboxDocument.total == transaction.amount,
        InboxDocument.currency == (transaction.currency or "EUR"),
        InboxDocument.period_date >= day - timedelta(days=days_before),
        InboxDocument.period_date <= day + timedelta(days=days_after))).one()
    return found > 0
