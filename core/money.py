"""Money as Decimal, rounded half up to cents. Pure: no I/O, no database."""
from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from core.errors import ValidationError

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
HUNDRED = Decimal(100)

# 1234 | 1234.5 | 1234,56 | 1.234,56 | 1,234.56 | 1 234,56 | -12.50
_NUMBER = re.compile(
    r"""^(?P<sign>[-+]?)\s*(?:
        (?P<plain>\d+)(?:[.,](?P<plain_frac>\d+))? |
        (?P<nl>\d{1,3}(?:[. ]\d{3})+),(?P<nl_frac>\d+) |
        (?P<en>\d{1,3}(?:[, ]\d{3})+)\.(?P<en_frac>\d+) |
        (?P<grouped>\d{1,3}(?:[ ]\d{3})+)
    )$""",
    re.VERBOSE | re.ASCII,
)


def round_money(value: Decimal) -> Decimal:
    """Round half up to whole cents (0.005 -> 0.01, -0.005 -> -0.01); never a negative zero."""
    rounded = value.quantize(CENT, rounding=ROUND_HALF_UP)
    return rounded if rounded else ZERO


def percent_of(amount: Decimal, percent: Decimal) -> Decimal:
    """``percent`` % of ``amount``, rounded half up to cents."""
    return round_money(amount * percent / HUNDRED)


def parse_decimal(text: str | int | Decimal, *, field: str, max_places: int = 4) -> Decimal:
    """Read a number as people type it: ``75``, ``75.5``, ``12,50``, ``1.234,56``, ``1,234.56``.

    A thousands separator is only taken as such when the groups have three digits, so ``12,5,0``
    and ``1.23.4`` are refused instead of guessed. Raises ``ValidationError`` naming ``field``.
    """
    if isinstance(text, bool):
        raise ValidationError(field, "Not a number: {value}", value=str(text))
    if isinstance(text, int):
        return Decimal(text)
    if isinstance(text, Decimal):
        value = text
    else:
        cleaned = str(text).strip().replace("\u00a0", " ").replace("€", "").strip()
        match = _NUMBER.match(cleaned)
        if not cleaned or match is None:
            raise ValidationError(field, "Not a number: {value}", value=str(text)[:40])
        sign = "-" if match["sign"] == "-" else ""
        if match["plain"] is not None:
            whole, frac = match["plain"], match["plain_frac"] or ""
        elif match["nl"] is not None:
            whole, frac = re.sub(r"[. ]", "", match["nl"]), match["nl_frac"]
        elif match["en"] is not None:
            whole, frac = re.sub(r"[, ]", "", match["en"]), match["en_frac"]
        else:
            whole, frac = match["grouped"].replace(" ", ""), ""
        try:
            value = Decimal(f"{sign}{whole}.{frac}" if frac else f"{sign}{whole}")
        except InvalidOperation as exc:  # pragma: no cover - the regex admits only digits
            raise ValidationError(field, "Not a number: {value}", value=str(text)[:40]) from exc
    if not value.is_finite():
        raise ValidationError(field, "Not a number: {value}", value=str(text)[:40])
    exponent = value.normalize().as_tuple().exponent if value else 0
    if isinstance(exponent, int) and -exponent > max_places:
        raise ValidationError(field, "Too many decimals (at most {places}): {value}",
                              places=max_places, value=str(text)[:40])
    if abs(value) >= Decimal(10) ** 12:
        raise ValidationError(field, "Amount too large: {value}", value=str(text)[:40])
    return value


def amount_str(value: Decimal) -> str:
    """Two decimals, dot separator: the machine format of the JSON summary and UBL."""
    return str(round_money(value))
