"""Drafts as a chat makes them: from a parsed sentence (first a preview that is not stored, then
the real draft), lines typed one at a time, a standard item, a copy of an earlier document, a
customer field filled in while sending, and throwing a draft away.

The rules that decide things live here, not in the chat: which customer a name means, when a
standard item supplies a missing price, how a price including VAT becomes the price excluding VAT.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlmodel import Session

from core.contacts import (
    CONTACT_FIELDS,
    create_contact,
    find_contacts,
    find_items,
    get_contact,
    update_contact,
)
from core.document import DocumentKind, VatTreatment
from core.documents import (
    add_line,
    create_draft,
    document_lines,
    get_document,
    remove_line,
    update_draft,
    update_line,
)
from core.errors import ConflictError, ValidationError
from core.models import Document, DocumentStatus
from core.overview import DocumentSummary, summarize
from core.sentence import ParsedLine, ParsedSentence
from core.vat import effective_rate, rates_on

_FOURPLACES = Decimal("0.0001")


# ---- customers and items -----------------------------------------------------------------------

@dataclass(frozen=True)
class CustomerMatch:
    query: str
    contact_id: int | None                          # the one customer meant, when that is certain
    candidates: tuple[tuple[int, str], ...] = ()    # (id, name) when several fit; empty: none does


def match_customer(session: Session, company_id: int, query: str) -> CustomerMatch:
    """One contact when the name is exact or only one fits; several candidates to choose from;
    or none (a new customer)."""
    query = " ".join((query or "").split())[:200]
    if not query:
        return CustomerMatch(query, None)
    found = find_contacts(session, company_id, query, limit=8)
    exact = [c for c in found if c.name.casefold() == query.casefold()]
    if len(exact) == 1:
        return CustomerMatch(query, exact[0].id)
    if len(found) == 1:
        return CustomerMatch(query, found[0].id)
    return CustomerMatch(query, None, tuple((c.id, c.name) for c in found))


def fill_from_items(session: Session, company_id: int, parsed: ParsedSentence) -> ParsedSentence:
    """A line without a price takes price, unit and VAT rate from the standard item it names, when
    exactly one item fits (or one has exactly that name). Item prices are excluding VAT."""
    for index in parsed.missing_prices:
        line = parsed.lines[index]
        if not line.description:
            continue
        items = find_items(session, company_id, line.description, limit=5)
        exact = [i for i in items if i.name.casefold() == line.description.casefold()]
        item = exact[0] if len(exact) == 1 else items[0] if len(items) == 1 else None
        if item is not None:
            parsed = parsed.with_line(index, unit_price=item.unit_price, unit=line.unit or item.unit,
                                      vat_rate=line.vat_rate if line.vat_rate is not None else item.vat_rate,
                                      description=item.description or item.name, item_id=item.id)
    return parsed


def line_values(parsed: ParsedSentence, line: ParsedLine, *, treatment: str, today: date) -> dict[str, Any]:
    """The fields of a document line. A price typed including VAT is divided by (1 + rate),
    rounded half up to 4 decimals (what a line stores); an item's price is always excluding VAT."""
    if line.unit_price is None or not line.description:
        raise ValidationError("lines", "Every line needs a description and a price")
    rate = line.vat_rate if line.vat_rate is not None else parsed.vat_rate
    if rate is None:
        rate = max(rates_on(today))
    price = line.unit_price
    charged = effective_rate(VatTreatment(treatment), rate)
    if parsed.prices_include_vat and line.item_id is None and charged:
        price = (price * 100 / (100 + charged)).quantize(_FOURPLACES, rounding=ROUND_HALF_UP)
    return {"description": line.description, "quantity": line.quantity, "unit": line.unit,
            "unit_price": price, "vat_rate": rate}


def _settings(parsed: ParsedSentence) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if parsed.vat_treatment:
        fields["vat_treatment"] = parsed.vat_treatment
    if parsed.discount_percent is not None:
        fields["discount_percent"] = parsed.discount_percent
    if parsed.term_days is not None:
        fields["term_days"] = parsed.term_days
    return fields


# ---- from a sentence ---------------------------------------------------------------------------

def _build(session: Session, company_id: int, parsed: ParsedSentence, *, contact_id: int | None,
           email: str, today: date) -> Document:
    if not parsed.lines:
        raise ValidationError("lines", "Every line needs a description and a price")
    if contact_id is None:
        contact = create_contact(session, company_id, parsed.customer, email=email, language=parsed.language)
    else:
        contact = get_contact(session, company_id, contact_id)
    doc = create_draft(session, company_id, DocumentKind(parsed.kind or "invoice"), contact.id, today=today,
                       **_settings(parsed))
    for line in parsed.lines:
        add_line(session, doc, item_id=line.item_id,
                 **line_values(parsed, line, treatment=doc.vat_treatment, today=today))
    return doc


