"""core.overview: the sections of the invoice and quote overviews with their totals, and the actions
one document allows in each state."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from core.document import DocumentKind
from core.documents import create_draft
from core.invoices import (
    create_credit_note,
    finalise_document,
    record_payment,
    set_quote_outcome,
)
from core.overview import (
    actions_for,
    document_summary,
    invoice_overview,
    quote_overview,
)
from tests.conftest import NOW, TODAY

D = Decimal
LINES = [{"description": "Advies", "quantity": "8", "unit_price": "75", "vat_rate": "21"}]   # 726.00


def _invoice(session, company, contact, *, days_ago: int = 0, term: int = 14, send: bool = True):  # type: ignore[no-untyped-def]
    day = TODAY - timedelta(days=days_ago)
    doc = create_draft(session, company.id, DocumentKind.INVOICE, contact.id, today=day, lines=LINES, term_days=term)
    if send:
        finalise_document(session, company.id, doc.id, today=day, now=NOW)
    return doc


def test_invoice_sections_and_totals(session, make_company, make_contact) -> None:  # type: ignore[no-untyped-def]
    company = make_company()
    contact = make_contact(company)
    late = _invoice(session, company, contact, days_ago=20)
    later = _invoice(session, company, contact, days_ago=30)
    part = _invoice(session, company, contact, days_ago=2)
    record_payment(session, company.id, part.id, D("26.00"), now=NOW)
    paid = _invoice(session, company, contact, days_ago=1)
    record_payment(session, company.id, paid.id, D("726.00"), now=NOW)
    draft = _invoice(session, company, contact, send=False)
    overview = invoice_overview(session, company.id, today=TODAY)
    overdue, open_, paid_s, drafts = overview.sections
    assert [r.id for r in overdue.rows] == [later.id, late.id] and overdue.total == D("1452.00")
    assert [r.id for r in open_.rows] == [part.id] and open_.total == D("700.00") and open_.count == 1
    assert paid_s.count == 1 and paid_s.total == D("726.00")
    assert [r.id for r in drafts.rows] == [draft.id] and drafts.rows[0].number is None
    assert all(r.overdue for r in overdue.rows) and not open_.rows[0].overdue
    # thirteen days later the partly paid one (due in twelve) is overdue too
    assert invoice_overview(session, company.id, today=TODAY + timedelta(days=13)).section("overdue").count == 3


def test_other_companies_never_show(session, make_company, make_contact) -> None:  # type: ignore[no-untyped-def]
    mine, theirs = make_company("Mine"), make_company("Theirs")
    _invoice(session, theirs, make_contact(theirs))
    assert all(s.count == 0 for s in invoice_overview(session, mine.id, today=TODAY).sections)


def test_quote_sections(session, make_company, make_contact) -> None:  # type: ignore[no-untyped-def]
    company = make_company()
    contact = make_contact(company)
    quotes = [create_draft(session, company.id, DocumentKind.QUOTE, contact.id, today=TODAY, lines=LINES)
              for _ in range(4)]
    for q in quotes[1:]:
        finalise_document(session, company.id, q.id, today=TODAY, now=NOW)
    set_quote_outcome(session, company.id, quotes[2].id, "accept", now=NOW)
    set_quote_outcome(session, company.id, quotes[3].id, "decline", now=NOW)
    overview = quote_overview(session, company.id, today=TODAY)
    assert [(s.key, s.count) for s in overview.sections] == [("draft", 1), ("open", 1), ("accepted", 1), ("closed", 1)]
    assert overview.section("accepted").total == D("726.00")


def test_actions_follow_the_state(session, make_company, make_contact) -> None:  # type: ignore[no-untyped-def]
    company = make_company()
    contact = make_contact(company)
    invoice = _invoice(session, company, contact, send=False)
    assert actions_for(invoice, TODAY) == ("send", "send_chat", "edit", "preview", "delete")
    finalise_document(session, company.id, invoice.id, today=TODAY, now=NOW)
    assert actions_for(invoice, TODAY) == ("pdf", "pay", "credit", "resend", "duplicate")
    record_payment(session, company.id, invoice.id, D("726"), now=NOW)
    assert actions_for(invoice, TODAY) == ("pdf", "credit", "duplicate")
    note = create_credit_note(session, company.id, invoice.id, today=TODAY)
    finalise_document(session, company.id, note.id, today=TODAY, now=NOW)
    assert actions_for(note, TODAY) == ("pdf", "resend")
    quote = create_draft(session, company.id, DocumentKind.QUOTE, contact.id, today=TODAY, lines=LINES)
    finalise_document(session, company.id, quote.id, today=TODAY, now=NOW)
    assert actions_for(quote, TODAY) == ("pdf", "accept", "decline", "expire", "resend", "duplicate")
    set_quote_outcome(session, company.id, quote.id, "accept", now=NOW)
    assert actions_for(quote, TODAY) == ("pdf", "invoice", "duplicate")


def test_summary_of_a_sent_invoice(session, make_company, make_contact) -> None:  # type: ignore[no-untyped-def]
    company = make_company()
    contact = make_contact(company)
    invoice = _invoice(session, company, contact, days_ago=20)
    record_payment(session, company.id, invoice.id, D("100"), now=NOW)
    s = document_summary(session, company.id, invoice.id, today=TODAY)
    assert (s.number, s.status, s.overdue, s.outstanding, s.blocking) == ("2026-0001", "partially_paid", True, D("626.00"), ())
    assert [(ln.description, ln.net) for ln in s.lines] == [("Advies", D("600.00"))]
    assert s.totals.total_vat == D("126.00") and s.contact_name == contact.name
