"""Bank statements in the books: import (idempotent), auto-book sure matches, one-tap assignment of
the rest, and debits that still lack a receipt.

The receipts live in ``core/inbox`` (another module, being written). ``missing_receipts`` takes the
question "does this debit have a receipt?" as a callable so that module can answer it later;
until then ``no_receipts_yet`` says no to every debit.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from collections.abc import Callable

import sqlalchemy as sa
from sqlmodel import Session, select

from core.document import DocumentKind
from core.documents import get_document
from core.errors import ConflictError, NotFoundError
from core.invoices import outstanding
from core.models import Contact, Document, DocumentStatus
from core.payments.booking import Booking, Received, apply_payment
from core.payments.matching import Candidate, Credit, OpenInvoice, rank, sure_match
from core.payments.models import BankTransaction
from core.payments.statements import Statement, StatementLine, parse_statement

log = logging.getLogger(__name__)
S = DocumentStatus
ReceiptCheck = Callable[[Session, BankTransaction], bool]


@dataclass
class ImportResult:
    format: str = ""
    statements: int = 0
    new: int = 0
    duplicates: int = 0
    booked: list[tuple[int, int]] = field(default_factory=list)        # (transaction id, invoice id)
    to_assign: list[int] = field(default_factory=list)                 # credit transaction ids
    debits: int = 0
    other_accounts: list[str] = field(default_factory=list)            # accounts that are not the company's


@dataclass(frozen=True)
class CreditSuggestion:
    transaction: BankTransaction
    candidates: list[Candidate]


def import_statement(session: Session, company_id: int, data: bytes, *, now: datetime) -> ImportResult:
    """Store a CAMT.053 or MT940 file's lines once each and book the credits that surely belong to an
    open invoice (with the "paid" notification). Importing the same file again changes nothing."""
    statements = parse_statement(data)           # StatementError (a ValidationError) when unreadable
    result = ImportResult(format=statements[0].format if statements else "", statements=len(statements))
    company_iban = _company_iban(session, company_id)
    new_rows: list[BankTransaction] = []
    for statement in statements:
        if statement.account and company_iban and statement.account != company_iban \
                and statement.account not in result.other_accounts:
            result.other_accounts.append(statement.account)
        for line in statement.lines:
            row = _store(session, company_id, statement, line, now)
            if row is None:
                result.duplicates += 1
            else:
                result.new += 1
                new_rows.append(row)
    invoices = open_invoices(session, company_id)
    for row in new_rows:
        if row.direction == "debit":
            result.debits += 1
            continue
        if row.currency != "EUR":
            result.to_assign.append(row.id)
            continue
        best = sure_match(rank(_credit(row), invoices))
        if best is None:
            result.to_assign.append(row.id)
            continue
        booking = _book(session, company_id, row, best.invoice_id, best.confidence, now)
        if booking.unapplied:
            result.to_assign.append(row.id)
        else:
            result.booked.append((row.id, best.invoice_id))
            invoices = open_invoices(session, company_id)
    return result


def _company_iban(session: Session, company_id: int) -> str:
    from core.companies import get_company

    return get_company(session, company_id).iban


def _store(session: Session, company_id: int, statement: Statement, line: StatementLine,
           now: datetime) -> BankTransaction | None:
    exists = session.exec(select(BankTransaction.id).where(
        BankTransaction.company_id == company_id, BankTransaction.fingerprint == line.fingerprint)).first()
    if exists is not None:
        return None
    row = BankTransaction(
        company_id=company_id, fingerprint=line.fingerprint, source_format=statement.format,
        account=line.account[:40], booking_date=line.booking_date, value_date=line.value_date,
        direction=line.direction, amount=line.amount, currency=line.currency[:3],
        counterparty_name=line.counterparty_name, counterparty_iban=line.counterparty_iban,
        remittance=line.remittance, end_to_end_id=line.end_to_end_id, bank_reference=line.bank_reference,
        imported_at=now)
    try:
        with session.begin_nested():
            session.add(row)
    except sa.exc.IntegrityError:            # a concurrent import stored it first
        return None
    return row


def open_invoices(session: Session, company_id: int) -> list[OpenInvoice]:
    rows = session.exec(select(Document, Contact).join(Contact, Contact.id == Document.contact_id).where(
        Document.company_id == company_id, Document.kind == DocumentKind.INVOICE.value,
        Document.status.in_((S.SENT.value, S.PARTIALLY_PAID.value))).order_by(Document.id))
    return [OpenInvoice(doc.id, doc.number or "", doc.payment_reference, outstanding(doc), doc.total_incl,
                        contact.name, contact.iban) for doc, contact in rows]


def _credit(row: BankTransaction) -> Credit:
    return Credit(row.amount, row.remittance, row.counterparty_iban, row.counterparty_name)


def _book(session: Session, company_id: int, row: BankTransaction, invoice_id: int, confidence: Decimal,
          now: datetime) -> Booking:
    received = Received(source="bank", provider_payment_id=f"bank:{row.id}", amount=row.amount, net=row.amount,
                        method="transfer", currency=row.currency, payer_name=row.counterparty_name,
                        payer_iban=row.counterparty_iban, received_on=row.booking_date)
    booking = apply_payment(session, company_id, invoice_id, received, now=now)
    if not booking.unapplied:
        row.status, row.document_id, row.confidence = "booked", invoice_id, confidence
        session.add(row)
        session.flush()
    return booking


def _transaction(session: Session, company_id: int, transaction_id: int) -> BankTransaction:
    row = session.exec(select(BankTransaction).where(
        BankTransaction.id == transaction_id, BankTransaction.company_id == company_id)).first()
    if row is None:
        raise NotFoundError(f"bank transaction {transaction_id}")
    return row


def assign_transaction(session: Session, company_id: int, transaction_id: int, invoice_id: int, *,
                       now: datetime) -> Booking:
    """The owner's one tap "this is invoice …": book the credit on that invoice."""
    row = _transaction(session, company_id, transaction_id)
    if row.direction != "credit":
        raise ConflictError("only money received can pay an invoice")
    if row.status != "unmatched":
        raise ConflictError(f"transaction {transaction_id} is already {row.status}")
    doc = get_document(session, company_id, invoice_id)
    if doc.kind != DocumentKind.INVOICE.value or doc.status not in (S.SENT, S.PARTIALLY_PAID):
        raise ConflictError(f"invoice {invoice_id} takes no payment (it is {doc.status})")
    return _book(session, company_id, row, invoice_id, Decimal("1.00"), now)


