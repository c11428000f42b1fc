"""Drafts of quotes, invoices and credit notes: create, edit lines, read back as ``DocumentData``.

A draft follows the company and the contact live; once finalised (``core.invoices``) the parties
are frozen into snapshots, so a later change of address never alters a sent document.
"""
from __future__ import annotations

from dataclasses import asdict
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlmodel import Session, select

from core.companies import company_branding, company_party, get_company
from core.contacts import contact_party, get_contact, get_item
from core.document import DocumentData, DocumentKind, Line, Party, Reference, VatTreatment
from core.errors import ConflictError, NotFoundError, ValidationError
from core.fields import amount, apply_fields, choice, days, language, percent, text
from core.models import Company, Contact, Document, DocumentLine, DocumentStatus, utcnow
from core.vat import Totals, compute_totals

MAX_LINES = 500


def _date(value: Any, *, field: str) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ValidationError(field, "Not a date (YYYY-MM-DD): {value}", value=str(value)[:20]) from None


def _quantity(value: Any, *, field: str) -> Decimal:
    number = amount(value, field=field)
    if number == 0:
        raise ValidationError(field, "The quantity cannot be 0")
    return number


DRAFT_FIELDS = {
    "intro": text(2000), "outro": text(2000), "discount_percent": percent,
    "issue_date": _date, "delivery_date": _date, "term_days": days,
    "vat_treatment": lambda v, field: choice(VatTreatment)(v, field=field).value,
    "buyer_reference": text(200), "language": language, "payment_link": text(500),
}
LINE_FIELDS = {
    "description": text(2000), "quantity": _quantity, "unit": text(20), "unit_price": amount,
    "vat_rate": percent, "discount_percent": percent,
}


def create_draft(session: Session, company_id: int, kind: DocumentKind, contact_id: int, *,
                 today: date, lines: list[dict[str, Any]] | tuple = (), **fields: Any) -> Document:
    company = get_company(session, company_id)
    contact = get_contact(session, company_id, contact_id)
    quote = kind is DocumentKind.QUOTE
    doc = Document(
        company_id=company_id, kind=kind.value, contact_id=contact.id, issue_date=today,
        language=contact.language or company.language,
        vat_treatment=VatTreatment.KOR.value if company.kor else contact.vat_treatment,
        term_days=company.quote_valid_days if quote else (contact.payment_term_days or company.payment_term_days),
        intro=company.quote_intro if quote else company.invoice_intro,
        outro=company.quote_outro if quote else company.invoice_outro,
    )
    session.add(doc)
    update_draft(session, doc, **fields)
    for line in lines:
        add_line(session, doc, **line)
    return doc


def _require_draft(doc: Document) -> None:
    if doc.status != DocumentStatus.DRAFT:
        raise ConflictError(f"document {doc.id} is {doc.status}, not a draft")


def update_draft(session: Session, doc: Document, **fields: Any) -> Document:
    _require_draft(doc)
    contact_id = fields.pop("contact_id", None)
    cleaned = apply_fields(DRAFT_FIELDS, fields)
    if contact_id is not None:
        doc.contact_id = get_contact(session, doc.company_id, int(contact_id)).id
    for name, value in cleaned.items():
        setattr(doc, name, value)
    _set_dates(doc)
    doc.updated_at = utcnow()
    session.add(doc)
    session.flush()
    refresh_totals(session, doc)
    return doc


def _set_dates(doc: Document) -> None:
    if doc.issue_date is None:
        return
    end = doc.issue_date + timedelta(days=doc.term_days)
    if doc.kind == DocumentKind.QUOTE.value:
        doc.valid_until, doc.due_date = end, None
    else:
        doc.due_date, doc.valid_until = end, None


def add_line(session: Session, doc: Document, *, item_id: int | None = None, **fields: Any) -> DocumentLine:
    _require_draft(doc)
    values: dict[str, Any] = {"unit": "", "vat_rate": Decimal(21), "discount_percent": Decimal(0)}
    if item_id is not None:
        item = get_item(session, doc.company_id, item_id)
        values.update(description=item.description or item.name, unit=item.unit,
                      unit_price=item.unit_price, vat_rate=item.vat_rate, quantity=Decimal(1))
    values.update(apply_fields(LINE_FIELDS, fields))
    missing = [name for name in ("description", "quantity", "unit_price") if not str(values.get(name, "")).strip()]
    if missing:
        raise ValidationError(missing[0], "This field is required")
    existing = document_lines(session, doc)
    if len(existing) >= MAX_LINES:
        raise ValidationError("lines", "At most {count} lines", count=MAX_LINES)
    line = DocumentLine(document_id=doc.id, company_id=doc.company_id, item_id=item_id,
                        position=len(existing) + 1, **values)
    session.add(line)
    session.flush()
    refresh_totals(session, doc)
    return line


