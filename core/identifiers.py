"""Dutch and EU identifiers, checked with python-stdnum and schwifty. Pure.

Each ``clean_*`` returns the canonical form or raises ``ValidationError`` naming the field.
"""
from __future__ import annotations

import re

from schwifty import IBAN
from schwifty.exceptions import SchwiftyException
from stdnum import exceptions as stdnum_errors
from stdnum.eu import vat as eu_vat
from stdnum.nl import postcode as nl_postcode

from core.errors import ValidationError

_KVK = re.compile(r"^\d{8}$")
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
_EMAIL = re.compile(r"^[^@\s<>\"',;]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$")


def clean_kvk(value: str, *, field: str = "kvk") -> str:
    """KvK-nummer: exactly 8 digits (there is no public check digit)."""
    compact = re.sub(r"[\s.\-]", "", value or "")
    if not _KVK.match(compact):
        raise ValidationError(field, "A KvK number has exactly 8 digits: {value}", value=value[:40])
    return compact


def clean_vat_id(value: str, *, field: str = "vat_id") -> str:
    """EU VAT id (btw-id) with country prefix, e.g. NL123456789B01, DE136695976."""
    compact = re.sub(r"[\s.\-]", "", value or "").upper()
    try:
        return eu_vat.validate(compact)
    except stdnum_errors.InvalidComponent:
        raise ValidationError(field, "Unknown country in VAT id: {value}", value=value[:40]) from None
    except stdnum_errors.ValidationError:
        raise ValidationError(field, "Not a valid VAT id: {value}", value=value[:40]) from None


def vat_id_country(vat_id: str) -> str:
    country = vat_id[:2].upper()
    return "GR" if country == "EL" else country


def clean_iban(value: str, *, field: str = "iban") -> str:
    """IBAN in compact form (checksum and country format checked)."""
    try:
        return IBAN(value or "").compact
    except SchwiftyException:
        raise ValidationError(field, "Not a valid IBAN: {value}", value=(value or "")[:40]) from None


def bic_for_iban(iban: str) -> str:
    """The BIC belonging to an IBAN's bank, when schwifty knows it; else ''."""
    try:
        bic = IBAN(iban).bic
    except SchwiftyException:
        return ""
    return str(bic) if bic else ""


def clean_postcode(value: str, country: str, *, field: str = "postcode") -> str:
    if country.upper() != "NL":
        return (value or "").strip()
    try:
        return nl_postcode.validate(value or "")
    except stdnum_errors.ValidationError:
        raise ValidationError(field, "Not a Dutch postcode (1234 AB): {value}", value=(value or "")[:40]) from None


def clean_email(value: str, *, field: str = "email") -> str:
    compact = (value or "").strip()
    if len(compact) > 254 or not _EMAIL.match(compact):
        raise ValidationError(field, "Not an e-mail address: {value}", value=compact[:60])
    return compact


def clean_color(value: str, *, field: str = "color") -> str:
    if not _COLOR.match(value or ""):
        raise ValidationError(field, "A colour is written as #rrggbb: {value}", value=(value or "")[:20])
    return value.lower()
