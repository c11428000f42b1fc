"""Property test: any document Klerk can hold becomes a UBL (both profiles) and a CII that pass the
official rules, with the numbers of ``Totals`` to the cent and every line adding up."""
from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.einvoice.cases import TREATMENT_BUYERS, line, spec
from tests.einvoice.checks import assert_valid_cii, assert_valid_ubl

_quantity = st.decimals(min_value=Decimal("0.001"), max_value=Decimal(500), places=3)
_price = st.decimals(min_value=Decimal(-200), max_value=Decimal(2500), places=4)
_percent = st.one_of(st.just(Decimal(0)), st.decimals(min_value=Decimal("0.01"), max_value=Decimal(100), places=2))
_line = st.tuples(_quantity, _price, st.sampled_from(["21", "9", "0"]), _percent,
                  st.sampled_from(["uur", "dag", "stuk", "", "km", "maand", "sessie"]))


@settings(max_examples=40, deadline=None)
@given(lines=st.lists(_line, min_size=1, max_size=6), discount=_percent.filter(lambda d: d <= 50),
       paid=st.decimals(min_value=Decimal(0), max_value=Decimal(300), places=2),
       treatment=st.sampled_from(["standard", "standard", *TREATMENT_BUYERS]),
       kind=st.sampled_from(["invoice", "invoice", "credit_note"]))
def test_any_document_is_a_valid_e_invoice_with_exact_numbers(
        ubl_validator, facturx_checker, lines, discount, paid, treatment, kind) -> None:  # type: ignore[no-untyped-def]
    data = spec(type=kind, vat_treatment=treatment, buyer=TREATMENT_BUYERS[treatment],
                seller={"kor": treatment == "kor"}, discount_percent=str(discount), amount_paid=str(paid),
                original_invoice={"number": "2026-0001", "issue_date": "2026-11-01"},
                lines=[line(f"Regel {i}", str(q), str(p), rate, unit, str(d))
                       for i, (q, p, rate, d, unit) in enumerate(lines, start=1)])
    for profile in ("peppol", "nlcius"):
        assert_valid_ubl(ubl_validator, data, profile)
    assert_valid_cii(facturx_checker, data)
