from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import ValidationError
from core.money import amount_str, parse_decimal, percent_of, round_money


@pytest.mark.parametrize("text, expected", [
    ("75", "75"), ("75.5", "75.5"), ("12,50", "12.50"), ("1.234,56", "1234.56"),
    ("1,234.56", "1234.56"), ("1 234,56", "1234.56"), ("€ 8,00", "8.00"), ("-12.5", "-12.5"),
    ("0,333", "0.333"), ("1.000.000,00", "1000000.00"),
])
def test_parse_decimal_reads_what_people_type(text: str, expected: str) -> None:
    assert parse_decimal(text, field="price") == Decimal(expected)


@pytest.mark.parametrize("text", ["12,5,0", "1.23.4", "", "abc", "1e5", "NaN", "12..5", "1,2345.6", "١٢"])
def test_parse_decimal_refuses_ambiguous_input_naming_the_field(text: str) -> None:
    with pytest.raises(ValidationError) as err:
        parse_decimal(text, field="lines[0].unit_price")
    assert err.value.field == "lines[0].unit_price"


def test_parse_decimal_limits_places_and_size() -> None:
    with pytest.raises(ValidationError):
        parse_decimal("1.23456", field="x")
    with pytest.raises(ValidationError):
        parse_decimal("1000000000000", field="x")


@pytest.mark.parametrize("value, expected", [
    ("0.005", "0.01"), ("0.004", "0.00"), ("-0.005", "-0.01"), ("2.675", "2.68"), ("1.125", "1.13"),
])
def test_round_money_is_half_up(value: str, expected: str) -> None:
    assert round_money(Decimal(value)) == Decimal(expected)


def test_percent_of_rounds_half_up() -> None:
    assert percent_of(Decimal("0.50"), Decimal(21)) == Decimal("0.11")   # 0.105 -> 0.11
    assert percent_of(Decimal("600.00"), Decimal(21)) == Decimal("126.00")


@given(st.decimals(min_value=-10**9, max_value=10**9, places=2, allow_nan=False, allow_infinity=False))
def test_amount_str_round_trips(value: Decimal) -> None:
    assert parse_decimal(amount_str(value), field="x") == value
    assert len(amount_str(value).split(".")[1]) == 2
