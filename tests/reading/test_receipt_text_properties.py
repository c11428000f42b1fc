"""Properties of ``core.receipt_text`` under hypothesis: it never crashes on any text, amounts and
dates written the ways receipts print them come back exactly, and a generated receipt's total is
found whatever the items and the notation."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from core.receipt_text import extract_fields, find_amounts, find_dates, format_amount

money = st.decimals(min_value=Decimal("-99999.99"), max_value=Decimal("999999.99"), places=2,
                    allow_nan=False, allow_infinity=False)
positive = st.decimals(min_value=Decimal("0.05"), max_value=Decimal("999.99"), places=2)
styles = st.sampled_from(["nl", "en", "plain"])
receipt_chars = st.characters(codec="utf-8", exclude_categories=("Cs",))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=receipt_chars, max_size=600))
def test_never_crashes_on_any_text(text: str) -> None:
    e = extract_fields(text)
    assert all(0.0 <= score <= 1.0 for score in e.confidence.values())


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(alphabet="0123456789.,:-/ %€TOALtoalBTWbtw\n", max_size=80), min_size=1, max_size=3))
def test_never_crashes_on_number_soup(readings: list[str]) -> None:
    extract_fields(readings, source="ocr", digit_trust=(0, 1))


@given(money, styles)
def test_amounts_round_trip(value: Decimal, style: str) -> None:
    written = format_amount(value, style)
    assert [a.value for a in find_amounts(f"Totaal {written} EUR")] == [value]


@given(st.dates(min_value=date(1990, 1, 1), max_value=date(2099, 12, 31)),
       st.sampled_from(["{d:02}-{m:02}-{y}", "{d}.{m}.{y}", "{d:02}/{m:02}/{y}", "{y}-{m:02}-{d:02}",
                        "{d:02}.{m:02}.{yy:02}", "{d} {mon} {y}"]))
def test_dates_round_trip(day: date, pattern: str) -> None:
    months = ["januari", "februar", "march", "april", "mei", "juni", "july", "august", "september",
              "oktober", "november", "dezember"]
    if "{yy" in pattern and day.year < 2000:
        return                                   # two-digit years are read as 20xx
    written = pattern.format(d=day.day, m=day.month, y=day.year, yy=day.year % 100, mon=months[day.month - 1])
    assert find_dates(f"Datum: {written} 12:30")[0] == day


@settings(max_examples=150, deadline=None)
@given(st.lists(positive, min_size=1, max_size=12), styles,
       st.sampled_from(["TOTAAL", "Totaal te betalen", "SUMME EUR", "Gesamtbetrag", "Grand Total", "TOTAL"]))
def test_generated_receipt_total_is_found(prices: list[Decimal], style: str, word: str) -> None:
    total = sum(prices, Decimal(0))
    items = "\n".join(f"Artikel {i} {format_amount(p, style)}" for i, p in enumerate(prices))
    text = f"WINKEL DE TEST\nDorpsstraat 1\n{items}\n{word} {format_amount(total, style)}\nPIN {format_amount(total, style)}"
    assert extract_fields(text).total == total
