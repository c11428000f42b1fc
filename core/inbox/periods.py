"""Periods as the owner types them: ``2026-Q3``, ``Q3 2026``, ``2026-07``, ``2026``. Pure."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from core.errors import ValidationError

_QUARTER = re.compile(r"^(\d{4})\s*[-/ ]?\s*[qQkK]([1-4])$|^[qQkK]([1-4])\s*[-/ ]?\s*(\d{4})$")
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_YEAR = re.compile(r"^(\d{4})$")


@dataclass(frozen=True)
class Period:
    label: str          # canonical: 2026-Q3, 2026-07, 2026
    start: date         # first day
    end: date           # the day after the last day


def parse_period(text: str) -> Period:
    value = (text or "").strip()
    if m := _QUARTER.match(value):
        year, quarter = int(m[1] or m[4]), int(m[2] or m[3])
        start = date(year, 3 * quarter - 2, 1)
        end = date(year + 1, 1, 1) if quarter == 4 else date(year, 3 * quarter + 1, 1)
        return Period(f"{year}-Q{quarter}", start, end)
    if m := _MONTH.match(value):
        year, month = int(m[1]), int(m[2])
        if 1 <= month <= 12:
            end = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
            return Period(f"{year}-{month:02}", date(year, month, 1), end)
    if m := _YEAR.match(value):
        year = int(m[1])
        return Period(str(year), date(year, 1, 1), date(year + 1, 1, 1))
    raise ValidationError("period", "Not a period such as 2026-Q3, 2026-07 or 2026: {value}", value=value[:20])
