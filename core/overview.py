"""Lists of quotes and invoices with their totals, and the summary of one document with the actions
its state allows. Reads only (money figures over time live in ``core.payments.figures``).

Sections of the invoice overview: ``overdue`` and ``open`` (sent or partially paid; the total is
what is still outstanding), ``paid`` (this calendar year, by issue date) and ``draft`` (invoices and
credit notes not sent yet). Of the quote overview: ``draft``, ``open`` (sent), ``accepted`` (to be
invoiced) and ``closed`` (declined, expired or invoiced, this calendar year).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Session

from core.compliance import Finding, check_document
from core.contacts import get_contact
from core.document import DocumentData, DocumentKind
from core.documents import document_data, document_lines, get_document
from core.invoices import TRANSITIONS, is_overdue, outstanding
from core.models import Contact, Document, DocumentStatus
from core.money import ZERO
from core.vat import Totals, compute_totals

S = DocumentStatus
SECTION_LIMIT = 10


@dataclass(frozen=True)
class DocumentRow:
    id: int
    kind: str
    status: str
    number: str | None
    contact_name: str
    issue_date: date | None
    due_date: date | None
    valid_until: date | None
    total_incl: Decimal
    outstanding: Decimal
    overdue: bool
    delivery: str


@dataclass(frozen=True)
class Section:
    key: str                      # overdue | open | paid | draft | accepted | closed
    count: int
    total: Decimal                # outstanding for open/overdue, else the total incl. VAT
    rows: tuple[DocumentRow, ...]  # the newest SECTION_LIMIT


@dataclass(frozen=True)
class Overview:
    kind: str
    sections: tuple[Section, ...]

    def section(self, key: str) -> Section:
        return next(s for s in self.sections if s.key == key)


# The columns a list shows, and nothing else: no ORM entities (no JSON snapshots to decode, no
# identity map), one query per overview. The row's attribute names are the Document's, so the
# lifecycle rules (``is_overdue``, ``outstanding``) apply to it unchanged.
_COLUMNS = (Document.id, Document.kind, Document.status, Document.number, Contact.name.label("contact_name"),
            Document.issue_date, Document.due_date, Document.valid_until, Document.total_incl,
            Document.amount_paid, Document.delivery)


def _in_year(year: int) -> sa.ColumnElement[bool]:
    return sa.and_(Document.issue_date >= date(year, 1, 1), Document.issue_date <= date(year, 12, 31))


def _statuses(*statuses: S) -> sa.ColumnElement[bool]:
    return Document.status.in_([s.value for s in statuses])


def _rows(session: Session, company_id: int, kinds: tuple[str, ...], wanted: sa.ColumnElement[bool],
          today: date) -> list[DocumentRow]:
    """The company's documents of ``kinds`` that match ``wanted``, newest first."""
    stmt = (sa.select(*_COLUMNS).join(Contact, Contact.id == Document.contact_id)
            .where(Document.company_id == company_id, Document.kind.in_(kinds), wanted)
            .order_by(Document.issue_date.desc(), Document.id.desc()))
    return [DocumentRow(id=r.id, kind=r.kind, status=S(r.status).value, number=r.number, contact_name=r.contact_name,
                        issue_date=r.issue_date, due_date=r.due_date, valid_until=r.valid_until,
                        total_incl=r.total_incl, outstanding=outstanding(r), overdue=is_overdue(r, today),
                        delivery=r.delivery)
            for r in session.execute(stmt)]


def _section(key: str, rows: list[DocumentRow], *, by_outstanding: bool = False) -> Section:
    total = sum(((r.outstanding if by_outstanding else r.total_incl) for r in rows), ZERO)
    return Section(key=key, count=len(rows), total=total, rows=tuple(rows[:SECTION_LIMIT]))


def _having(rows: list[DocumentRow], *statuses: S, kind: str | None = None) -> list[DocumentRow]:
    values = {s.value for s in statuses}
    return [r for r in rows if r.status in values and (kind is None or r.kind == kind)]


def invoice_overview(session: Session, company_id: int, *, today: date) -> Overview:
    invoice = Document.kind == "invoice"
    rows = _rows(session, company_id, ("invoice", "credit_note"), sa.or_(
        sa.and_(invoice, _statuses(S.SENT, S.PARTIALLY_PAID)),
        sa.and_(invoice, _statuses(S.PAID), _in_year(today.year)),
        _statuses(S.DRAFT)), today)
    unpaid = _having(rows, S.SENT, S.PARTIALLY_PAID, kind="invoice")
    overdue = sorted((r for r in unpaid if r.overdue), key=lambda r: (r.due_date, r.id))
    return Overview(kind="invoice", sections=(
        _section("overdue", overdue, by_outstanding=True),
        _section("open", [r for r in unpaid if not r.overdue], by_outstanding=True),
        _section("paid", _having(rows, S.PAID, kind="invoice")),
        _section("draft", _having(rows, S.DRAFT)),
    ))