def preview_sentence(session: Session, company_id: int, parsed: ParsedSentence, *, contact_id: int | None,
                     today: date) -> DocumentSummary:
    """The draft the sentence would make, computed by the same code that makes it, then undone
    (a savepoint): nothing is stored, not even a new customer."""
    savepoint = session.begin_nested()
    try:
        doc = _build(session, company_id, parsed, contact_id=contact_id, email="", today=today)
        summary = summarize(session, doc, today=today, new_contact=contact_id is None)
    finally:
        savepoint.rollback()
    return replace(summary, id=None, contact_id=contact_id,
                   lines=tuple(replace(line, id=None) for line in summary.lines))


def draft_from_sentence(session: Session, company_id: int, parsed: ParsedSentence, *, contact_id: int | None,
                        today: date, email: str = "") -> Document:
    """The draft itself; a new customer (``contact_id=None``) is created with the sentence's name
    (and its language: a sentence in English makes a customer who gets English documents)."""
    return _build(session, company_id, parsed, contact_id=contact_id, email=email, today=today)


# ---- editing a draft ---------------------------------------------------------------------------

def add_parsed(session: Session, company_id: int, document_id: int, parsed: ParsedSentence, *,
               today: date) -> Document:
    """Add typed lines (and a discount, VAT treatment or term typed with them) to a draft."""
    doc = get_document(session, company_id, document_id, lock=True)
    settings = _settings(parsed)
    if settings:
        update_draft(session, doc, **settings)
    for line in parsed.lines:
        add_line(session, doc, item_id=line.item_id,
                 **line_values(parsed, line, treatment=doc.vat_treatment, today=today))
    return doc


def add_item(session: Session, company_id: int, document_id: int, item_id: int, *,
             quantity: Decimal | str = Decimal(1)) -> Document:
    doc = get_document(session, company_id, document_id, lock=True)
    add_line(session, doc, item_id=item_id, quantity=quantity)
    return doc


def edit_draft(session: Session, company_id: int, document_id: int, **fields: Any) -> Document:
    """Change draft fields (``contact_id``, texts, discount, dates, term, VAT treatment)."""
    return update_draft(session, get_document(session, company_id, document_id, lock=True), **fields)


def edit_line(session: Session, company_id: int, document_id: int, line_id: int, parsed: ParsedSentence, *,
              today: date) -> Document:
    """Replace one line by the single line typed in its place."""
    if len(parsed.lines) != 1:
        raise ValidationError("lines", "Type one line, e.g. 8 uur advies à 75")
    doc = get_document(session, company_id, document_id, lock=True)
    update_line(session, doc, line_id, **line_values(parsed, parsed.lines[0], treatment=doc.vat_treatment,
                                                      today=today))
    return doc


def remove_draft_line(session: Session, company_id: int, document_id: int, line_id: int) -> Document:
    doc = get_document(session, company_id, document_id, lock=True)
    remove_line(session, doc, line_id)
    return doc


def delete_draft(session: Session, company_id: int, document_id: int) -> None:
    """A draft never had a number, so it may go without a trace; anything sent stays."""
    doc = get_document(session, company_id, document_id, lock=True)
    if DocumentStatus(doc.status) is not DocumentStatus.DRAFT or doc.number:
        raise ConflictError(f"document {document_id} is not a draft")
    for line in document_lines(session, doc):
        session.delete(line)
    session.flush()
    session.delete(doc)
    session.flush()


def duplicate_document(session: Session, company_id: int, document_id: int, *, today: date) -> Document:
    """A new draft for the same customer with the same lines, discount, VAT treatment and texts."""
    source = get_document(session, company_id, document_id)
    if source.kind not in (DocumentKind.INVOICE.value, DocumentKind.QUOTE.value):
        raise ConflictError("only invoices and quotes are duplicated")
    doc = create_draft(session, company_id, DocumentKind(source.kind), source.contact_id, today=today,
                       vat_treatment=source.vat_treatment, discount_percent=source.discount_percent,
                       intro=source.intro, outro=source.outro, language=source.language)
    for line in document_lines(session, source):
        add_line(session, doc, item_id=line.item_id, description=line.description, quantity=line.quantity,
                 unit=line.unit, unit_price=line.unit_price, vat_rate=line.vat_rate,
                 discount_percent=line.discount_percent)
    return doc


# ---- the customer of a document ----------------------------------------------------------------

CUSTOMER_FIELDS = ("street", "postcode", "city", "country", "email", "vat_id", "kvk")


def update_document_customer(session: Session, company_id: int, document_id: int, field: str,
                             value: str) -> None:
    """Fill in one field of the document's customer (asked for while sending)."""
    if field not in CUSTOMER_FIELDS or field not in CONTACT_FIELDS:
        raise ValidationError(field, "Unknown field")
    doc = get_document(session, company_id, document_id)
    contact = get_contact(session, company_id, doc.contact_id)
    update_contact(session, contact, **{field: value})
