"""UBL (Peppol BIS 3.0 and SI-UBL 2.0) built by ``core.ubl`` against the official rules, and the
numbers in it against ``Totals`` to the cent."""
from __future__ import annotations

from decimal import Decimal

import pytest
from lxml import etree

from core.errors import ValidationError
from core.ubl import build_ubl
from tests.einvoice.cases import (
    HOSTILE,
    PROFILE_NAMES,
    UBL_CASES,
    billing_examples,
    document,
    example,
    is_dutch_consumer,
    spec,
)
from tests.einvoice.checks import assert_valid_ubl, validate_ubl
from tests.einvoice.xml_numbers import UBL_NS, report, ubl_numbers

CUSTOMIZATION = {
    "peppol": "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0",
    "nlcius": "urn:cen.eu:en16931:2017#compliant#urn:fdc:nen.nl:nlcius:v1.0",
}

EXAMPLE_PAIRS = [(name, profile) for name in billing_examples() for profile in PROFILE_NAMES
                 if not (profile == "nlcius" and is_dutch_consumer(example(name)))]
CASE_PAIRS = [pytest.param(data, profile, id=f"{name}-{profile}") for name, data in UBL_CASES
              for profile in PROFILE_NAMES if not (profile == "nlcius" and is_dutch_consumer(data))]


@pytest.mark.parametrize(("name", "profile"), EXAMPLE_PAIRS)
def test_every_example_passes_the_official_rules(ubl_validator, name: str, profile: str) -> None:
    assert_valid_ubl(ubl_validator, example(name), profile)


@pytest.mark.parametrize(("data", "profile"), CASE_PAIRS)
def test_extra_cases_pass_the_official_rules_with_exact_numbers(ubl_validator, data: dict, profile: str) -> None:
    assert_valid_ubl(ubl_validator, data, profile)


def test_the_validators_do_catch_a_wrong_total(ubl_validator) -> None:
    """Guards the guard: a tampered payable amount must be fatal in both profiles."""
    doc, totals = document(example("invoice-standard"))
    for profile in PROFILE_NAMES:
        xml = build_ubl(doc, totals, profile=profile).replace(
            b'<cbc:PayableAmount currencyID="EUR">1193.62<', b'<cbc:PayableAmount currencyID="EUR">1203.62<')
        result = validate_ubl(ubl_validator, xml, profile)
        assert "BR-CO-16" in {f.id for f in result.findings if f.fatal}, report(result.findings)


def test_known_cents_of_the_standard_example() -> None:
    """Hand-computed: 21 %: 600 + 405 = 1005, -5 % = 954.75, VAT 200.50 (200.4975 rounds up);
    9 %: 37.05, -5 % (1.85) = 35.20, VAT 3.17 (3.168)."""
    doc, totals = document(example("invoice-standard"))
    numbers = ubl_numbers(build_ubl(doc, totals))
    assert numbers["subtotals"] == [("S", Decimal(21), "954.75", "200.50"), ("S", Decimal(9), "35.20", "3.17")]
    assert numbers["allowances"] == [("S", Decimal(21), "50.25", "1005.00"), ("S", Decimal(9), "1.85", "37.05")]
    assert (numbers["total_vat"], numbers["total_incl"], numbers["payable"]) == ("203.67", "1193.62", "1193.62")


def test_headers_and_profiles() -> None:
    doc, totals = document(example("invoice-standard"))
    for profile, customization in CUSTOMIZATION.items():
        root = etree.fromstring(build_ubl(doc, totals, profile=profile))
        assert root.tag == "{urn:oasis:names:specification:ubl:schema:xsd:Invoice-2}Invoice"
        assert root.findtext("cbc:CustomizationID", namespaces=UBL_NS) == customization
        assert root.findtext("cbc:ProfileID", namespaces=UBL_NS) == "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
        assert root.findtext("cbc:InvoiceTypeCode", namespaces=UBL_NS) == "380"
        assert root.findtext("cbc:DueDate", namespaces=UBL_NS) == "2026-12-14"
        assert root.findtext("cbc:BuyerReference", namespaces=UBL_NS) == "2026-0042"   # falls back to the number
        assert root.findtext("cac:Delivery/cbc:ActualDeliveryDate", namespaces=UBL_NS) == "2026-11-27"
        means = root.find("cac:PaymentMeans", UBL_NS)
        assert means.findtext("cbc:PaymentMeansCode", namespaces=UBL_NS) == "58"
        assert means.findtext("cbc:PaymentID", namespaces=UBL_NS) == "2026-0042"
        assert means.findtext("cac:PayeeFinancialAccount/cbc:ID", namespaces=UBL_NS) == "NL91ABNA0417164300"
        assert "14-12-2026" in root.findtext("cac:PaymentTerms/cbc:Note", namespaces=UBL_NS)