def quote_overview(session: Session, company_id: int, *, today: date) -> Overview:
    closed = (S.DECLINED, S.EXPIRED, S.INVOICED)
    rows = _rows(session, company_id, ("quote",), sa.or_(
        _statuses(S.DRAFT, S.SENT, S.ACCEPTED), sa.and_(_statuses(*closed), _in_year(today.year))), today)
    return Overview(kind="quote", sections=(
        _section("draft", _having(rows, S.DRAFT)),
        _section("open", _having(rows, S.SENT)),
        _section("accepted", _having(rows, S.ACCEPTED)),
        _section("closed", _having(rows, *closed)),
    ))


# ---- one document ------------------------------------------------------------------------------

@dataclass(frozen=True)
class SummaryLine:
    id: int | None
    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    vat_rate: Decimal
    net: Decimal


@dataclass(frozen=True)
class DocumentSummary:
    """Everything a chat card shows about one document, computed by core."""

    id: int | None                 # None: a preview that is not stored
    kind: str
    status: str
    number: str | None
    contact_id: int | None
    contact_name: str
    contact_email: str
    new_contact: bool              # a preview for a customer that will be created
    language: str
    issue_date: date | None
    delivery_date: date | None
    due_date: date | None
    valid_until: date | None
    term_days: int
    vat_treatment: str
    discount_percent: Decimal
    intro: str
    outro: str
    lines: tuple[SummaryLine, ...]
    totals: Totals
    amount_paid: Decimal
    outstanding: Decimal
    overdue: bool
    delivery: str
    delivery_error: str
    sent_at: datetime | None
    reference: str                 # the quote an invoice came from, or the invoice a credit note corrects
    blocking: tuple[Finding, ...]  # what stops a draft from being sent
    actions: tuple[str, ...]


def actions_for(doc: Document, today: date) -> tuple[str, ...]:
    """What may be done with a document in its state; the chat shows these as buttons."""
    status, kind = S(doc.status), doc.kind
    if status is S.DRAFT:
        return ("send", "send_chat", "edit", "preview", "delete")
    out: list[str] = ["pdf"]
    if kind == "quote":
        out += [a for a in ("accept", "decline", "expire", "invoice") if status in TRANSITIONS[("quote", a)]]
    if kind == "invoice":
        if status in TRANSITIONS[("invoice", "pay")]:
            out.append("pay")
        if status in TRANSITIONS[("invoice", "credit")]:
            out.append("credit")
    if status in (S.SENT, S.PARTIALLY_PAID):
        out.append("resend")
    if kind in ("invoice", "quote"):
        out.append("duplicate")
    return tuple(out)


def summarize(session: Session, doc: Document, *, today: date, contact: Contact | None = None,
              new_contact: bool = False) -> DocumentSummary:
    data: DocumentData = document_data(session, doc)
    totals = compute_totals(data)
    contact = contact or get_contact(session, doc.company_id, doc.contact_id)
    nets = totals.line_nets
    lines = tuple(SummaryLine(id=ln.id, description=ln.description, quantity=ln.quantity, unit=ln.unit,
                              unit_price=ln.unit_price, vat_rate=ln.vat_rate, net=net)
                  for ln, net in zip(document_lines(session, doc), nets))
    draft = S(doc.status) is S.DRAFT
    blocking = tuple(f for f in check_document(data) if f.blocking) if draft else ()
    reference = data.quote_reference or (data.original_invoice.number if data.original_invoice else "")
    return DocumentSummary(
        id=doc.id, kind=doc.kind, status=S(doc.status).value, number=doc.number, contact_id=contact.id,
        contact_name=contact.name, contact_email=contact.email, new_contact=new_contact,
        language=doc.language, issue_date=doc.issue_date, delivery_date=doc.delivery_date,
        due_date=doc.due_date, valid_until=doc.valid_until, term_days=doc.term_days,
        vat_treatment=doc.vat_treatment, discount_percent=doc.discount_percent, intro=doc.intro,
        outro=doc.outro, lines=lines, totals=totals, amount_paid=doc.amount_paid,
        outstanding=outstanding(doc) if doc.kind == DocumentKind.INVOICE.value else ZERO,
        overdue=is_overdue(doc, today), delivery=doc.delivery, delivery_error=doc.delivery_error,
        sent_at=doc.sent_at, reference=reference, blocking=blocking, actions=actions_for(doc, today))


def document_summary(session: Session, company_id: int, document_id: int, *, today: date) -> DocumentSummary:
    return summarize(session, get_document(session, company_id, document_id), today=today)
