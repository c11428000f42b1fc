"""The assertions every e-invoice test makes: 0 fatal findings from the official rules (findings
printed on failure), the numbers equal to ``Totals`` to the cent, and every line adding up."""
from __future__ import annotations

from typing import Any

from core.cii import build_cii
from core.ubl import build_ubl
from tests.einvoice.cases import document
from tests.einvoice.xml_numbers import (
    assert_lines_add_up,
    cii_lines,
    cii_numbers,
    expected_numbers,
    report,
    ubl_lines,
    ubl_numbers,
)

# The header delivery element is mandatory in CII; a credit note without a delivery date leaves it
# empty, which the Factur-X schematron reports as a warning (never fatal).
ALLOWED_CII_WARNINGS = {"PEPPOL-EN16931-R008"}


def validate_ubl(validator: Any, xml: bytes, profile: str) -> Any:
    result = validator.validate(f"<{profile}>", xml_text=xml.decode("utf-8"))
    assert result.layers == ["xsd", "peppol" if profile == "peppol" else "nlcius"], result.layers
    return result


def assert_valid_ubl(validator: Any, data: dict[str, Any], profile: str) -> bytes:
    doc, totals = document(data)
    xml = build_ubl(doc, totals, profile=profile)
    result = validate_ubl(validator, xml, profile)
    assert result.fatal_count == 0, report(result.findings)
    assert ubl_numbers(xml) == expected_numbers(totals, discount=bool(doc.discount_percent))
    assert_lines_add_up(ubl_lines(xml))
    return xml


def assert_clean_facturx(result: Any) -> None:
    assert (result.flavor, result.level) == ("factur-x", "en16931")
    assert result.fatal_count == 0, report(result.findings)
    unexpected = [f for f in result.findings if f.id not in ALLOWED_CII_WARNINGS]
    assert not unexpected, report(unexpected)
    assert_lines_add_up(cii_lines(result.xml))


def assert_valid_cii(checker: Any, data: dict[str, Any]) -> bytes:
    doc, totals = document(data)
    cii = build_cii(doc, totals)
    assert_clean_facturx(checker.check_xml(cii))
    assert cii_numbers(cii) == expected_numbers(totals, discount=bool(doc.discount_percent))
    return cii