def test_buyer_reference_is_used_when_given() -> None:
    doc, totals = document(spec(buyer_reference="PO-4711"))
    root = etree.fromstring(build_ubl(doc, totals))
    assert root.findtext("cbc:BuyerReference", namespaces=UBL_NS) == "PO-4711"


def test_credit_note_references_its_invoice(ubl_validator) -> None:
    doc, totals = document(example("credit-note"))
    peppol = etree.fromstring(build_ubl(doc, totals, profile="peppol"))
    assert peppol.tag == "{urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2}CreditNote"
    assert peppol.findtext("cbc:CreditNoteTypeCode", namespaces=UBL_NS) == "381"
    ref = peppol.find("cac:BillingReference/cac:InvoiceDocumentReference", UBL_NS)
    assert (ref.findtext("cbc:ID", namespaces=UBL_NS), ref.findtext("cbc:IssueDate", namespaces=UBL_NS)) == \
        ("2026-0042", "2026-11-30")
    assert peppol.find("cac:CreditNoteLine/cbc:CreditedQuantity", UBL_NS).text == "1"
    assert peppol.find("cbc:DueDate", UBL_NS) is None and peppol.find("cac:PaymentMeans", UBL_NS) is None
    # SI-UBL advises against the preceding invoice's date (BR-NL-24): the number alone.
    nlcius = etree.fromstring(build_ubl(doc, totals, profile="nlcius"))
    assert nlcius.findtext("cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID", namespaces=UBL_NS) == "2026-0042"
    assert nlcius.find("cac:BillingReference/cac:InvoiceDocumentReference/cbc:IssueDate", UBL_NS) is None


@pytest.mark.parametrize(("treatment", "category", "code"), [
    ("reverse_charge", "AE", "VATEX-EU-AE"), ("intra_eu_goods", "K", "VATEX-EU-IC"),
    ("export", "G", "VATEX-EU-G"), ("kor", "E", ""), ("exempt", "E", ""),
])
def test_exemption_reasons(treatment: str, category: str, code: str) -> None:
    data = dict(UBL_CASES)[f"invoice-{treatment}"]
    doc, totals = document(data)
    root = etree.fromstring(build_ubl(doc, totals, profile="peppol"))
    tax = root.find("cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory", UBL_NS)
    assert tax.findtext("cbc:ID", namespaces=UBL_NS) == category
    assert tax.findtext("cbc:Percent", namespaces=UBL_NS) == "0"
    assert (tax.findtext("cbc:TaxExemptionReasonCode", namespaces=UBL_NS) or "") == code
    assert tax.findtext("cbc:TaxExemptionReason", namespaces=UBL_NS) == totals.subtotals[0].exemption_text_nl
    # SI-UBL advises against the code (BR-NL-35); the reason text stays.
    nl = etree.fromstring(build_ubl(doc, totals, profile="nlcius"))
    nl_tax = nl.find("cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory", UBL_NS)
    assert nl_tax.find("cbc:TaxExemptionReasonCode", UBL_NS) is None
    assert nl_tax.findtext("cbc:TaxExemptionReason", namespaces=UBL_NS) == totals.subtotals[0].exemption_text_nl