def dismiss_transaction(session: Session, company_id: int, transaction_id: int) -> BankTransaction:
    """Not an invoice payment / needs no receipt (private, tax, a transfer between own accounts)."""
    row = _transaction(session, company_id, transaction_id)
    if row.status == "booked":
        raise ConflictError(f"transaction {transaction_id} is booked on an invoice")
    row.status = "ignored"
    session.add(row)
    session.flush()
    return row


def unmatched_credits(session: Session, company_id: int, *, limit: int = 20) -> list[CreditSuggestion]:
    """Credits still to be assigned, newest first, each with its likeliest invoices."""
    rows = session.exec(select(BankTransaction).where(
        BankTransaction.company_id == company_id, BankTransaction.direction == "credit",
        BankTransaction.status == "unmatched").order_by(BankTransaction.booking_date.desc(),
                                                        BankTransaction.id.desc()).limit(limit))
    invoices = open_invoices(session, company_id)
    return [CreditSuggestion(row, rank(_credit(row), invoices)) for row in rows]


def no_receipts_yet(session: Session, transaction: BankTransaction) -> bool:
    """Stand-in until core/inbox can answer: no debit has a receipt."""
    return False


def missing_receipts(session: Session, company_id: int, *, has_receipt: ReceiptCheck = no_receipts_yet,
                     since: date | None = None, limit: int = 100) -> list[BankTransaction]:
    """Debits (money spent) for which ``has_receipt`` finds no receipt, newest first."""
    stmt = select(BankTransaction).where(
        BankTransaction.company_id == company_id, BankTransaction.direction == "debit",
        BankTransaction.status != "ignored")
    if since is not None:
        stmt = stmt.where(BankTransaction.booking_date >= since)
    rows = session.exec(stmt.order_by(BankTransaction.booking_date.desc(), BankTransaction.id.desc()))
    out = []
    for row in rows:
        if not has_receipt(session, row):
            out.append(row)
            if len(out) >= limit:
                break
    return out

