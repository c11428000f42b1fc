"""The JSON spec names every bad field; the factuur-APK finds what blocks sending."""
from __future__ import annotations

import copy
import json

import pytest

from core.compliance import check_document, has_blocking
from core.document import VatTreatment
from core.spec import SpecError, parse_spec, spec_json_schema
from tests.conftest import REPO

EXAMPLES = sorted((REPO / "examples").glob("*.json"))


def load(name: str) -> dict:
    return json.loads((REPO / "examples" / f"{name}.json").read_text())


def problems(data: dict) -> dict[str, str]:
    with pytest.raises(SpecError) as err:
        parse_spec(data)
    return dict(err.value.problems)


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_every_example_parses_and_passes_the_check(path) -> None:  # type: ignore[no-untyped-def]
    doc = parse_spec(json.loads(path.read_text()))
    assert not has_blocking(check_document(doc)), [f.text("en") for f in check_document(doc)]


def test_published_schema_is_current() -> None:
    committed = json.loads((REPO / "docs/document-spec.schema.json").read_text())
    assert committed == spec_json_schema(), "regenerate docs/document-spec.schema.json"


def test_bad_input_names_each_field() -> None:
    data = load("invoice-standard")
    data["issue_date"] = "2026-02-31"
    data["seller"]["fax"] = "020-1234"
    data["lines"][1]["quantity"] = "12,5,0"
    data["lines"][2]["unit_price"] = 12.35
    data["vat_treatment"] = "btw-vrij"
    found = problems(data)
    assert set(found) == {"issue_date", "seller.fax", "lines[1].quantity", "lines[2].unit_price", "vat_treatment"}
    assert found["seller.fax"] == "unknown field"
    assert "12,5,0" in found["lines[1].quantity"]
    assert "string" in found["lines[2].unit_price"]


def test_missing_and_oversized_input() -> None:
    data = load("invoice-standard")
    del data["buyer"]
    data["lines"] = []
    data["intro"] = "x" * 5000
    assert set(problems(data)) == {"buyer", "lines", "intro"}
    assert set(problems({"type": "bill"})) >= {"type", "issue_date", "seller", "buyer", "lines"}


def codes(data: dict) -> dict[str, bool]:
    return {f.code: f.blocking for f in check_document(parse_spec(data))}


def test_reverse_charge_needs_the_buyer_vat_id_and_an_eu_business() -> None:
    data = load("invoice-reverse-charge")
    del data["buyer"]["vat_id"]
    data["buyer"]["is_business"] = False
    found = codes(data)
    assert found["buyer.vat_id.missing"] and found["buyer.consumer"]
    data = load("invoice-reverse-charge")
    data["buyer"]["country"] = "US"
    assert codes(data)["buyer.country.not_eu"]


def test_kor_with_vat_lines_and_kor_without_registration_block() -> None:
    data = load("invoice-kor")
    data["lines"][0]["vat_rate"] = "21"
    assert codes(data)["lines.vat_rate.exempt"]
    data = load("invoice-kor")
    data["seller"]["kor"] = False
    assert codes(data)["seller.kor.not_registered"]
    data = load("invoice-standard")
    data["seller"]["kor"] = True
    assert codes(data)["seller.kor.charges_vat"]


def test_credit_note_without_its_original_blocks() -> None:
    data = load("credit-note")
    del data["original_invoice"]
    assert codes(data)["original_invoice.missing"]


@pytest.mark.parametrize("field, value, code", [
    ("kvk", "", "seller.kvk.missing"), ("kvk", "1234", "seller.kvk.invalid"),
    ("vat_id", "", "seller.vat_id.missing"), ("vat_id", "NL123456789B02", "seller.vat_id.invalid"),
    ("iban", "NL00ABNA0417164300", "seller.iban.invalid"), ("street", "", "seller.address.missing"),
    ("postcode", "99999", "seller.postcode.invalid"),
])
def test_seller_fields_of_art_35a(field: str, value: str, code: str) -> None:
    data = load("invoice-standard")
    data["seller"][field] = value
    assert codes(data).get(code) is True


def test_advice_does_not_block() -> None:
    data = load("invoice-standard")
    del data["delivery_date"]
    data["due_days"] = 90
    found = codes(data)
    assert found == {"delivery_date.missing": False, "due_date.too_long": False}
    data = load("quote")
    data["seller"]["iban"] = ""
    assert codes(data) == {"seller.iban.missing": False}
    data = load("invoice-standard")
    data["seller"]["iban"] = ""
    assert codes(data) == {"seller.iban.missing": True}     # NL-R-007: a Dutch invoice says where to pay


def test_unknown_vat_rate_and_dated_rates() -> None:
    data = load("invoice-standard")
    data["lines"][0]["vat_rate"] = "19"
    assert codes(data)["lines.vat_rate.unknown"]
    data = load("invoice-standard")
    data["lines"][2]["vat_rate"] = "6"          # 6 % ended on 1 January 2019
    assert codes(data)["lines.vat_rate.unknown"]


def test_messages_in_both_languages() -> None:
    data = load("credit-note")
    del data["original_invoice"]
    finding = next(f for f in check_document(parse_spec(data)) if f.code == "original_invoice.missing")
    assert finding.text("nl").startswith("Een creditfactuur moet")
    assert finding.text("en").startswith("A credit note must")


def test_treatments_parse() -> None:
    for treatment in VatTreatment:
        data = copy.deepcopy(load("invoice-standard"))
        data["vat_treatment"] = treatment.value
        assert parse_spec(data).vat_treatment is treatment
