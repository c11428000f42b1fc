"""Number patterns for document series. Pure; the counter itself lives in ``core.sequences``.

A pattern is a ``str.format`` template with the fields ``{year}`` (2026), ``{yy}`` (26) and ``{seq}``
(with an optional zero padding such as ``{seq:04}``). Examples: ``{year}-{seq:04}`` -> 2026-0042,
``OFF-{year}-{seq:03}`` -> OFF-2026-007, ``CN-{year}-{seq:04}`` -> CN-2026-0003.

A series whose pattern holds the year restarts at 1 each year; one without the year counts on
forever (otherwise numbers would repeat).
"""
from __future__ import annotations

import re
import string

from core.errors import ValidationError

DEFAULT_PATTERNS = {
    "invoice": "{year}-{seq:04}",
    "quote": "OFF-{year}-{seq:03}",
    "credit_note": "CN-{year}-{seq:04}",
}
_ALLOWED = {"year", "yy", "seq"}
_SPEC = re.compile(r"^0?\d{0,2}d?$")
_LITERAL = re.compile(r"^[A-Za-z0-9 ._/#-]*$")
CONTINUOUS = 0  # the counter year of a series without {year}/{yy}


def validate_pattern(pattern: str, *, field: str = "numbering") -> str:
    pattern = (pattern or "").strip()
    if not pattern or len(pattern) > 40:
        raise ValidationError(field, "A number pattern needs {{seq}}, e.g. {example}",
                              example="{year}-{seq:04}")
    try:
        parts = list(string.Formatter().parse(pattern))
    except ValueError:
        raise ValidationError(field, "Not a valid number pattern: {value}", value=pattern) from None
    names = []
    for literal, name, spec, conversion in parts:
        if not _LITERAL.match(literal):
            raise ValidationError(field, "Only letters, digits and - _ . / # may surround the fields: {value}",
                                  value=pattern)
        if name is None:
            continue
        if name not in _ALLOWED or conversion or not _SPEC.match(spec or ""):
            raise ValidationError(field, "Unknown field in number pattern: {value}", value=name or "{}")
        names.append(name)
    if names.count("seq") != 1:
        raise ValidationError(field, "A number pattern needs {{seq}}, e.g. {example}",
                              example="{year}-{seq:04}")
    return pattern


def is_yearly(pattern: str) -> bool:
    return any(name in ("year", "yy") for _, name, _, _ in string.Formatter().parse(pattern))


def counter_year(pattern: str, year: int) -> int:
    return year if is_yearly(pattern) else CONTINUOUS


def format_number(pattern: str, *, year: int, seq: int) -> str:
    return pattern.format(year=year, yy=f"{year % 100:02d}", seq=seq)
