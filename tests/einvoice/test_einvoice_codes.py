"""The code tables and formats shared by the UBL and CII builders (``core.einvoice_codes``)."""
from __future__ import annotations

from decimal import Decimal

import pytest

from core.document import Party
from core.einvoice_codes import (
    Endpoint,
    clean_text,
    decimal_str,
    endpoint_for,
    item_name,
    payment_means_code,
    price_str,
    unit_code,
)


@pytest.mark.parametrize(("unit", "code"), [
    ("uur", "HUR"), ("Uren", "HUR"), ("hour", "HUR"), ("u.", "HUR"), ("dag", "DAY"), ("days", "DAY"),
    ("stuk", "H87"), ("stuks", "H87"), ("piece", "H87"), ("", "C62"), ("  ", "C62"), ("sessie", "C62"),
    ("km", "KMT"), ("maand", "MON"), ("month", "MON"), ("week", "WEE"), ("jaar", "ANN"), ("kg", "KGM"),
    ("m2", "MTK"), ("liter", "LTR"), ("minuten", "MIN"), ("woorden", "D68"), ("forfait", "LS"),
])
def test_unit_codes(unit: str, code: str) -> None:
    assert unit_code(unit) == code


@pytest.mark.parametrize(("party", "endpoint"), [
    (Party("Studio Vos", kvk="12345678", vat_id="NL000099998B57"), Endpoint("0106", "12345678")),
    (Party("Muster", country="DE", vat_id="de 136 695 976"), Endpoint("9930", "DE136695976")),
    (Party("Dupont", country="BE", vat_id="BE0403019261"), Endpoint("9925", "BE0403019261")),
    (Party("Ellas", country="GR", vat_id="EL094014201"), Endpoint("9933", "EL094014201")),
    (Party("Rossi", country="IT", vat_id="IT00743110157"), Endpoint("0211", "IT00743110157")),
    (Party("Svensson", country="SE", vat_id="SE556036079301"), None),   # no Swedish VAT scheme in the EAS list
    (Party("Acme", country="US"), None),
    (Party("J. de Boer", is_business=False), None),
])
def test_endpoints(party: Party, endpoint: Endpoint | None) -> None:
    assert endpoint_for(party) == endpoint


@pytest.mark.parametrize(("iban", "code"), [("NL91ABNA0417164300", "58"), ("CH9300762011623852957", "58"),
                                            ("US12345678901234", "30")])
def test_payment_means_code(iban: str, code: str) -> None:
    assert payment_means_code(iban) == code


@pytest.mark.parametrize(("value", "text"), [
    (Decimal(21), "21"), (Decimal("21.00"), "21"), (Decimal("5.50"), "5.5"), (Decimal("0.333"), "0.333"),
    (Decimal(100), "100"), (Decimal("1E+3"), "1000"), (Decimal("0.00"), "0"), (Decimal(-1), "-1"),
])
def test_decimal_str(value: Decimal, text: str) -> None:
    assert decimal_str(value) == text


@pytest.mark.parametrize(("value", "text"), [
    (Decimal(75), "75.00"), (Decimal("12.5"), "12.50"), (Decimal("12.3456"), "12.3456"),
    (Decimal("1.8500"), "1.85"), (Decimal("0.0049"), "0.0049"), (Decimal("1E+2"), "100.00"),
])
def test_price_str(value: Decimal, text: str) -> None:
    assert price_str(value) == text


def test_clean_text_drops_what_xml_cannot_hold() -> None:
    assert clean_text("  a\x00b\x1fc\x0bd\tе\ufffe  ") == "abcd\tе"


def test_item_name() -> None:
    assert item_name("Logo") == "Logo"
    assert item_name("\n  Website\nmet tekst") == "Website"
    long = "x" * 250
    assert item_name(long) == "x" * 99 + "…" and len(item_name(long)) == 100
