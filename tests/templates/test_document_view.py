"""The view-model: babel formatting, decisions per document kind, and the EPC GiroCode payload."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import segno.helpers

from core.document import DocumentKind
from core.document_view import (
    build_view,
    epc_payload,
    format_date,
    format_money,
    format_percent,
    format_quantity,
)
from core.i18n import translations
from core.rendering import epc_qr


@pytest.mark.parametrize(("value", "nl", "en"), [
    ("1234.56", "€\xa01.234,56", "€1,234.56"),
    ("-121", "-€\xa0121,00", "-€121.00"),
    ("0", "€\xa00,00", "€0.00"),
    ("1000000", "€\xa01.000.000,00", "€1,000,000.00"),
    ("1.855", "€\xa01,855", "€1.855"),          # a unit price keeps its extra decimals
    ("12.50000", "€\xa012,50", "€12.50"),
])
def test_money_is_formatted_by_babel(value, nl, en):
    assert format_money(Decimal(value), "nl") == nl
    assert format_money(Decimal(value), "en") == en


def test_dates_numbers_and_percentages():
    day = date(2026, 11, 30)
    assert format_date(day, "nl") == "30 november 2026"
    assert format_date(day, "en") == "30 November 2026"
    assert format_quantity(Decimal("1.50"), "nl") == "1,5"
    assert format_quantity(Decimal("1234.5"), "en") == "1,234.5"
    assert format_quantity(Decimal(100), "nl") == "100"
    assert format_percent(Decimal("12.5"), "nl") == "12,5%"
    assert format_percent(Decimal(21), "en") == "21%"


def test_credit_note_amounts_are_negated_from_the_totals(make_document):
    doc, totals = make_document("credit-note")
    view = build_view(doc, totals)
    assert doc.kind is DocumentKind.CREDIT_NOTE and totals.total_incl == Decimal("490.05")
    assert view.totals[-1].value == "-€\xa0490,05" and view.totals[-1].strong
    assert view.lines[0].amount == "-€\xa0405,00"
    assert [(r.rate, r.base, r.vat) for r in view.vat_rows] == [("21%", "-€\xa0405,00", "-€\xa085,05")]
    assert view.payment is None


def test_kor_view_has_no_vat(make_document):
    doc, totals = make_document("invoice-kor")
    view = build_view(doc, totals)
    assert not view.show_vat and view.vat_rows == ()
    assert [row.label for row in view.totals] == ["Totaal"]


def test_payment_rows_and_qr_only_when_something_is_due(make_document):
    doc, totals = make_document("invoice-standard")
    view = build_view(doc, totals)
    assert view.payment is not None and view.payment.epc_payload.startswith("BCD\n002\n")
    assert [row.label for row in view.payment.rows] == [
        "Te betalen", "Vervaldatum", "IBAN", "BIC", "Ten name van", "Betalingskenmerk"]
    doc, totals = make_document("invoice-standard", seller=doc.seller.__class__(name="Zonder Bank"))
    view = build_view(doc, totals)
    assert view.payment is not None and view.payment.epc_payload == "" and view.payment.text == ""


def test_epc_payload_carries_iban_amount_and_reference(make_document):
    doc, totals = make_document("invoice-standard")
    payload = epc_payload(doc, totals)
    assert payload is not None
    fields = payload.split("\n")
    assert fields[:4] == ["BCD", "002", "2", "SCT"]
    assert fields[4] == "ABNANL2A"
    assert fields[5] == "Studio Vos"                 # the account holder: the legal name
    assert fields[6] == "NL91ABNA0417164300"
    assert fields[7] == "EUR1193.62" == f"EUR{totals.amount_due}"
    assert fields[9] == ""                           # not an ISO 11649 reference: in the free text
    assert fields[10] == "2026-0042"


def test_epc_qr_is_what_segnos_helper_builds(make_document):
    doc, totals = make_document("invoice-standard", amount_paid=Decimal("193.62"))
    payload = epc_payload(doc, totals)
    assert payload is not None and "\nEUR1000\n" in payload     # trailing zeros dropped, as segno does
    expected = segno.helpers.make_epc_qr(name="Studio Vos", iban="NL91ABNA0417164300", amount=Decimal("1000.00"),
                                         text="2026-0042", bic="ABNANL2A")
    assert epc_qr(payload) == expected


def test_epc_structured_reference_goes_in_the_reference_field(make_document):
    doc, totals = make_document("invoice-standard", payment_reference="RF18 5390 0754 7034")
    fields = epc_payload(doc, totals).split("\n")
    assert fields[9] == "RF18539007547034"
    assert len(fields) == 10


@pytest.mark.parametrize(("name", "overrides"), [
    ("quote", {}),
    ("credit-note", {}),
    ("invoice-standard", {"amount_paid": Decimal("1193.62")}),
    ("invoice-standard", {"number": None}),
    ("invoice-standard", {"currency": "USD"}),
])
def test_no_epc_payload_when_there_is_nothing_to_transfer(make_document, name, overrides):
    doc, totals = make_document(name, **overrides)
    assert epc_payload(doc, totals) is None


def test_dutch_catalogue_is_complete_and_clean():
    catalogue = translations("nl")._catalog
    for msgid in ("Invoice", "Quote", "Credit note", "Invoice date", "Delivery date", "Due date", "Valid until",
                  "Description", "Quantity", "Price", "VAT", "Amount", "Subtotal", "Discount",
                  "Total excl. VAT", "Total incl. VAT", "Amount due", "Payment reference", "VAT reverse-charged",
                  "DRAFT"):
        assert msgid in catalogue, msgid
    expected = {"Invoice": "Factuur", "Quote": "Offerte", "Credit note": "Creditfactuur", "DRAFT": "CONCEPT",
                "Invoice date": "Factuurdatum", "Delivery date": "Leverdatum", "Due date": "Vervaldatum",
                "Valid until": "Geldig tot", "Description": "Omschrijving", "Quantity": "Aantal",
                "Price": "Prijs", "VAT": "Btw", "Amount": "Bedrag", "Subtotal": "Subtotaal",
                "Discount": "Korting", "Total excl. VAT": "Totaal excl. btw", "Total incl. VAT": "Totaal incl. btw",
                "Amount due": "Te betalen", "Payment reference": "Betalingskenmerk",
                "VAT reverse-charged": "Btw verlegd"}
    assert {key: catalogue[key] for key in expected} == expected
