"""VAT per rate on the summed line amounts, exact to the cent, for every treatment."""
from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.document import DocumentData, DocumentKind, Line, Party, VatTreatment
from core.money import round_money
from core.spec import parse_spec
from core.vat import VatCategory, compute_totals, rates_on
from tests.conftest import REPO

D = Decimal


def doc(lines, treatment=VatTreatment.STANDARD, discount="0", paid="0"):  # type: ignore[no-untyped-def]
    return DocumentData(kind=DocumentKind.INVOICE, issue_date=date(2026, 11, 30), seller=Party("S"),
                        buyer=Party("B"), lines=tuple(lines), vat_treatment=treatment,
                        discount_percent=D(discount), amount_paid=D(paid))


def test_the_standard_example_to_the_cent() -> None:
    spec = json.loads((REPO / "examples/invoice-standard.json").read_text())
    totals = compute_totals(parse_spec(spec))
    assert totals.line_nets == (D("600.00"), D("405.00"), D("37.05"))
    s21, s9 = totals.subtotals
    assert (s21.category, s21.rate, s21.lines_total, s21.allowance, s21.base, s21.vat) == (
        VatCategory.STANDARD, D(21), D("1005.00"), D("50.25"), D("954.75"), D("200.50"))
    assert (s9.rate, s9.lines_total, s9.allowance, s9.base, s9.vat) == (
        D(9), D("37.05"), D("1.85"), D("35.20"), D("3.17"))
    assert (totals.total_excl, totals.total_vat, totals.total_incl) == (D("989.95"), D("203.67"), D("1193.62"))


def test_vat_is_computed_on_the_sum_not_per_line() -> None:
    # 3 lines of 0.50 at 21 %: per line 0.105 -> 0.11 each (0.33); on the sum 1.50 -> 0.315 -> 0.32
    totals = compute_totals(doc([Line("x", D(1), D("0.50"), D(21))] * 3))
    assert totals.total_vat == D("0.32")


def test_line_discount_and_fractional_quantity() -> None:
    totals = compute_totals(doc([Line("advies", D("0.333"), D("75"), D(21), discount_percent=D("12.5"))]))
    assert totals.line_nets == (D("21.85"),)   # 0.333 * 75 * 0.875 = 21.853125
    assert totals.total_vat == D("4.59")        # 4.5885 -> 4.59


@pytest.mark.parametrize("treatment, category", [
    (VatTreatment.REVERSE_CHARGE, VatCategory.REVERSE_CHARGE), (VatTreatment.INTRA_EU_GOODS, VatCategory.INTRA_EU),
    (VatTreatment.EXPORT, VatCategory.EXPORT), (VatTreatment.KOR, VatCategory.EXEMPT),
    (VatTreatment.EXEMPT, VatCategory.EXEMPT),
])
def test_non_standard_treatments_charge_no_vat(treatment: VatTreatment, category: VatCategory) -> None:
    totals = compute_totals(doc([Line("x", D(2), D("600"), D(21)), Line("y", D(1), D("10"), D(9))], treatment))
    assert [(s.category, s.rate, s.vat) for s in totals.subtotals] == [(category, D(0), D("0.00"))]
    assert totals.total_incl == totals.total_excl == D("1210.00")
    assert totals.subtotals[0].exemption_text_nl


def test_zero_rate_in_standard_is_category_z() -> None:
    totals = compute_totals(doc([Line("x", D(1), D("10"), D(0)), Line("y", D(1), D("10"), D(21))]))
    assert [(s.category, s.rate) for s in totals.subtotals] == [(VatCategory.STANDARD, D(21)), (VatCategory.ZERO, D(0))]


def test_partial_payment_leaves_the_rest_due() -> None:
    totals = compute_totals(doc([Line("x", D(1), D("100"), D(21))], paid="21"))
    assert (totals.total_incl, totals.amount_paid, totals.amount_due) == (D("121.00"), D("21.00"), D("100.00"))


def test_rates_are_dated() -> None:
    assert D(6) in rates_on(date(2018, 12, 31)) and D(9) not in rates_on(date(2018, 12, 31))
    assert rates_on(date(2026, 11, 30)) == {D(21), D(9), D(0)}


amounts = st.decimals(min_value=D("-1000"), max_value=D("100000"), places=2, allow_nan=False, allow_infinity=False)
quantities = st.decimals(min_value=D("0.001"), max_value=D("1000"), places=3, allow_nan=False, allow_infinity=False)
percents = st.decimals(min_value=D(0), max_value=D(100), places=2, allow_nan=False, allow_infinity=False)
lines = st.builds(Line, description=st.just("x"), quantity=quantities, unit_price=amounts,
                  vat_rate=st.sampled_from([D(21), D(9), D(0)]), discount_percent=percents)


@settings(max_examples=300, deadline=None)
@given(st.lists(lines, min_size=1, max_size=12), percents, st.sampled_from(list(VatTreatment)))
def test_totals_invariants(ls: list[Line], discount: Decimal, treatment: VatTreatment) -> None:
    totals = compute_totals(doc(ls, treatment, str(discount)))
    cent = D("0.01")
    for value in (totals.total_excl, totals.total_vat, totals.total_incl, *totals.line_nets):
        assert value == value.quantize(cent)
    assert totals.total_incl == totals.total_excl + totals.total_vat
    assert totals.total_excl == totals.lines_total - totals.allowance_total
    assert totals.lines_total == sum(totals.line_nets)
    for s in totals.subtotals:
        assert s.base == s.lines_total - s.allowance
        assert s.vat == round_money(s.base * s.rate / 100)
        assert s.allowance == round_money(s.lines_total * discount / 100)
    if treatment is not VatTreatment.STANDARD:
        assert totals.total_vat == 0
    # each VAT rate appears once; the order of the lines does not matter
    keys = [(s.category, s.rate) for s in totals.subtotals]
    assert len(keys) == len(set(keys))
    assert compute_totals(doc(list(reversed(ls)), treatment, str(discount))).subtotals == totals.subtotals


@settings(max_examples=200, deadline=None)
@given(st.lists(lines, min_size=1, max_size=12))
def test_vat_on_sum_differs_from_per_line_vat_by_at_most_half_a_cent_per_line(ls: list[Line]) -> None:
    totals = compute_totals(doc(ls))
    per_line = sum(round_money(n * line.vat_rate / 100) for n, line in zip(totals.line_nets, ls))
    assert abs(per_line - totals.total_vat) <= D("0.005") * len(ls) + D("0.01")
