"""Document lifecycles on the real database: quote -> invoice, payments, credit notes, isolation."""
from __future__ import annotations

from decimal import Decimal

import pytest

from core.companies import update_company
from core.contacts import create_item, find_contacts
from core.document import DocumentKind, VatTreatment
from core.documents import add_line, create_draft, document_data, get_document, update_draft
from core.errors import ConflictError, NotFoundError, ValidationError
from core.invoices import (NotReadyError, create_credit_note, expire_quotes, finalise_document,
                           invoice_from_quote, is_overdue, record_payment, set_quote_outcome)
from core.vat import compute_totals
from tests.conftest import NOW, TODAY

D = Decimal
LINES = [
    {"description": "Advies", "quantity": "8", "unit": "uur", "unit_price": "75", "vat_rate": "21"},
    {"description": "Boekjes", "quantity": "3", "unit": "stuk", "unit_price": "12,35", "vat_rate": "9"},
]


def test_invoice_totals_are_stored_and_match_the_document(session, make_company, make_contact) -> None:  # type: ignore[no-untyped-def]
    company = make_company()
    contact = make_contact(company)
    doc = create_draft(session, company.id, DocumentKind.INVOICE, contact.id, today=TODAY, lines=LINES,
                       discount_percent="5")
    totals = compute_totals(document_data(session, doc))
    assert (doc.total_excl, doc.total_vat, doc.total_incl) == (totals.total_excl, totals.total_vat, totals.total_incl)
    assert doc.total_incl == D("728.07")   # 600-30=570 + 119.70 ; 37.05-1.85=35.20 + 3.17
    assert doc.due_date == TODAY.fromordinal(TODAY.toordinal() + 30)


def test_item_line_takes_price_unit_and_rate(session, make_company, make_contact) -> None:  # type: ignore[no-untyped-def]
    company = make_company()
    item = create_item(session, company.id, "Workshop", unit="stuk", unit_price="450", vat_rate="21")
    doc = create_draft(session, company.id, DocumentKind.QUOTE, make_contact(company).id, today=TODAY)
    line = add_line(session, doc, item_id=item.id, quantity="3")
    assert (line.description, line.unit, line.unit_price, line.quantity) == ("Workshop", "stuk", D("450"), D("3"))
    assert doc.total_incl == D("1633.50")


def test_quote_accepted_becomes_an_invoice_that_copies_everything(session, make_company, make_contact) -> None:  # type: ignore[no-untyped-def]
    company = make_company()
    contact = make_contact(company)
    quote = create_draft(session, company.id, DocumentKind.QUOTE, contact.id, today=TODAY, lines=LINES,
                         discount_percent="10", buyer_reference="PO-77")
    with pytest.raises(ConflictError):
        invoice_from_quote(session, company.id, quote.id, today=TODAY, now=NOW)   # not accepted yet
    finalise_document(session, company.id, quote.id, today=TODAY, now=NOW)
    assert quote.number == "OFF-2026-001" and quote.valid_until is not None
    set_quote_outcome(session, company.id, quote.id, "accept", now=NOW)
    invoice = invoice_from_quote(session, company.id, quote.id, today=TODAY, now=NOW)
    assert quote.status == "invoiced" and invoice.quote_id == quote.id and invoice.status == "draft"
    assert (invoice.total_incl, invoice.discount_percent, invoice.buyer_reference) == (quote.total_incl, D("10"), "PO-77")
    data = document_data(session, invoice)
    assert data.quote_reference == "OFF-2026-001" and len(data.lines) == 2
    with pytest.raises(ConflictError):
        invoice_from_quote(session, company.id, quote.id, today=TODAY, now=NOW)   # only once


def test_quotes_decline_and_expire(session, make_company, make_contact) -> None:  # type: ignore[no-untyped-def]
    company = make_company()
    contact = make_contact(company)
    q1, q2 = (create_draft(session, company.id, DocumentKind.QUOTE, contact.id, today=TODAY, lines=LINES[:1])
              for _ in range(2))
    for q in (q1, q2):
        finalise_document(session, company.id, q.id, today=TODAY, now=NOW)
    set_quote_outcome(session, company.id, q1.id, "decline", now=NOW)
    later = TODAY.fromordinal(TODAY.toordinal() + 31)
    expired = expire_quotes(session, company.id, today=later, now=NOW)
    assert [q.id for q in expired] == [q2.id] and q1.status == "declined" and q2.status == "expired"


def test_sent_documents_are_frozen(session, make_company, make_contact) -> None:  # type: ignore[no-untyped-def]
    company = make_company()
    contact = make_contact(company)
    doc = create_draft(session, company.id, DocumentKind.INVOICE, contact.id, today=TODAY, lines=LINES)
    finalise_document(session, company.id, doc.id, today=TODAY, now=NOW)
    with pytest.raises(ConflictError):
        add_line(session, doc, **LINES[0])
    with pytest.raises(ConflictError):
        update_draft(session, doc, intro="changed")
    with pytest.raises(ConflictError):
        finalise_document(session, company.id, doc.id, today=TODAY, now=NOW)
    update_company(session, company, street="Nieuwe Straat 9")
    assert document_data(session, doc).seller.street == "Keizersgracht 123"   # snapshot


