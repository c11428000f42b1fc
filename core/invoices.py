"""Finalising (numbering), payments, credit notes, and the quote lifecycle.

Lifecycles (``TRANSITIONS``):
  quote        draft -> sent -> accepted | declined | expired ;  accepted -> invoiced
  invoice      draft -> sent -> partially_paid -> paid ;  sent | partially_paid -> credited
  credit note  draft -> sent
"overdue" is derived (sent or partially paid, due date passed), never stored.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlmodel import Session, select

from core.compliance import Finding, check_document, has_blocking
from core.companies import get_company
from core.document import DocumentKind
from core.documents import (add_line, create_draft, document_data, document_lines, freeze_parties,
                            get_document, refresh_totals, update_draft)
from core.errors import ConflictError, ValidationError
from core.models import Document, DocumentStatus
from core.money import ZERO, round_money
from core.numbering import counter_year, format_number
from core.sequences import next_seq

S = DocumentStatus
TRANSITIONS: dict[tuple[str, str], tuple[S, ...]] = {
    ("quote", "accept"): (S.SENT,), ("quote", "decline"): (S.SENT,), ("quote", "expire"): (S.SENT,),
    ("quote", "invoice"): (S.ACCEPTED,),
    ("invoice", "pay"): (S.SENT, S.PARTIALLY_PAID), ("invoice", "credit"): (S.SENT, S.PARTIALLY_PAID, S.PAID),
}


class NotReadyError(ValidationError):
    """The compliance check blocks sending; ``findings`` says what to fix."""

    def __init__(self, findings: list[Finding]) -> None:
        self.findings = findings
        first = next(f for f in findings if f.blocking)
        super().__init__(first.field, first.message, **first.params)


def _require(doc: Document, action: str) -> None:
    allowed = TRANSITIONS[(doc.kind, action)]
    if doc.status not in allowed:
        raise ConflictError(f"cannot {action} a {doc.kind} that is {doc.status}")


def check_draft(session: Session, doc: Document) -> list[Finding]:
    return check_document(document_data(session, doc))


def finalise_document(session: Session, company_id: int, document_id: int, *, today: date,
                      now: datetime) -> Document:
    """Give a draft its number and freeze it (status ``sent``). Runs the compliance check first.

    Call it in the transaction that also records the sending: if that fails, the number is not used.
    """
    doc = get_document(session, company_id, document_id, lock=True)
    if doc.status != S.DRAFT:
        raise ConflictError(f"document {document_id} is already {doc.status}")
    if doc.issue_date != today:
        update_draft(session, doc, issue_date=today)
    freeze_parties(session, doc)
    findings = check_document(document_data(session, doc))
    if has_blocking(findings):
        raise NotReadyError(findings)
    company = get_company(session, company_id)
    pattern = {"invoice": company.pattern_invoice, "quote": company.pattern_quote,
               "credit_note": company.pattern_credit_note}[doc.kind]
    seq = next_seq(session, company_id, doc.kind, counter_year(pattern, today.year))
    doc.number = format_number(pattern, year=today.year, seq=seq)
    doc.payment_reference = doc.payment_reference or doc.number
    doc.status, doc.sent_at, doc.updated_at = S.SENT, now, now
    refresh_totals(session, doc)
    if doc.kind == DocumentKind.CREDIT_NOTE.value and doc.original_id is not None:
        _apply_credit(session, doc)
    session.add(doc)
    session.flush()
    return doc


def is_overdue(doc: Document, today: date) -> bool:
    return (doc.kind == DocumentKind.INVOICE.value and doc.status in (S.SENT, S.PARTIALLY_PAID)
            and doc.due_date is not None and doc.due_date < today)


def outstanding(doc: Document) -> Decimal:
    return round_money(doc.total_incl - doc.amount_paid)


def record_payment(session: Session, company_id: int, invoice_id: int, amount: Decimal, *,
                   now: datetime) -> Document:
    """Book a received amount on an invoice: partially paid, or paid when nothing is left."""
    doc = get_document(session, company_id, invoice_id, lock=True)
    if doc.kind != DocumentKind.INVOICE.value:
        raise ConflictError("only invoices are paid")
    _require(doc, "pay")
    amount = round_money(amount)
    if amount <= ZERO:
        raise ValidationError("amount", "A payment is more than € 0,00")
    doc.amount_paid = round_money(doc.amount_paid + amount)
    doc.status = S.PAID if doc.amount_paid >= doc.total_incl else S.PARTIALLY_PAID
    doc.updated_at = now
    session.add(doc)
    session.flush()
    return doc


# ---- credit notes -------------------------------------------------------------------------

def create_credit_note(session: Session, company_id: int, invoice_id: int, *, today: date,
                       lines: list[dict] | None = None) -> Document:
    """A draft credit note for an invoice: all its lines (a full credit) unless ``lines`` are given."""
    invoice = get_document(session, company_id, invoice_id)
    if invoice.kind != DocumentKind.INVOICE.value:
        raise ConflictError("only an invoice can be credited")
    _require(invoice, "credit")
    if lines is None:
        lines = [_copy_line(line) for line in document_lines(session, invoice)]
    note = create_draft(session, company_id, DocumentKind.CREDIT_NOTE, invoice.contact_id, today=today,
                        vat_treatment=invoice.vat_treatment, discount_percent=invoice.discount_percent,
                        language=invoice.language, buyer_reference=invoice.buyer_reference, intro="", outro="")
    note.original_id = invoice.id
    note.term_days = 0
    for line in lines:
        add_line(session, note, **line)
    return note


def _apply_credit(session: Session, note: Document) -> None:
    invoice = get_document(session, note.company_id, note.original_id, lock=True)
    credited = sum((d.total_incl for d in session.exec(select(Document).where(
        Document.company_id == note.company_id, Document.original_id == invoice.id,
        Document.status == S.SENT))), ZERO)
    if credited > invoice.total_incl:
        raise ValidationError("lines", "The credit notes together exceed the invoice total")
    if credited == invoice.total_incl:
        invoice.status = S.CREDITED
        session.add(invoice)


def _copy_line(line) -> dict:  # type: ignore[no-untyped-def]
    return {"description": line.description, "quantity": line.quantity, "unit": line.unit,
            "unit_price": line.unit_price, "vat_rate": line.vat_rate,
            "discount_percent": line.discount_percent}


# ---- quotes -------------------------------------------------------------------------------

def set_quote_outcome(session: Session, company_id: int, quote_id: int, action: str, *,
                      now: datetime) -> Document:
    """``action`` is accept, decline or expire."""
    quote = get_document(session, company_id, quote_id, lock=True)
    if quote.kind != DocumentKind.QUOTE.value:
        raise ConflictError("not a quote")
    _require(quote, action)
    quote.status = {"accept": S.ACCEPTED, "decline": S.DECLINED, "expire": S.EXPIRED}[action]
    quote.updated_at = now
    session.add(quote)
    session.flush()
    return quote


def expire_quotes(session: Session, company_id: int, *, today: date, now: datetime) -> list[Document]:
    """Mark sent quotes past their valid-until date as expired."""
    stale = list(session.exec(select(Document).where(
        Document.company_id == company_id, Document.kind == DocumentKind.QUOTE.value,
        Document.status == S.SENT, Document.valid_until < today)))
    return [set_quote_outcome(session, company_id, q.id, "expire", now=now) for q in stale]


def invoice_from_quote(session: Session, company_id: int, quote_id: int, *, today: date,
                       now: datetime) -> Document:
    """An invoice draft with everything of an accepted quote; the quote becomes ``invoiced``."""
    quote = get_document(session, company_id, quote_id, lock=True)
    if quote.kind != DocumentKind.QUOTE.value:
        raise ConflictError("not a quote")
    _require(quote, "invoice")
    invoice = create_draft(session, company_id, DocumentKind.INVOICE, quote.contact_id, today=today,
                           vat_treatment=quote.vat_treatment, discount_percent=quote.discount_percent,
                           language=quote.language, buyer_reference=quote.buyer_reference,
                           delivery_date=quote.delivery_date)
    invoice.quote_id = quote.id
    for line in document_lines(session, quote):
        add_line(session, invoice, item_id=None, **_copy_line(line))
    quote.status, quote.updated_at = S.INVOICED, now
    session.add(quote)
    session.flush()
    return invoice