def update_line(session: Session, doc: Document, line_id: int, **fields: Any) -> DocumentLine:
    _require_draft(doc)
    line = _line(session, doc, line_id)
    for name, value in apply_fields(LINE_FIELDS, fields).items():
        setattr(line, name, value)
    session.add(line)
    session.flush()
    refresh_totals(session, doc)
    return line


def remove_line(session: Session, doc: Document, line_id: int) -> None:
    _require_draft(doc)
    session.delete(_line(session, doc, line_id))
    session.flush()
    for position, line in enumerate(document_lines(session, doc), start=1):
        line.position = position
        session.add(line)
    refresh_totals(session, doc)


def _line(session: Session, doc: Document, line_id: int) -> DocumentLine:
    line = session.get(DocumentLine, line_id)
    if line is None or line.document_id != doc.id or line.company_id != doc.company_id:
        raise NotFoundError(f"line {line_id}")
    return line


def get_document(session: Session, company_id: int, document_id: int, *, lock: bool = False) -> Document:
    stmt = select(Document).where(Document.id == document_id, Document.company_id == company_id)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    doc = session.exec(stmt).first()
    if doc is None:
        raise NotFoundError(f"document {document_id}")
    return doc


def document_lines(session: Session, doc: Document) -> list[DocumentLine]:
    return list(session.exec(select(DocumentLine).where(
        DocumentLine.document_id == doc.id, DocumentLine.company_id == doc.company_id,
    ).order_by(DocumentLine.position, DocumentLine.id)))


def _parties(session: Session, doc: Document) -> tuple[Company, Party, Party]:
    company = get_company(session, doc.company_id)
    if doc.seller_snapshot and doc.buyer_snapshot:
        return company, Party(**doc.seller_snapshot), Party(**doc.buyer_snapshot)
    contact: Contact = get_contact(session, doc.company_id, doc.contact_id)
    return company, company_party(company), contact_party(contact)


def freeze_parties(session: Session, doc: Document) -> None:
    """Copy the current seller and buyer details into the document (at finalisation)."""
    _, seller, buyer = _parties(session, doc)
    doc.seller_snapshot, doc.buyer_snapshot = asdict(seller), asdict(buyer)


def document_data(session: Session, doc: Document) -> DocumentData:
    company, seller, buyer = _parties(session, doc)
    original = quote_number = None
    if doc.original_id is not None:
        invoice = get_document(session, doc.company_id, doc.original_id)
        original = Reference(invoice.number or "", invoice.issue_date)
    if doc.quote_id is not None:
        quote_number = get_document(session, doc.company_id, doc.quote_id).number
    lines = tuple(Line(description=ln.description, quantity=ln.quantity, unit=ln.unit,
                       unit_price=ln.unit_price, vat_rate=ln.vat_rate,
                       discount_percent=ln.discount_percent) for ln in document_lines(session, doc))
    return DocumentData(
        kind=DocumentKind(doc.kind), number=doc.number, issue_date=doc.issue_date,
        delivery_date=doc.delivery_date, due_date=doc.due_date, valid_until=doc.valid_until,
        currency=doc.currency, language=doc.language, seller=seller, buyer=buyer, lines=lines,
        vat_treatment=VatTreatment(doc.vat_treatment), discount_percent=doc.discount_percent,
        intro=doc.intro, outro=doc.outro, original_invoice=original,
        quote_reference=quote_number or "", buyer_reference=doc.buyer_reference,
        payment_reference=doc.payment_reference, amount_paid=doc.amount_paid,
        payment_link=doc.payment_link, branding=company_branding(company),
    )


def refresh_totals(session: Session, doc: Document) -> Totals:
    totals = compute_totals(document_data(session, doc))
    doc.total_excl, doc.total_vat, doc.total_incl = totals.total_excl, totals.total_vat, totals.total_incl
    session.add(doc)
    session.flush()
    return totals


def list_documents(session: Session, company_id: int, kind: DocumentKind, *,
                   statuses: tuple[DocumentStatus, ...] = (), limit: int = 50) -> list[Document]:
    stmt = select(Document).where(Document.company_id == company_id, Document.kind == kind.value)
    if statuses:
        stmt = stmt.where(Document.status.in_([s.value for s in statuses]))
    return list(session.exec(stmt.order_by(Document.issue_date.desc(), Document.id.desc()).limit(limit)))