def test_payments_partial_then_paid_and_overdue_is_derived(session, make_company, make_contact) -> None:  # type: ignore[no-untyped-def]
    company = make_company()
    doc = create_draft(session, company.id, DocumentKind.INVOICE, make_contact(company).id, today=TODAY,
                       lines=[{"description": "x", "quantity": "1", "unit_price": "100"}], term_days=14)
    finalise_document(session, company.id, doc.id, today=TODAY, now=NOW)
    late = TODAY.fromordinal(TODAY.toordinal() + 15)
    assert not is_overdue(doc, TODAY) and is_overdue(doc, late)
    record_payment(session, company.id, doc.id, D("21"), now=NOW)
    assert doc.status == "partially_paid" and is_overdue(doc, late)
    record_payment(session, company.id, doc.id, D("100"), now=NOW)
    assert doc.status == "paid" and not is_overdue(doc, late)
    with pytest.raises(ConflictError):
        record_payment(session, company.id, doc.id, D("1"), now=NOW)       # already paid
    draft = create_draft(session, company.id, DocumentKind.INVOICE, doc.contact_id, today=TODAY, lines=LINES)
    with pytest.raises(ConflictError):
        record_payment(session, company.id, draft.id, D("1"), now=NOW)     # not sent yet


def test_credit_note_references_the_invoice_and_credits_it(session, make_company, make_contact) -> None:  # type: ignore[no-untyped-def]
    company = make_company()
    invoice = create_draft(session, company.id, DocumentKind.INVOICE, make_contact(company).id, today=TODAY, lines=LINES)
    finalise_document(session, company.id, invoice.id, today=TODAY, now=NOW)
    note = create_credit_note(session, company.id, invoice.id, today=TODAY)
    data = document_data(session, note)
    assert data.original_invoice is not None and data.original_invoice.number == "2026-0001"
    finalise_document(session, company.id, note.id, today=TODAY, now=NOW)
    assert note.number == "CN-2026-0001" and note.total_incl == invoice.total_incl
    assert invoice.status == "credited"


def test_partial_credit_keeps_the_invoice_open_and_cannot_exceed_it(session, make_company, make_contact) -> None:  # type: ignore[no-untyped-def]
    company = make_company()
    invoice = create_draft(session, company.id, DocumentKind.INVOICE, make_contact(company).id, today=TODAY, lines=LINES)
    finalise_document(session, company.id, invoice.id, today=TODAY, now=NOW)
    part = create_credit_note(session, company.id, invoice.id, today=TODAY, lines=[LINES[1]])
    finalise_document(session, company.id, part.id, today=TODAY, now=NOW)
    assert invoice.status == "sent"
    too_much = create_credit_note(session, company.id, invoice.id, today=TODAY)
    with pytest.raises(ValidationError):
        finalise_document(session, company.id, too_much.id, today=TODAY, now=NOW)


def test_the_compliance_check_blocks_sending(session, make_company, make_contact) -> None:  # type: ignore[no-untyped-def]
    company = make_company(kvk="")
    contact = make_contact(company, country="DE", postcode="10115", vat_id="", kvk="")
    doc = create_draft(session, company.id, DocumentKind.INVOICE, contact.id, today=TODAY, lines=LINES,
                       vat_treatment="reverse_charge")
    with pytest.raises(NotReadyError) as err:
        finalise_document(session, company.id, doc.id, today=TODAY, now=NOW)
    codes = {f.code for f in err.value.findings if f.blocking}
    assert {"seller.kvk.missing", "buyer.vat_id.missing"} <= codes
    assert doc.number is None


def test_kor_company_drafts_without_vat(session, make_company, make_contact) -> None:  # type: ignore[no-untyped-def]
    company = make_company(kor=True)
    doc = create_draft(session, company.id, DocumentKind.INVOICE, make_contact(company).id, today=TODAY, lines=LINES)
    assert doc.vat_treatment == VatTreatment.KOR.value and doc.total_vat == 0
    with pytest.raises(NotReadyError) as err:   # lines carry 21 % and 9 %: "KOR with VAT lines"
        finalise_document(session, company.id, doc.id, today=TODAY, now=NOW)
    assert "lines.vat_rate.exempt" in {f.code for f in err.value.findings}


def test_one_company_never_reaches_another_companys_rows(session, make_company, make_contact) -> None:  # type: ignore[no-untyped-def]
    mine, theirs = make_company("Mine"), make_company("Theirs")
    their_contact = make_contact(theirs, "Geheim B.V.")
    their_doc = create_draft(session, theirs.id, DocumentKind.INVOICE, their_contact.id, today=TODAY, lines=LINES)
    with pytest.raises(NotFoundError):
        get_document(session, mine.id, their_doc.id)
    with pytest.raises(NotFoundError):
        create_draft(session, mine.id, DocumentKind.INVOICE, their_contact.id, today=TODAY)
    with pytest.raises(NotFoundError):
        finalise_document(session, mine.id, their_doc.id, today=TODAY, now=NOW)
    assert find_contacts(session, mine.id, "geheim") == []
    assert [c.name for c in find_contacts(session, theirs.id, "GEHEIM")] == ["Geheim B.V."]


def test_validation_names_the_field_and_changes_nothing(session, make_company) -> None:  # type: ignore[no-untyped-def]
    company = make_company()
    with pytest.raises(ValidationError) as err:
        update_company(session, company, iban="NL91ABNA0417164301", city="Elders")
    assert err.value.field == "iban" and "IBAN" in err.value.translated("nl")
    assert company.iban == "NL91ABNA0417164300" and company.city == "Amsterdam"
    for field, value in [("kvk", "1234567🙂"), ("vat_id", "NL123"), ("postcode", "12345"),
                         ("pattern_invoice", "{foo}"), ("color", "red"), ("payment_term_days", "abc")]:
        with pytest.raises(ValidationError) as err:
            update_company(session, company, **{field: value})
        assert err.value.field == field
