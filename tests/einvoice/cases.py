"""The documents the e-invoice tests build: every example of ``examples/``, a credit note for each
VAT treatment, and extra cases for the corners (mixed rates with discounts, partial payment,
consumers, hostile text, odd quantities). Each is a JSON spec as ``core.spec.parse_spec`` reads it;
every call returns a fresh dict.
"""
from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from core.document import DocumentData
from core.spec import parse_spec
from core.vat import Totals, compute_totals

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
PROFILE_NAMES = ("peppol", "nlcius")

NL_BUSINESS = {"name": "Bakkerij de Vries B.V.", "street": "Dorpsstraat 1", "postcode": "3512 AB",
               "city": "Utrecht", "country": "NL", "vat_id": "NL853746333B01", "kvk": "87654321",
               "email": "administratie@bakkerijdevries.nl"}
DE_BUSINESS = {"name": "Muster GmbH", "street": "Hauptstraße 5", "postcode": "10115", "city": "Berlin",
               "country": "DE", "vat_id": "DE136695976", "email": "buchhaltung@muster.de"}
BE_BUSINESS = {"name": "Imprimerie Dupont SA", "street": "Rue de la Loi 16", "postcode": "1000",
               "city": "Brussel", "country": "BE", "vat_id": "BE0403019261"}
US_BUSINESS = {"name": "Acme Inc.", "street": "1 Market Street", "postcode": "94105",
               "city": "San Francisco", "country": "US"}
NL_CONSUMER = {"name": "J. de Boer", "street": "Lindelaan 8", "postcode": "2011 AA", "city": "Haarlem",
               "country": "NL", "email": "jdeboer@example.nl", "is_business": False}
BE_CONSUMER = {"name": "Marie Peeters", "street": "Meir 1", "postcode": "2000", "city": "Antwerpen",
               "country": "BE", "is_business": False}

# Who buys under each VAT treatment (reverse charge and intra-EU need an EU business with a VAT id).
TREATMENT_BUYERS = {
    "standard": NL_BUSINESS, "reverse_charge": DE_BUSINESS, "intra_eu_goods": BE_BUSINESS,
    "export": US_BUSINESS, "kor": NL_BUSINESS, "exempt": NL_BUSINESS,
}

HOSTILE = '<img src=x onerror="alert(1)"> & \'quotes\' "double" ]]> </cbc:Note><cbc:Note>'


def example(name: str) -> dict[str, Any]:
    return json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8"))


def billing_examples() -> list[str]:
    """The examples that are invoices or credit notes (not quotes)."""
    return sorted(p.stem for p in EXAMPLES.glob("*.json")
                  if json.loads(p.read_text(encoding="utf-8"))["type"] in ("invoice", "credit_note"))


def spec(**overrides: Any) -> dict[str, Any]:
    """The standard example with overrides: ``seller`` is merged, every other key replaced
    (``buyer`` too), ``None`` removes a key."""
    data = example("invoice-standard")
    for key, value in overrides.items():
        if key == "seller":
            data["seller"] = {**data["seller"], **value}
        elif value is None:
            data.pop(key, None)
        else:
            data[key] = copy.deepcopy(value)
    return data


def treatment_spec(treatment: str, **overrides: Any) -> dict[str, Any]:
    seller = {"kor": treatment == "kor"}
    return spec(vat_treatment=treatment, buyer=TREATMENT_BUYERS[treatment], seller=seller, **overrides)


def credit_note_spec(treatment: str) -> dict[str, Any]:
    return treatment_spec(treatment, type="credit_note", number="CN-2026-0004", due_days=None,
                          original_invoice={"number": "2026-0042", "issue_date": "2026-11-30"})


def line(description: str, quantity: str, unit_price: str, vat_rate: str = "21", unit: str = "",
         discount: str = "0") -> dict[str, str]:
    return {"description": description, "quantity": quantity, "unit": unit, "unit_price": unit_price,
            "vat_rate": vat_rate, "discount_percent": discount}


EXTRA_CASES: dict[str, dict[str, Any]] = {
    "mixed-9-21-discounts": spec(discount_percent="7.5", lines=[
        line("Ontwerp", "2.5", "85", "21", "uur", discount="12.5"),
        line("Drukproef", "3", "19.99", "21", "stuk", discount="33.33"),
        line("Boeken", "7", "14.95", "9", "stuk", discount="15"),
        line("Catering", "1", "48.40", "9"),
        line("Reiskosten", "37", "0.23", "21", "km"),
    ]),
    "partially-paid": spec(amount_paid="500.00", buyer_reference="PO-4711"),
    "fully-paid": spec(discount_percent="0", amount_paid="121.00", lines=[line("Advies", "1", "100", "21", "uur")]),
    "consumer-nl": spec(buyer=NL_CONSUMER),
    "consumer-be": spec(buyer=BE_CONSUMER),
    "hostile-text": spec(
        intro=HOSTILE, outro="Groet & tot ziens <b>", buyer_reference="PO <1> & \"2\"",
        payment_reference="REF&<ref>",
        buyer={**NL_BUSINESS, "name": 'Bakkerij "De <Vries>" & Zn.', "street": "Dorpsstraat 1 <b>"},
        lines=[line(HOSTILE, "1", "100", "21", "uur"), line("Tab\tnaar \x01 \x0b regel", "2", "10", "9")],
    ),
    "odd-quantities": spec(discount_percent="3", lines=[
        line("Consult", "0.333", "97.50", "21", "uur"),
        line("Onderdelen", "7", "12.3456", "21", "stuk", discount="2.5"),
        line("Kilometers", "12.7", "0.2345", "21", "km"),
        line("Licentie", "1", "0.0049", "9", "maand"),
        line("Korting vaste klant", "1", "-25.00", "21"),
    ]),
    # The 9 % VAT of -0.05 is -0.0045: Decimal("-0.00") in Totals, to be written as 0.00.
    "tiny-negative-line": spec(discount_percent="0", lines=[
        line("Advies", "1", "100", "21", "uur"), line("Afronding", "1", "-0.05", "9"),
    ]),
    # A credit note that ends up negative: the buyer pays, so it carries the seller's payment means.
    "credit-note-negative": spec(type="credit_note", number="CN-2026-0005", discount_percent="0",
                                 original_invoice={"number": "2026-0042", "issue_date": "2026-11-30"},
                                 lines=[line("Creditering", "1", "50", "21"), line("Nabelasting", "2", "-40", "21")]),
    "long-description": spec(lines=[
        line("Website\n" + "Ontwerp en bouw van de nieuwe website, " * 40, "1", "1250", "21", "stuk"),
    ]),
}

UBL_CASES: list[tuple[str, dict[str, Any]]] = (
    [(f"credit-note-{t}", credit_note_spec(t)) for t in TREATMENT_BUYERS]
    + [(f"invoice-{t}", treatment_spec(t)) for t in TREATMENT_BUYERS]
    + list(EXTRA_CASES.items())
)


def document(data: dict[str, Any]) -> tuple[DocumentData, Totals]:
    doc = parse_spec(copy.deepcopy(data), base_dir=EXAMPLES)
    return doc, compute_totals(doc)


def is_dutch_consumer(data: dict[str, Any]) -> bool:
    """SI-UBL 2.0 cannot hold a Dutch customer without a KvK number (BR-NL-10)."""
    return data["buyer"].get("country", "NL") == "NL" and not data["buyer"].get("kvk")
