"""Field cleaners shared by the services: each takes ``(value, *, field)`` and returns the clean
value or raises ``ValidationError`` naming the field. ``apply_fields`` runs a table of them so that
nothing is set when one value is wrong.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any, Callable

from core.errors import ValidationError
from core.i18n import normalize_language
from core.money import parse_decimal

Cleaner = Callable[..., Any]


def text(limit: int) -> Cleaner:
    def clean(value: Any, *, field: str) -> str:
        value = str(value or "").strip()
        if len(value) > limit:
            raise ValidationError(field, "Too long (at most {limit} characters)", limit=limit)
        return value
    return clean


def optional(cleaner: Cleaner) -> Cleaner:
    def clean(value: Any, *, field: str) -> Any:
        return cleaner(value, field=field) if str(value or "").strip() else ""
    return clean


def flag(value: Any, *, field: str) -> bool:
    return bool(value)


def days(value: Any, *, field: str) -> int:
    try:
        count = int(str(value).strip())
    except ValueError:
        raise ValidationError(field, "Not a number of days: {value}", value=str(value)[:20]) from None
    if not 0 <= count <= 365:
        raise ValidationError(field, "A term lies between 0 and 365 days")
    return count


def country(value: Any, *, field: str) -> str:
    code = str(value or "").strip().upper()
    if len(code) != 2 or not code.isalpha():
        raise ValidationError(field, "A country is a two-letter code such as NL or BE: {value}", value=code[:20])
    return code


def language(value: Any, *, field: str) -> str:
    return normalize_language(str(value))


def choice(enum_type: type) -> Cleaner:
    def clean(value: Any, *, field: str) -> Any:
        try:
            return enum_type(value)
        except ValueError:
            raise ValidationError(field, "Not one of: {choices}",
                                  choices=", ".join(e.value for e in enum_type)) from None
    return clean


def amount(value: Any, *, field: str) -> Decimal:
    return parse_decimal(value, field=field)


def percent(value: Any, *, field: str) -> Decimal:
    number = parse_decimal(value, field=field, max_places=2)
    if not Decimal(0) <= number <= Decimal(100):
        raise ValidationError(field, "A percentage lies between 0 and 100")
    return number


def apply_fields(cleaners: dict[str, Cleaner], fields: dict[str, Any]) -> dict[str, Any]:
    cleaned = {}
    for name, value in fields.items():
        cleaner = cleaners.get(name)
        if cleaner is None:
            raise ValidationError(name, "Unknown field")
        cleaned[name] = cleaner(value, field=name)
    return cleaned
