"""core.drafts: customers matched, items filling prices, the preview that stores nothing, prices
including VAT, copies and deleting drafts — on the real database."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlmodel import select

from core import storage
from core.companies import create_company
from core.contacts import create_item
from core.document import DocumentKind
from core.documents import create_draft, document_lines, get_document
from core.drafts import (
    add_parsed,
    delete_draft,
    draft_from_sentence,
    duplicate_document,
    fill_from_items,
    match_customer,
    preview_sentence,
    update_document_customer,
)
from core.errors import ConflictError, NotFoundError, ValidationError
from core.invoices import finalise_document
from core.models import Contact, Document
from core.sentence import parse_sentence
from tests.conftest import NOW, SELLER, TODAY

D = Decimal


def test_match_customer_exact_single_several_none(session, make_company, make_contact) -> None:  # type: ignore[no-untyped-def]
    company = make_company()
    bakery = make_contact(company, "Bakkerij de Vries B.V.")
    make_contact(company, "Jansen Bouw")
    jansen = make_contact(company, "Jansen")
    assert match_customer(session, company.id, "bakkerij").contact_id == bakery.id
    assert match_customer(session, company.id, "jansen").contact_id == jansen.id          # exact beats prefix
    several = match_customer(session, company.id, "jans")
    assert several.contact_id is None and [n for _, n in several.candidates] == ["Jansen", "Jansen Bouw"]
    assert match_customer(session, company.id, "Acme") == match_customer(session, company.id, " Acme ")
    assert match_customer(session, company.id, "Acme").candidates == ()


def test_items_fill_missing_prices_only_when_one_fits(session, make_company) -> None:  # type: ignore[no-untyped-def]
    company = make_company()
    workshop = create_item(session, company.id, "Workshop", unit="dag", unit_price="450", vat_rate="9")
    create_item(session, company.id, "Workshop online", unit_price="300")
    create_item(session, company.id, "Lunch", unit_price="15.50")
    parsed = fill_from_items(session, company.id, parse_sentence("offerte A: 3x workshop, lunch, koffie, 2 uur advies à 80"))
    first, lunch, coffee, advice = parsed.lines
    assert (first.unit_price, first.unit, first.vat_rate, first.item_id) == (D(450), "dag", D(9), workshop.id)
    assert lunch.unit_price == D("15.50") and coffee.unit_price is None and advice.unit_price == D(80)


def test_preview_stores_nothing_and_equals_the_draft(session, make_company) -> None:  # type: ignore[no-untyped-def]
    company = make_company()
    parsed = parse_sentence("factuur Acme 8 uur advies à 75, 2 uur reistijd à 40, 10% korting, 14 dagen")
    preview = preview_sentence(session, company.id, parsed, contact_id=None, today=TODAY)
    assert session.exec(select(Contact)).all() == [] and session.exec(select(Document)).all() == []
    assert preview.new_contact and preview.id is None and preview.contact_name == "Acme"
    assert preview.totals.total_incl == D("740.52")        # (600 + 80) - 68 = 612 + 128.52
    assert preview.due_date == TODAY.fromordinal(TODAY.toordinal() + 14)
    assert [f.code for f in preview.blocking] == ["buyer.address.missing"]
    doc = draft_from_sentence(session, company.id, parsed, contact_id=None, today=TODAY, email="info@acme.nl")
    assert (doc.total_incl, doc.term_days, doc.discount_percent) == (D("740.52"), 14, D(10))
    contact = session.get(Contact, doc.contact_id)
    assert (contact.name, contact.email) == ("Acme", "info@acme.nl")


def test_a_bad_email_for_a_new_customer_creates_nothing(engine) -> None:  # type: ignore[no-untyped-def]
    with storage.session_scope(engine) as s:
        company_id = create_company(s, "Vos", **SELLER).id
    with pytest.raises(ValidationError), storage.session_scope(engine) as s:
        draft_from_sentence(s, company_id, parse_sentence("factuur Acme 1 uur advies à 80"), contact_id=None,
                            today=TODAY, email="geen-adres")
    with storage.session_scope(engine) as s:
        assert s.exec(select(Contact)).all() == [] and s.exec(select(Document)).all() == []


def test_prices_including_vat_become_prices_excluding_vat(session, make_company, make_contact) -> None:  # type: ignore[no-untyped-def]
    company = make_company()
    contact = make_contact(company)
    parsed = parse_sentence("factuur A: 2 uur advies à 121 incl btw, 1 boek à 21,80 9% btw, 1 reis à 100")
    doc = draft_from_sentence(session, company.id, parsed, contact_id=contact.id, today=TODAY)
    prices = [(ln.unit_price, ln.vat_rate) for ln in document_lines(session, doc)]
    assert prices == [(D(100), D(21)), (D(20), D(9)), (D("82.6446"), D(21))]
    # 200 + 20 + 82.64 = 302.64 excl.; VAT 21% of 282.64 = 59.35 and 9% of 20 = 1.80: 363.79, a cent
    # short of the 363.80 typed: no price excl. VAT gives exactly 100 incl. 21% (the card says the
    # prices were converted and shows the real total)
    assert doc.total_incl == D("363.79")


def test_prices_including_vat_under_reverse_charge_stay_as_typed(session, make_company, make_contact) -> None:  # type: ignore[no-untyped-def]
    company = make_company()
    contact = make_contact(company)
    parsed = parse_sentence("factuur A: 1 uur advies à 121 incl btw, btw verlegd")
    doc = draft_from_sentence(session, company.id, parsed, contact_id=contact.id, today=TODAY)
    assert document_lines(session, doc)[0].unit_price == D(121) and doc.vat_treatment == "reverse_charge"


def test_add_parsed_and_lines_need_price_and_description(session, make_company, make_contact) -> None:  # type: ignore[no-untyped-def]
    company = make_company()
    doc = create_draft(session, company.id, DocumentKind.INVOICE, make_contact(company).id, today=TODAY)
    add_parsed(session, company.id, doc.id, parse_sentence("8 uur advies à 75, 5% korting"), today=TODAY)
    assert doc.discount_percent == D(5) and doc.total_incl == D("689.70")
    with pytest.raises(ValidationError):
        add_parsed(session, company.id, doc.id, parse_sentence("workshop"), today=TODAY)


def test_duplicate_copies_lines_for_a_new_draft(session, make_company, make_contact) -> None:  # type: ignore[no-untyped-def]
    company = make_company()
    contact = make_contact(company)
    doc = create_draft(session, company.id, DocumentKind.INVOICE, contact.id, today=TODAY, discount_percent="10",
                       lines=[{"description": "Advies", "quantity": "8", "unit_price": "75", "vat_rate": "21"}])
    finalise_document(session, company.id, doc.id, today=TODAY, now=NOW)
    copy = duplicate_document(session, company.id, doc.id, today=TODAY)
    assert (copy.status, copy.number, copy.total_incl, copy.discount_percent) == ("draft", None, doc.total_incl, D(10))
    assert [ln.description for ln in document_lines(session, copy)] == ["Advies"]


def test_delete_only_drafts(session, make_company, make_contact) -> None:  # type: ignore[no-untyped-def]
    company = make_company()
    contact = make_contact(company)
    lines = [{"description": "Advies", "quantity": "1", "unit_price": "75"}]
    draft = create_draft(session, company.id, DocumentKind.QUOTE, contact.id, today=TODAY, lines=lines)
    sent = create_draft(session, company.id, DocumentKind.QUOTE, contact.id, today=TODAY, lines=lines)
    finalise_document(session, company.id, sent.id, today=TODAY, now=NOW)
    delete_draft(session, company.id, draft.id)
    with pytest.raises(NotFoundError):
        get_document(session, company.id, draft.id)
    with pytest.raises(ConflictError):
        delete_draft(session, company.id, sent.id)


def test_update_document_customer(session, make_company, make_contact) -> None:  # type: ignore[no-untyped-def]
    company = make_company()
    contact = make_contact(company, street="", postcode="")
    doc = create_draft(session, company.id, DocumentKind.INVOICE, contact.id, today=TODAY)
    update_document_customer(session, company.id, doc.id, "postcode", "1234ab")
    assert contact.postcode == "1234 AB"
    with pytest.raises(ValidationError):
        update_document_customer(session, company.id, doc.id, "postcode", "99")
    with pytest.raises(ValidationError):
        update_document_customer(session, company.id, doc.id, "notes", "x")
