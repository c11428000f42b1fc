"""Changing a company's settings from a chat or a form: one catalogue of what can be changed, on
the ``Company`` row or in the key/value store, with who may change it.

Owner and staff change settings; the accountant only reads them. Every change is validated by the
same cleaners as everywhere else (``core.companies.COMPANY_FIELDS``, ``core.company_settings.KEYS``).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session

from core.companies import COMPANY_FIELDS, get_company, require_role, update_company
from core.company_settings import KEYS, check_template, get_settings, set_setting
from core.errors import ValidationError
from core.models import Role

EDITORS = (Role.OWNER, Role.STAFF)


@dataclass(frozen=True)
class SettingField:
    code: str
    on_company: bool          # a column of Company, else a key of company_setting
    required: bool = False    # cannot be emptied


_REQUIRED = {"name", "color", "country", "payment_term_days", "quote_valid_days", "pattern_invoice",
             "pattern_quote", "pattern_credit_note", "language", "kor"}
_COMPANY = ("name", "trade_name", "street", "postcode", "city", "country", "kvk", "vat_id", "iban", "bic",
            "email", "phone", "website", "kor", "color", "payment_term_days", "quote_valid_days",
            "pattern_invoice", "pattern_quote", "pattern_credit_note", "invoice_intro", "invoice_outro",
            "quote_intro", "quote_outro", "language", "accountant_email")
_INTERNAL_KEYS = {"onboarding_step"}

FIELDS: dict[str, SettingField] = {
    **{code: SettingField(code, True, code in _REQUIRED) for code in _COMPANY},
    **{key: SettingField(key, False) for key in KEYS if key not in _INTERNAL_KEYS},
}
assert set(_COMPANY) <= set(COMPANY_FIELDS)


def setting_field(code: str) -> SettingField:
    spec = FIELDS.get(code)
    if spec is None:
        raise ValidationError(code, "Unknown field")
    return spec


def change_setting(session: Session, company_id: int, person_id: int, code: str, value: Any, *,
                   now: datetime | None = None) -> Any:
    """Set one setting (owner or staff); returns the value as stored, shown back to the person."""
    require_role(session, company_id, person_id, *EDITORS)
    spec = setting_field(code)
    if spec.on_company:
        if spec.required and str(value).strip() == "" and not isinstance(value, bool):
            raise ValidationError(code, "This setting cannot be empty")
        company = update_company(session, get_company(session, company_id), **{code: value})
        return getattr(company, code)
    check_template(code, str(value or ""))
    return set_setting(session, company_id, code, value, now=now)


@dataclass(frozen=True)
class SettingsView:
    """What the settings menu shows: every value as text, and a few facts."""

    values: dict[str, Any]
    company_name: str
    kor: bool
    has_logo: bool
    iban_verified: bool
    terms_filename: str
    can_edit: bool
    setup_done: bool             # the set-up conversation is finished (or was never started)


def settings_view(session: Session, company_id: int, person_id: int) -> SettingsView:
    membership = require_role(session, company_id, person_id)
    company = get_company(session, company_id)
    stored = get_settings(session, company_id)
    values = {code: (getattr(company, code) if spec.on_company else stored.get(code, ""))
              for code, spec in FIELDS.items()}
    return SettingsView(values=values, company_name=company.trade_name or company.name, kor=company.kor,
                        has_logo=company.logo is not None, iban_verified=company.iban_verified_at is not None,
                        terms_filename=company.terms_filename if company.terms_pdf else "",
                        can_edit=Role(membership.role) in EDITORS,
                        setup_done=stored.get("onboarding_step", "done") == "done")
