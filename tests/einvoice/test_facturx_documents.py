"""CII (Factur-X EN 16931) built by ``core.cii`` and embedded in a WeasyPrint PDF/A-3, checked with the
Factur-X XSD and schematron and the EN 16931 CII rules; the numbers against ``Totals`` to the cent."""
from __future__ import annotations

import io
import re

import pytest
from lxml import etree
from pypdf import PdfReader

from core.cii import build_cii, embed_facturx
from core.errors import ValidationError
from core.ubl import build_ubl
from tests.einvoice.cases import (
    EXTRA_CASES,
    HOSTILE,
    TREATMENT_BUYERS,
    UBL_CASES,
    billing_examples,
    credit_note_spec,
    document,
    example,
    treatment_spec,
)
from tests.einvoice.checks import assert_clean_facturx, assert_valid_cii
from tests.einvoice.xml_numbers import (
    CII_NS,
    cii_numbers,
    expected_numbers,
    report,
    ubl_numbers,
)


@pytest.mark.parametrize("name", billing_examples())
def test_every_example_is_a_valid_facturx_pdf(facturx_checker, pdfa3_pdf: bytes, name: str) -> None:
    doc, totals = document(example(name))
    cii = build_cii(doc, totals)
    pdf = embed_facturx(pdfa3_pdf, cii)
    result = facturx_checker.check_pdf(pdf)
    assert_clean_facturx(result)
    assert result.xml == cii
    assert cii_numbers(result.xml) == expected_numbers(totals, discount=bool(doc.discount_percent))


@pytest.mark.parametrize("kind", ["invoice", "credit_note"])
@pytest.mark.parametrize("treatment", list(TREATMENT_BUYERS))
def test_every_treatment_is_a_valid_facturx_pdf(facturx_checker, pdfa3_pdf: bytes, treatment: str,
                                                kind: str) -> None:
    data = credit_note_spec(treatment) if kind == "credit_note" else treatment_spec(treatment)
    doc, totals = document(data)
    result = facturx_checker.check_pdf(embed_facturx(pdfa3_pdf, build_cii(doc, totals)))
    assert_clean_facturx(result)
    assert cii_numbers(result.xml) == expected_numbers(totals, discount=bool(doc.discount_percent))


@pytest.mark.parametrize("name", list(EXTRA_CASES))
def test_extra_cases_are_valid_cii_with_exact_numbers(facturx_checker, name: str) -> None:
    assert_valid_cii(facturx_checker, EXTRA_CASES[name])


@pytest.mark.parametrize("name", [name for name, _ in UBL_CASES])
def test_cii_and_ubl_carry_the_same_numbers(name: str) -> None:
    doc, totals = document(dict(UBL_CASES)[name])
    assert cii_numbers(build_cii(doc, totals)) == ubl_numbers(build_ubl(doc, totals))


def test_the_checker_does_catch_a_wrong_total(facturx_checker) -> None:
    doc, totals = document(example("invoice-standard"))
    cii = build_cii(doc, totals).replace(b"<ram:DuePayableAmount>1193.62<", b"<ram:DuePayableAmount>1203.62<")
    result = facturx_checker.check_xml(cii)
    assert "BR-CO-16" in {f.id for f in result.findings if f.fatal}, report(result.findings)


def test_the_pdf_is_pdfa3_with_the_facturx_metadata(pdfa3_pdf: bytes) -> None:
    doc, totals = document(example("invoice-standard"))
    reader = PdfReader(io.BytesIO(embed_facturx(pdfa3_pdf, build_cii(doc, totals))))
    catalog = reader.trailer["/Root"]
    xmp = catalog["/Metadata"].get_object().get_data().decode("utf-8")
    assert re.search(r"<pdfaid:part>3</pdfaid:part>", xmp) and re.search(r"<pdfaid:conformance>B<", xmp)
    assert re.search(r"<fx:ConformanceLevel>EN 16931</fx:ConformanceLevel>", xmp)
    assert re.search(r"<fx:DocumentFileName>factur-x.xml</fx:DocumentFileName>", xmp)
    assert list(reader.attachments) == ["factur-x.xml"] and "/AF" in catalog
    assert len(reader.pages) == 1


def test_header_content() -> None:
    doc, totals = document(example("credit-note"))
    root = etree.fromstring(build_cii(doc, totals))
    assert root.findtext("rsm:ExchangedDocumentContext/ram:GuidelineSpecifiedDocumentContextParameter/ram:ID",
                         namespaces=CII_NS) == "urn:cen.eu:en16931:2017"
    assert root.findtext("rsm:ExchangedDocument/ram:TypeCode", namespaces=CII_NS) == "381"
    trade = root.find("rsm:SupplyChainTradeTransaction", CII_NS)
    reference = trade.find("ram:ApplicableHeaderTradeSettlement/ram:InvoiceReferencedDocument", CII_NS)
    assert reference.findtext("ram:IssuerAssignedID", namespaces=CII_NS) == "2026-0042"
    assert reference.findtext("ram:FormattedIssueDateTime/*", namespaces=CII_NS) == "20261130"
    seller = trade.find("ram:ApplicableHeaderTradeAgreement/ram:SellerTradeParty", CII_NS)
    assert seller.find("ram:SpecifiedLegalOrganization/ram:ID", CII_NS).get("schemeID") == "0106"
    assert seller.findtext("ram:SpecifiedTaxRegistration/ram:ID", namespaces=CII_NS) == "NL000099998B57"


def test_hostile_text_is_escaped_in_cii() -> None:
    doc, totals = document(EXTRA_CASES["hostile-text"])
    cii = build_cii(doc, totals)
    assert b"<img" not in cii
    root = etree.fromstring(cii)
    names = root.xpath("//ram:SpecifiedTradeProduct/ram:Name/text()", namespaces=CII_NS)
    assert names == [HOSTILE, "Tab\tnaar   regel"]


def test_quote_is_refused() -> None:
    doc, totals = document(example("quote"))
    with pytest.raises(ValidationError) as err:
        build_cii(doc, totals)
    assert err.value.field == "type"


def test_embedding_needs_a_pdf() -> None:
    doc, totals = document(example("invoice-standard"))
    with pytest.raises(ValidationError):
        embed_facturx(b"<html>not a pdf</html>", build_cii(doc, totals))