def test_line_discount_is_a_line_allowance_of_gross_minus_net() -> None:
    doc, totals = document(example("invoice-standard"))
    root = etree.fromstring(build_ubl(doc, totals))
    logo = root.findall("cac:InvoiceLine", UBL_NS)[1]
    allowance = logo.find("cac:AllowanceCharge", UBL_NS)
    assert allowance.findtext("cbc:ChargeIndicator", namespaces=UBL_NS) == "false"
    assert allowance.findtext("cbc:MultiplierFactorNumeric", namespaces=UBL_NS) == "10"
    assert allowance.findtext("cbc:BaseAmount", namespaces=UBL_NS) == "450.00"
    assert allowance.findtext("cbc:Amount", namespaces=UBL_NS) == "45.00"
    assert logo.findtext("cbc:LineExtensionAmount", namespaces=UBL_NS) == "405.00"
    assert logo.findtext("cac:Price/cbc:PriceAmount", namespaces=UBL_NS) == "450.00"


def test_odd_quantities_and_prices_are_written_exactly() -> None:
    doc, totals = document(dict(UBL_CASES)["odd-quantities"])
    root = etree.fromstring(build_ubl(doc, totals))
    lines = root.findall("cac:InvoiceLine", UBL_NS)
    quantities = [(q.text, q.get("unitCode")) for q in (ln.find("cbc:InvoicedQuantity", UBL_NS) for ln in lines)]
    prices = [ln.findtext("cac:Price/cbc:PriceAmount", namespaces=UBL_NS) for ln in lines]
    assert quantities == [("0.333", "HUR"), ("7", "H87"), ("12.7", "KMT"), ("1", "MON"), ("-1", "C62")]
    assert prices == ["97.50", "12.3456", "0.2345", "0.0049", "25.00"]   # a negative price becomes -1 x 25.00
    assert [ln.findtext("cbc:LineExtensionAmount", namespaces=UBL_NS) for ln in lines] == \
        ["32.47", "84.26", "2.98", "0.00", "-25.00"]


def test_hostile_text_is_escaped_and_kept() -> None:
    doc, totals = document(dict(UBL_CASES)["hostile-text"])
    xml = build_ubl(doc, totals)
    assert b"<img" not in xml and b"</cbc:Note><cbc:Note>" not in xml
    root = etree.fromstring(xml)
    notes = root.findall("cbc:Note", UBL_NS)
    assert len(notes) == 1 and notes[0].text == HOSTILE + "\n\nGroet & tot ziens <b>"
    assert root.findtext("cac:AccountingCustomerParty/cac:Party/cac:PartyLegalEntity/cbc:RegistrationName",
                         namespaces=UBL_NS) == 'Bakkerij "De <Vries>" & Zn.'
    assert root.findtext("cbc:BuyerReference", namespaces=UBL_NS) == 'PO <1> & "2"'
    assert root.findtext("cac:PaymentMeans/cbc:PaymentID", namespaces=UBL_NS) == "REF&<ref>"
    names = [n.text for n in root.findall("cac:InvoiceLine/cac:Item/cbc:Name", UBL_NS)]
    assert names == [HOSTILE, "Tab\tnaar   regel"]      # characters XML cannot carry are dropped


def test_long_description_gives_a_short_name_and_the_full_description() -> None:
    data = dict(UBL_CASES)["long-description"]
    doc, totals = document(data)
    item = etree.fromstring(build_ubl(doc, totals)).find("cac:InvoiceLine/cac:Item", UBL_NS)
    assert item.findtext("cbc:Name", namespaces=UBL_NS) == "Website"
    assert item.findtext("cbc:Description", namespaces=UBL_NS) == doc.lines[0].description.strip()


def test_partial_payment_is_prepaid_amount() -> None:
    doc, totals = document(dict(UBL_CASES)["partially-paid"])
    numbers = ubl_numbers(build_ubl(doc, totals))
    assert (numbers["prepaid"], numbers["payable"]) == ("500.00", "693.62")


def test_negative_zero_vat_is_written_as_zero() -> None:
    doc, totals = document(dict(UBL_CASES)["tiny-negative-line"])
    assert str(totals.subtotals[1].vat) == "0.00"    # core.money never returns a negative zero
    assert ubl_numbers(build_ubl(doc, totals))["subtotals"][1] == ("S", Decimal(9), "-0.05", "0.00")


def test_payment_means_only_when_the_buyer_pays() -> None:
    for name, expected in [("credit-note-negative", True), ("credit-note-standard", False),
                           ("fully-paid", False), ("invoice-standard", True)]:
        doc, totals = document(dict(UBL_CASES)[name])
        root = etree.fromstring(build_ubl(doc, totals))
        assert (root.find("cac:PaymentMeans", UBL_NS) is not None) is expected, name
    doc, totals = document(dict(UBL_CASES)["credit-note-negative"])
    assert totals.amount_due == Decimal("-36.30")


