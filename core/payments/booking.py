"""Booking received money on invoices, idempotently, with the "Betaald!" notification.

Every source (a Mollie payment fetched back, a bank statement line, a payment typed in by hand)
ends in ``apply_payment``: it keeps one ``Payment`` row per provider payment id, works out what
that payment should contribute to its invoice *now* (paid: the amount; refunded or charged back:
less), and books only the difference. A replayed webhook or a re-imported statement finds the
difference zero and changes nothing. The ``invoice_paid`` notification is written in the same
transaction as the booking, so it exists exactly when the booking does; so is the ``payment_mail``
job (company setting ``payment_mail`` "on" and a company e-mail address), at most one per payment.
"""
from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Session, select

from core.companies import get_company
from core.company_settings import get_setting
from core.contacts import get_contact
from core.document_view import format_money
from core.documents import get_document
from core.errors import ConflictError, ValidationError
from core.i18n import normalize_language, translate
from core.invoices import outstanding, record_payment
from core.jobs import enqueue
from core.mail import OutgoingMail
from core.models import Document, DocumentStatus
from core.money import ZERO, parse_decimal, round_money
from core.outbox import notify
from core.payments.accounts import mask_iban
from core.payments.links import supersede_link
from core.payments.models import Payment
from core.payments.reminders import cancel_pending_reminders

log = logging.getLogger(__name__)
S = DocumentStatus
PAYMENT_MAIL_JOB = "payment_mail"


@dataclass(frozen=True)
class Received:
    """A payment as its source sees it now. ``net`` is what it should contribute to the invoice."""

    source: str                      # mollie | bank | manual
    provider_payment_id: str
    amount: Decimal
    net: Decimal
    status: str = "paid"
    method: str = ""
    currency: str = "EUR"
    refunded: Decimal = ZERO
    charged_back: Decimal = ZERO
    payer_name: str = ""
    payer_iban: str = ""
    paid_at: datetime | None = None
    received_on: date | None = None


@dataclass(frozen=True)
class Booking:
    payment: Payment
    delta: Decimal                   # booked now: > 0 received, < 0 refunded/charged back, 0 replay
    unapplied: bool = False          # money arrived for an invoice that takes no payment any more


def _locked_row(session: Session, provider_payment_id: str) -> Payment | None:
    stmt = select(Payment).where(Payment.provider_payment_id == provider_payment_id)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    return session.exec(stmt.execution_options(populate_existing=True)).first()


def _payment_row(session: Session, company_id: int, document_id: int | None, r: Received,
                 now: datetime) -> Payment:
    """The payment's row, locked. Two workers on the same payment: the second one's INSERT waits for
    the first one's commit, fails on the unique id, and then reads and locks the committed row."""
    row = _locked_row(session, r.provider_payment_id)
    if row is None:
        row = Payment(company_id=company_id, document_id=document_id, source=r.source,
                      provider_payment_id=r.provider_payment_id, created_at=now)
        try:
            with session.begin_nested():
                session.add(row)
        except sa.exc.IntegrityError:
            row = _locked_row(session, r.provider_payment_id)
            if row is None:
                raise
    if row.company_id != company_id:
        raise ConflictError(f"payment {r.provider_payment_id} belongs to another company")
    row.status, row.method, row.currency = r.status, r.method, r.currency
    row.amount, row.refunded, row.charged_back = r.amount, r.refunded, r.charged_back
    row.payer_name, row.payer_iban = r.payer_name[:200], r.payer_iban[:34]
    row.paid_at, row.received_on, row.updated_at = r.paid_at, r.received_on, now
    session.add(row)
    session.flush()
    return row


def apply_payment(session: Session, company_id: int, document_id: int, received: Received, *,
                  now: datetime) -> Booking:
    """Bring the invoice in line with what ``received`` says; book only the difference."""
    row = _payment_row(session, company_id, document_id, received, now)
    if row.document_id != document_id:
        raise ConflictError(f"payment {row.provider_payment_id} is booked on another invoice")
    target = max(ZERO, round_money(received.net))
    delta = round_money(target - row.booked)
    if delta > ZERO:
        try:
            doc = record_payment(session, company_id, document_id, delta, now=now)
        except ConflictError:
            log.warning("payment %s arrived for invoice %s that takes no payment (status not open)",
                        row.id, document_id)
            doc = get_document(session, company_id, document_id)
            notify(session, company_id, "payment_unapplied", _payload(session, doc, row, delta),
                   dedupe_key=f"payment_unapplied:{row.id}:{target}", now=now)
            return Booking(row, ZERO, unapplied=True)
        row.booked = round_money(row.booked + delta)
        notify(session, company_id, "invoice_paid", _payload(session, doc, row, delta),
               dedupe_key=f"invoice_paid:{row.id}:{row.booked}", now=now)
        _queue_payment_mail(session, doc, row, delta, now=now)
        if doc.status == S.PAID:
            cancel_pending_reminders(session, company_id, doc.id, now=now)
        supersede_link(session, doc, now=now)
    elif delta < ZERO:
        doc = reverse_payment(session, company_id, document_id, -delta, now=now)
        row.booked = round_money(row.booked + delta)
        supersede_link(session, doc, now=now)
        kind = "charged_back" if received.charged_back > ZERO else "refunded"
        notify(session, company_id, "payment_reversed", _payload(session, doc, row, delta) | {"reason": kind},
               dedupe_key=f"payment_reversed:{row.id}:{row.booked}", now=now)
    session.add(row)
    session.flush()
    return Booking(row, delta)


