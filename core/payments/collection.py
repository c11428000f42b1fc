"""Collection costs, statutory commercial interest and the 14-day letter's deadline. Pure.

Sources: Besluit vergoeding voor buitengerechtelijke incassokosten (the WIK brackets),
art. 6:96 lid 4 BW (EUR 40 minimum compensation between businesses), art. 6:119a BW (statutory
commercial interest, compounded yearly), art. 6:96 lid 6 BW (the 14-day letter).

⚠ The interest rates below were NOT confirmed from a primary source here. They are dated data:
a new half-year is a new row, never an edit, and the last row stays in force until a newer one
is added — check it against the government's published rates before relying on the amount.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from core.money import ZERO, round_money

# (size of the bracket, percentage); None = everything above.
WIK_BRACKETS: tuple[tuple[Decimal | None, Decimal], ...] = (
    (Decimal(2500), Decimal(15)),
    (Decimal(2500), Decimal(10)),
    (Decimal(5000), Decimal(5)),
    (Decimal(190000), Decimal(1)),
    (None, Decimal("0.5")),
)
WIK_MINIMUM = Decimal("40.00")
WIK_MAXIMUM = Decimal("6775.00")
B2B_MINIMUM_COMPENSATION = Decimal("40.00")
LETTER_TERM_DAYS = 14

# Statutory commercial interest (wettelijke handelsrente), percent per year, from the given day.
# ⚠ unconfirmed values — see the module docstring.
COMMERCIAL_INTEREST: tuple[tuple[date, Decimal], ...] = (
    (date(2019, 1, 1), Decimal("8.00")),
    (date(2023, 1, 1), Decimal("10.50")),
    (date(2023, 7, 1), Decimal("12.00")),
    (date(2024, 1, 1), Decimal("12.50")),
    (date(2024, 7, 1), Decimal("12.25")),
    (date(2025, 1, 1), Decimal("11.15")),
    (date(2025, 7, 1), Decimal("10.15")),
)
RATES_CONFIRMED = False


def collection_costs(principal: Decimal) -> Decimal:
    """The statutory extrajudicial collection costs on ``principal`` (excl. VAT), EUR 40 .. 6.775."""
    remaining = max(ZERO, Decimal(principal))
    total = Decimal(0)
    for size, percent in WIK_BRACKETS:
        part = remaining if size is None else min(remaining, size)
        total += part * percent / 100
        remaining -= part
        if remaining <= 0:
            break
    return min(WIK_MAXIMUM, max(WIK_MINIMUM, round_money(total)))


def collection_costs_with_vat(principal: Decimal, *, creditor_deducts_vat: bool,
                              vat_rate: Decimal = Decimal(21)) -> Decimal:
    """Costs plus VAT when the creditor cannot deduct that VAT (e.g. under the KOR)."""
    costs = collection_costs(principal)
    return costs if creditor_deducts_vat else round_money(costs * (100 + vat_rate) / 100)


def rate_on(day: date, table: tuple[tuple[date, Decimal], ...] = COMMERCIAL_INTEREST) -> Decimal:
    row = rate_row_on(day, table)
    return row[1] if row is not None else ZERO


def rate_row_on(day: date, table: tuple[tuple[date, Decimal], ...] = COMMERCIAL_INTEREST,
                ) -> tuple[date, Decimal] | None:
    """The table's row in force on ``day``: (from, percent); None before its first row."""
    current = None
    for start, rate in table:
        if day >= start:
            current = (start, rate)
    return current


@dataclass(frozen=True)
class InterestPeriod:
    start: date          # first day of interest
    end: date            # last day of interest (inclusive)
    rate: Decimal
    principal: Decimal   # including interest capitalised at earlier anniversaries
    interest: Decimal


def commercial_interest_periods(principal: Decimal, *, due_date: date, until: date,
                                table: tuple[tuple[date, Decimal], ...] = COMMERCIAL_INTEREST,
                                ) -> list[InterestPeriod]:
    """Interest from the day after ``due_date`` through ``until``, per rate period, compounded
    yearly (art. 6:119 lid 2 BW). Day count: actual days / 365."""
    periods: list[InterestPeriod] = []
    base = round_money(Decimal(principal))
    day = due_date + timedelta(days=1)
    year_start = day
    accrued_this_year = Decimal(0)
    while day <= until and base > 0:
        anniversary = _add_year(year_start)
        next_change = min((start for start, _ in table if start > day), default=None)
        end = until
        for boundary in (anniversary, next_change):
            if boundary is not None and boundary - timedelta(days=1) < end:
                end = boundary - timedelta(days=1)
        rate = rate_on(day, table)
        days = (end - day).days + 1
        interest = base * rate / 100 * days / 365
        periods.append(InterestPeriod(day, end, rate, base, round_money(interest)))
        accrued_this_year += interest
        day = end + timedelta(days=1)
        if day == anniversary:
            base = round_money(base + accrued_this_year)
            accrued_this_year = Decimal(0)
            year_start = anniversary
    return periods


def commercial_interest(principal: Decimal, *, due_date: date, until: date,
                        table: tuple[tuple[date, Decimal], ...] = COMMERCIAL_INTEREST) -> Decimal:
    """The total, rounded once (the periods' own amounts are rounded for display only)."""
    periods = commercial_interest_periods(principal, due_date=due_date, until=until, table=table)
    exact = sum((p.principal * p.rate / 100 * ((p.end - p.start).days + 1) / 365 for p in periods), Decimal(0))
    return round_money(exact)


def _add_year(day: date) -> date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:              # 29 February
        return day.replace(year=day.year + 1, day=28)


def receipt_date(sent_on: date, *, channel: str = "email") -> date:
    """When the letter counts as received: an e-mail the same day; ⚠ a posted letter two days later."""
    return sent_on if channel == "email" else sent_on + timedelta(days=2)


def letter_deadline(received_on: date) -> date:
    """The last day to pay after a 14-day letter: 14 days counted from the day after receipt.

    ⚠ A term ending on a Saturday or Sunday is moved to the Monday (Algemene termijnenwet, the safe
    reading); public holidays are not moved here.
    """
    deadline = received_on + timedelta(days=LETTER_TERM_DAYS)
    while deadline.weekday() >= 5:
        deadline += timedelta(days=1)
    return deadline