@pytest.mark.parametrize(("buyer_case", "scheme", "value"), [
    ("invoice-standard", "0106", "87654321"),         # Dutch business: its KvK
    ("invoice-reverse_charge", "9930", "DE136695976"),  # German VAT id
    ("invoice-intra_eu_goods", "9925", "BE0403019261"),  # Belgian VAT id
    ("invoice-export", "0088", "0000000000000"),       # nothing routable: the unassigned GLN
    ("consumer-nl", "0088", "0000000000000"),
])
def test_endpoint_ids(buyer_case: str, scheme: str, value: str) -> None:
    doc, totals = document(dict(UBL_CASES)[buyer_case])
    root = etree.fromstring(build_ubl(doc, totals, profile="peppol"))
    seller = root.find("cac:AccountingSupplierParty/cac:Party/cbc:EndpointID", UBL_NS)
    buyer = root.find("cac:AccountingCustomerParty/cac:Party/cbc:EndpointID", UBL_NS)
    assert (seller.get("schemeID"), seller.text) == ("0106", "12345678")
    assert (buyer.get("schemeID"), buyer.text) == (scheme, value)


def test_sicius_leaves_out_an_endpoint_it_does_not_have() -> None:
    doc, totals = document(dict(UBL_CASES)["invoice-export"])
    root = etree.fromstring(build_ubl(doc, totals, profile="nlcius"))
    assert root.find("cac:AccountingCustomerParty/cac:Party/cbc:EndpointID", UBL_NS) is None


def test_sicius_refuses_a_dutch_consumer(ubl_validator) -> None:
    """SI-UBL's BR-NL-10 wants a KvK/OIN for every Dutch customer; a consumer has none. Proof that the
    rule, not our builder, is the obstacle: the valid Peppol document relabelled as SI-UBL fails it."""
    doc, totals = document(example("invoice-kor"))
    with pytest.raises(ValidationError) as err:
        build_ubl(doc, totals, profile="nlcius")
    assert err.value.field == "buyer.kvk"
    relabelled = build_ubl(doc, totals, profile="peppol").replace(
        CUSTOMIZATION["peppol"].encode(), CUSTOMIZATION["nlcius"].encode())
    result = validate_ubl(ubl_validator, relabelled, "nlcius")
    assert "BR-NL-10" in {f.id for f in result.findings if f.fatal}, report(result.findings)


@pytest.mark.parametrize(("overrides", "field"), [
    ({"type": "quote"}, "type"),
    ({"number": ""}, "number"),
    ({"seller": {"kvk": ""}}, "seller.kvk"),
    ({"seller": {"vat_id": ""}}, "seller.vat_id"),
    ({"seller": {"iban": ""}}, "seller.iban"),
    ({"seller": {"street": ""}}, "seller.street"),
    ({"buyer": {"name": "X B.V.", "country": "NL", "city": "Utrecht", "street": "Dorpsstraat 1", "kvk": "87654321"}},
     "buyer.postcode"),
    ({"type": "credit_note", "original_invoice": None}, "original_invoice"),
    ({"vat_treatment": "reverse_charge", "buyer": {"name": "Muster GmbH", "country": "DE"}}, "buyer.vat_id"),
    ({"vat_treatment": "intra_eu_goods", "delivery_date": None,
      "buyer": {"name": "Dupont SA", "country": "BE", "vat_id": "BE0403019261"}}, "delivery_date"),
])
def test_documents_that_cannot_be_valid_e_invoices_are_refused(overrides: dict, field: str) -> None:
    doc, totals = document(spec(**overrides))
    for profile in PROFILE_NAMES:
        with pytest.raises(ValidationError) as err:
            build_ubl(doc, totals, profile=profile)
        assert err.value.field == field


def test_unknown_profile_is_refused() -> None:
    doc, totals = document(example("invoice-standard"))
    with pytest.raises(ValidationError) as err:
        build_ubl(doc, totals, profile="xrechnung")
    assert err.value.field == "profile"