def reverse_payment(session: Session, company_id: int, invoice_id: int, amount: Decimal, *,
                    now: datetime) -> Document:
    """Take a refunded or charged-back amount off an invoice: paid -> partially paid -> sent.

    The mirror image of ``core.invoices.record_payment``; only payment bookings reverse amounts, so it
    lives with them.
    """
    doc = get_document(session, company_id, invoice_id, lock=True)
    amount = round_money(amount)
    if amount <= ZERO:
        raise ValidationError("amount", "A payment is more than € 0,00")
    doc.amount_paid = round_money(doc.amount_paid - amount)
    if doc.status in (S.PAID, S.PARTIALLY_PAID):
        doc.status = S.SENT if doc.amount_paid <= ZERO else (
            S.PAID if doc.amount_paid >= doc.total_incl else S.PARTIALLY_PAID)
    doc.updated_at = now
    session.add(doc)
    session.flush()
    return doc


def record_manual_payment(session: Session, company_id: int, invoice_id: int, amount: Decimal | str, *,
                          received_on: date, now: datetime, payer_name: str = "") -> Booking:
    """The owner says "this was paid" (cash, a transfer outside the imported statements)."""
    value = round_money(parse_decimal(amount, field="amount"))
    if value <= ZERO:
        raise ValidationError("amount", "A payment is more than € 0,00")
    received = Received(source="manual", provider_payment_id=f"manual:{uuid.uuid4().hex}", amount=value,
                        net=value, payer_name=payer_name, received_on=received_on, paid_at=now)
    return apply_payment(session, company_id, invoice_id, received, now=now)


def _payload(session: Session, doc: Document, row: Payment, delta: Decimal) -> dict:
    contact = get_contact(session, doc.company_id, doc.contact_id)
    left = outstanding(doc)
    return {
        "invoice_id": doc.id, "number": doc.number or "", "contact_id": contact.id,
        "contact_name": contact.name, "payer_name": row.payer_name or contact.name,
        "payer_account": mask_iban(row.payer_iban), "amount": str(abs(delta)), "currency": doc.currency,
        "total": str(doc.total_incl), "paid_total": str(doc.amount_paid), "outstanding": str(max(left, ZERO)),
        "overpaid": str(-left if left < ZERO else ZERO), "paid_in_full": doc.status == S.PAID,
        "status": str(doc.status.value if isinstance(doc.status, S) else doc.status),
        "source": row.source, "method": row.method, "payment_id": row.id,
        "received_on": row.received_on.isoformat() if row.received_on else "",
    }


def _queue_payment_mail(session: Session, doc: Document, row: Payment, delta: Decimal, *, now: datetime) -> None:
    """If the owner wants it: one mail to the company's address per payment (dedupe on the payment)."""
    if get_setting(session, doc.company_id, "payment_mail", "off") != "on":
        return
    if not get_company(session, doc.company_id).email:
        return
    enqueue(session, PAYMENT_MAIL_JOB, {"company_id": doc.company_id, "invoice_id": doc.id, "payment_id": row.id,
                                        "amount": str(delta), "outstanding": str(max(outstanding(doc), ZERO))},
            company_id=doc.company_id, dedupe_key=f"{PAYMENT_MAIL_JOB}:{row.id}", run_after=now)


def payment_mail(session: Session, payload: dict) -> OutgoingMail | None:
    """The ``payment_mail`` job's message, in the company's language, to the company's address as it
    is now (None when that address was removed meanwhile)."""
    company = get_company(session, int(payload["company_id"]))
    if not company.email:
        return None
    doc = get_document(session, company.id, int(payload["invoice_id"]))
    contact = get_contact(session, company.id, doc.contact_id)
    lang = normalize_language(company.language)
    values = {"number": doc.number or "", "contact": contact.name,
              "amount": format_money(Decimal(payload["amount"]), lang, doc.currency),
              "open": format_money(Decimal(payload["outstanding"]), lang, doc.currency)}
    text = translate(lang, "Paid: invoice {number} from {contact} — {amount} received, {open} still open.", **values)
    return OutgoingMail(to=(company.email,), subject=translate(lang, "Paid: invoice {number} from {contact}", **values),
                        text=text + "\n", sender_name="Klerk")


def invoice_payments(session: Session, company_id: int, invoice_id: int) -> list[Payment]:
    """What came in for an invoice (and what went back), oldest first: for the invoice's detail screen."""
    return list(session.exec(select(Payment).where(
        Payment.company_id == company_id, Payment.document_id == invoice_id).order_by(Payment.id)))
