"""Incoming e-invoices (``core.einvoice_read``): the official examples of the shared kit (read in
place), the UBL and CII that Klerk itself writes from ``examples/*.json``, and hostile XML."""
from __future__ import annotations

import json
import os
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from core.cii import build_cii
from core.einvoice_read import einvoice_kind, read_einvoice
from core.errors import ReceiptRejectedError
from core.spec import parse_spec
from core.ubl import build_ubl
from core.vat import compute_totals

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
KIT = Path(os.environ.get("KLERK_EINVOICE_KIT_DIR", REPO.parent / "shared" / "einvoice")) / "kit"


def kit_file(relative: str) -> bytes:
    path = KIT / relative
    if not path.is_file():
        pytest.fail(f"e-invoice kit not found: {path} (set KLERK_EINVOICE_KIT_DIR)", pytrace=False)
    return path.read_bytes()


def kit_files(*patterns: str) -> list[str]:
    return sorted(str(p.relative_to(KIT)) for pattern in patterns for p in KIT.glob(pattern))


def vat_of(extraction) -> list[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    return [(str(v.rate), str(v.amount), str(v.base)) for v in extraction.vat]


# --------------------------------------------------------------------------- the official examples

def test_the_same_dutch_invoice_in_ubl_and_cii_reads_the_same() -> None:
    ubl = read_einvoice(kit_file("en16931/ubl/examples/ubl-tc434-example1.xml"))
    cii = read_einvoice(kit_file("en16931/cii/examples/CII_example1.xml"))
    assert (ubl.source, cii.source) == ("ubl", "cii")
    for e in (ubl, cii):
        assert e.total == Decimal("250.33")
        assert e.net == Decimal("229.60")
        assert vat_of(e) == [("6", "10.99", "183.23"), ("21", "9.74", "46.37")]
        assert e.date == date(2015, 1, 9)
        assert e.invoice_number == "12115118"
        assert e.currency == "EUR"
        assert e.vendor_vat_id == "NL820098395B01"          # written "NL8200.98.395.B.01" in the UBL
        assert e.vendor_iban == "NL57RABO0107307510"
        assert e.vendor is not None and "Koksmaat" in e.vendor
        assert e.paid_hint is False                          # the whole amount is still payable
        assert set(e.confidence.values()) == {1.0}


def test_official_credit_note_is_negative() -> None:
    e = read_einvoice(kit_file("en16931/ubl/examples/ubl-tc434-creditnote1.xml"))
    assert e.total == Decimal("-100.11") and e.net == Decimal("-100.11")
    assert e.vendor == "My Supplier Company N.V." or e.vendor
    assert e.paid_hint is None


def test_ubl_without_scheme_takes_a_dutch_sellers_eight_digits_as_kvk() -> None:
    assert read_einvoice(kit_file("en16931/ubl/examples/ubl-tc434-example1.xml")).vendor_kvk == "57151520"


@pytest.mark.parametrize("relative", kit_files("en16931/ubl/examples/*", "en16931/cii/examples/*.xml",
                                               "peppol/examples/*.xml", "nlcius/testset/SI-UBL-2.0/*_ok*.xml"))
def test_every_official_example_reads_with_consistent_totals(relative: str) -> None:
    e = read_einvoice(kit_file(relative))
    assert e.source in ("ubl", "cii")
    assert e.date is not None and e.invoice_number and e.vendor and e.currency
    assert e.total is not None and e.net is not None
    vat = sum((v.amount for v in e.vat), Decimal(0))
    # TaxInclusive = TaxExclusive + VAT (BR-CO-15); the rules allow no other difference.
    assert e.total == e.net + vat, (e.total, e.net, vat)


@pytest.mark.parametrize("relative", kit_files("nlcius/testset/SI-UBL-2.0/*.xml"))
def test_rule_test_files_with_missing_or_wrong_parts_still_read(relative: str) -> None:
    """The SI-UBL rule suite breaks one thing at a time (no number, no seller name, a wrong tax
    total...): reading gives what is there and ``None`` for what is missing, never a crash. Checking
    the sums is the inbox's job, not the reader's."""
    e = read_einvoice(kit_file(relative))
    assert e.source == "ubl"
    assert e.total is None or isinstance(e.total, Decimal)
    assert e.date is None or isinstance(e.date, date)


# --------------------------------------------------------------------------- Klerk's own e-invoices

BILLING = sorted(p.stem for p in EXAMPLES.glob("*.json")
                 if json.loads(p.read_text(encoding="utf-8"))["type"] in ("invoice", "credit_note"))


@pytest.mark.parametrize("name", BILLING)
@pytest.mark.parametrize("syntax", ["peppol", "nlcius", "cii"])
def test_what_klerk_writes_reads_back_to_the_cent(name: str, syntax: str) -> None:
    data = json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8"))
    doc = parse_spec(data, base_dir=EXAMPLES)
    totals = compute_totals(doc)
    if syntax == "nlcius" and doc.buyer.country == "NL" and not doc.buyer.kvk:
        pytest.skip("SI-UBL cannot address a Dutch consumer (BR-NL-10)")
    xml = build_cii(doc, totals) if syntax == "cii" else build_ubl(doc, totals, profile=syntax)
    e = read_einvoice(xml)
    sign = -1 if doc.kind.value == "credit_note" else 1
    assert e.source == ("cii" if syntax == "cii" else "ubl")
    assert e.total == sign * totals.total_incl
    assert e.net == sign * totals.total_excl
    assert sorted(vat_of(e)) == sorted((str(s.rate), str(sign * s.vat), str(sign * s.base)) for s in totals.subtotals)
    assert e.date == doc.issue_date and e.invoice_number == doc.number and e.currency == doc.currency
    assert e.vendor == doc.seller.name
    assert e.vendor_kvk == doc.seller.kvk and e.vendor_vat_id == doc.seller.vat_id
    if doc.kind.value == "invoice":
        assert e.vendor_iban == doc.seller.iban
        assert e.paid_hint is False


def test_einvoice_kind_tells_ubl_cii_and_others_apart() -> None:
    assert einvoice_kind(kit_file("en16931/ubl/examples/ubl-tc434-example1.xml")) == "ubl"
    assert einvoice_kind(kit_file("en16931/cii/examples/CII_example1.xml")) == "cii"
    assert einvoice_kind(b"<Order xmlns='urn:x'/>") is None
    assert einvoice_kind(b"not xml at all") is None


# --------------------------------------------------------------------------- hostile XML

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"><ID>&lol3;</ID></Invoice>"""


def test_entity_expansion_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET")
    external = (f'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file://{secret}">]>'
                '<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"><ID>&xxe;</ID></Invoice>').encode()
    for hostile in (BILLION_LAUGHS, external):
        with pytest.raises(ReceiptRejectedError, match="DTD"):
            read_einvoice(hostile)


@pytest.mark.parametrize("content, reason", [
    (b"<Invoice><unclosed></Invoice>", "well-formed"),
    (b"<Order xmlns='urn:oasis:names:specification:ubl:schema:xsd:Order-2'/>", "not a UBL or CII"),
    (b"", "well-formed"),
])
def test_xml_that_is_no_einvoice_is_refused(content: bytes, reason: str) -> None:
    with pytest.raises(ReceiptRejectedError, match=reason):
        read_einvoice(content)


ZUGFERD_1_WITHOUT_BREAKDOWN = """<?xml version="1.0" encoding="UTF-8"?>
<rsm:CrossIndustryDocument xmlns:rsm="urn:ferd:CrossIndustryDocument:invoice:1p0"
  xmlns:ram="urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:12"
  xmlns:udt="urn:un:unece:uncefact:data:standard:UnqualifiedDataType:15">
 <rsm:HeaderExchangedDocument><ram:ID>RE-1</ram:ID><ram:TypeCode>380</ram:TypeCode>
  <ram:IssueDateTime><udt:DateTimeString format="102">20140703</udt:DateTimeString></ram:IssueDateTime>
 </rsm:HeaderExchangedDocument>
 <rsm:SpecifiedSupplyChainTradeTransaction>
  <ram:ApplicableSupplyChainTradeAgreement><ram:SellerTradeParty><ram:Name>Bei Spiel GmbH</ram:Name>
  </ram:SellerTradeParty></ram:ApplicableSupplyChainTradeAgreement>
  <ram:ApplicableSupplyChainTradeSettlement><ram:InvoiceCurrencyCode>EUR</ram:InvoiceCurrencyCode>
   <ram:SpecifiedTradeSettlementMonetarySummation>
    <ram:TaxBasisTotalAmount currencyID="EUR">{net}</ram:TaxBasisTotalAmount>
    <ram:TaxTotalAmount currencyID="EUR">{tax}</ram:TaxTotalAmount>
    <ram:GrandTotalAmount currencyID="EUR">{total}</ram:GrandTotalAmount>
   </ram:SpecifiedTradeSettlementMonetarySummation>
  </ram:ApplicableSupplyChainTradeSettlement>
  {lines}
 </rsm:SpecifiedSupplyChainTradeTransaction>
</rsm:CrossIndustryDocument>"""
LINE = """<ram:IncludedSupplyChainTradeLineItem>
   <ram:SpecifiedSupplyChainTradeAgreement><ram:NetPriceProductTradePrice>
    <ram:ChargeAmount currencyID="EUR">{price}</ram:ChargeAmount></ram:NetPriceProductTradePrice>
   </ram:SpecifiedSupplyChainTradeAgreement>
   <ram:SpecifiedSupplyChainTradeDelivery><ram:BilledQuantity unitCode="C62">{quantity}</ram:BilledQuantity>
   </ram:SpecifiedSupplyChainTradeDelivery>
   <ram:SpecifiedSupplyChainTradeSettlement><ram:ApplicableTradeTax><ram:TypeCode>VAT</ram:TypeCode>
    <ram:ApplicablePercent>{rate}</ram:ApplicablePercent></ram:ApplicableTradeTax>
   </ram:SpecifiedSupplyChainTradeSettlement></ram:IncludedSupplyChainTradeLineItem>"""


def test_zugferd_1_without_tax_breakdown_gets_it_from_the_lines_when_it_adds_up() -> None:
    lines = "".join(LINE.format(price=p, quantity=q, rate=r) for p, q, r in
                    (("160.00", "1", "7.00"), ("0.79", "400", "19.00"), ("0.025", "800", "19.00")))
    e = read_einvoice(ZUGFERD_1_WITHOUT_BREAKDOWN.format(net="496.00", tax="75.04", total="571.04", lines=lines).encode())
    assert e.source == "cii" and e.total == Decimal("571.04") and e.date == date(2014, 7, 3)
    assert vat_of(e) == [("19", "63.84", "336.00"), ("7", "11.20", "160.00")]
    wrong = read_einvoice(ZUGFERD_1_WITHOUT_BREAKDOWN.format(net="496.00", tax="75.05", total="571.05",
                                                             lines=lines).encode())
    assert wrong.vat == ()                       # a breakdown that does not add up is not invented
