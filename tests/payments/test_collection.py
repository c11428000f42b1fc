"""WIK collection costs at the bracket edges, commercial interest, and the 14-day letter's deadline."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.payments.collection import (collection_costs, collection_costs_with_vat, commercial_interest,
                                      commercial_interest_periods, letter_deadline, rate_on, receipt_date)

D = Decimal


@pytest.mark.parametrize("principal, costs", [
    ("0", "40.00"),            # the minimum
    ("100", "40.00"),
    ("266.66", "40.00"),       # 39.999 -> the minimum
    ("266.67", "40.00"),       # 40.0005 -> 40.00
    ("300", "45.00"),
    ("2500", "375.00"),        # end of the 15 % bracket
    ("2500.01", "375.00"),     # + 10 % of a cent rounds away
    ("2600", "385.00"),
    ("5000", "625.00"),        # end of the 10 % bracket
    ("10000", "875.00"),       # end of the 5 % bracket
    ("200000", "2775.00"),     # end of the 1 % bracket
    ("1000000", "6775.00"),    # 2775 + 0.5 % of 800.000 = the maximum exactly
    ("5000000", "6775.00"),    # capped
])
def test_wik_brackets(principal: str, costs: str) -> None:
    assert collection_costs(D(principal)) == D(costs)


@given(st.decimals(min_value=0, max_value=3_000_000, places=2), st.decimals(min_value=0, max_value=3_000_000, places=2))
def test_wik_is_monotonic_and_bounded(a: Decimal, b: Decimal) -> None:
    low, high = sorted((a, b))
    assert D(40) <= collection_costs(low) <= collection_costs(high) <= D(6775)


def test_costs_with_vat_when_the_creditor_cannot_deduct_it() -> None:
    assert collection_costs_with_vat(D(2500), creditor_deducts_vat=True) == D("375.00")
    assert collection_costs_with_vat(D(2500), creditor_deducts_vat=False) == D("453.75")


def test_interest_follows_the_rate_table_per_period() -> None:
    # 2025: 11.15 % until 30 June, 10.15 % from 1 July (⚠ unconfirmed data, see the module)
    periods = commercial_interest_periods(D(1000), due_date=date(2025, 1, 1), until=date(2025, 12, 31))
    assert [(p.start, p.end, p.rate) for p in periods] == [
        (date(2025, 1, 2), date(2025, 6, 30), D("11.15")), (date(2025, 7, 1), date(2025, 12, 31), D("10.15"))]
    # 1000 x 11.15 % x 180/365 + 1000 x 10.15 % x 184/365 = 54.99 + 51.17
    assert commercial_interest(D(1000), due_date=date(2025, 1, 1), until=date(2025, 12, 31)) == D("106.15")
    assert commercial_interest(D(1000), due_date=date(2025, 1, 1), until=date(2025, 1, 1)) == D("0.00")
    assert rate_on(date(2018, 12, 31)) == D(0)


def test_interest_is_compounded_yearly() -> None:
    flat = ((date(2000, 1, 1), D(10)),)
    # year 1: 10 % of 1000 = 100; year 2: 10 % of 1100 = 110
    assert commercial_interest(D(1000), due_date=date(2020, 12, 31), until=date(2022, 12, 31), table=flat) == D("210.00")


def test_the_letter_gives_fourteen_days_from_the_day_after_receipt() -> None:
    assert receipt_date(date(2026, 11, 30)) == date(2026, 11, 30)               # e-mail: same day
    assert letter_deadline(date(2026, 11, 30)) == date(2026, 12, 14)            # a Monday
    assert letter_deadline(date(2026, 12, 5)) == date(2026, 12, 21)             # Sat 19th -> Monday

