"""Company settings that are not columns of ``Company``: a validated key/value store per company.

Readers (the mail sender, the reminder scheduler) call ``get_setting(session, company_id, key,
default)``; an empty or missing value means "use the standard". Writers go through ``set_setting``,
which cleans the value with the key's cleaner and raises ``ValidationError`` naming the key.

Keys (values are text):
  mail_sender_name                 the name in From: of invoice mails ("Studio Vos")
  mail_reply_to                    where replies to invoice mails go (an e-mail address)
  mail_subject_nl / mail_subject_en   subject of the sending mail, per language of the customer
  mail_body_nl / mail_body_en      text of the sending mail, per language
  reminder_days                    days after the due date of reminders 1, 2 and 3: "3,14,28"
  reminder_text_{1,2,3}_{nl,en}    the text of each reminder, per language
  payment_mail                     "on": mail the company's address about every payment booked ("off")
  receipt_sharing                  which receipts go to the accountant: "confirmed" (the standard: those the
                                   owner confirmed), "all" (every one on arrival), "off"
  receipt_replies                  "off": no short reply to the sender of a forwarded receipt ("on")

The mail and reminder texts are templates filled in by ``core.sending`` and ``core.payments.letters``.
The store takes any text within its length (the readers cope with unknown placeholders); what a person
types in the settings is checked stricter by ``check_template`` (only ``MAIL_PLACEHOLDERS`` /
``REMINDER_PLACEHOLDERS``, no stray braces), so a text saved from the chat always fills in cleanly.
  onboarding_step                  where the owner is in the set-up conversation ("done" when done)
"""
from __future__ import annotations

import string
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from core.company_settings.models import CompanySetting
from core.errors import ValidationError
from core.fields import optional, text
from core.identifiers import clean_email

DEFAULT_REMINDER_DAYS = "3,14,28"


def clean_reminder_days(value: Any, *, field: str) -> str:
    """Three increasing numbers of days after the due date, e.g. "3,14,28" (also "3 14 28")."""
    raw = str(value or "").replace(";", ",").replace(" ", ",")
    parts = [p for p in raw.split(",") if p]
    if len(parts) != 3 or not all(p.isdigit() and len(p) <= 3 for p in parts):
        raise ValidationError(field, "Write three numbers of days after the due date, e.g. {example}",
                              example=DEFAULT_REMINDER_DAYS)
    days = [int(p) for p in parts]
    if not (1 <= days[0] < days[1] < days[2] <= 365):
        raise ValidationError(field, "The reminder days must increase and lie between 1 and 365, e.g. {example}",
                              example=DEFAULT_REMINDER_DAYS)
    return ",".join(str(d) for d in days)


ON = ("on", "aan", "yes", "ja", "1", "true")
OFF = ("off", "uit", "no", "nee", "0", "false")


def clean_on_off(value: Any, *, field: str) -> str:
    """"on" or "off" (also aan/uit, ja/nee, yes/no, a bool)."""
    word = str(value).strip().lower()
    if word in ON:
        return "on"
    if word in OFF:
        return "off"
    raise ValidationError(field, "Write on or off")


SHARE_MODES = ("confirmed", "all", "off")
_SHARE_WORDS = {"confirmed": "confirmed", "bevestigd": "confirmed", "all": "all", "alle": "all", "alles": "all",
                **{word: "off" for word in OFF}}


def clean_share_mode(value: Any, *, field: str) -> str:
    """Which receipts go to the accountant: "confirmed", "all" or "off" (also bevestigd/alles/uit)."""
    mode = _SHARE_WORDS.get(str(value).strip().lower())
    if mode is None:
        raise ValidationError(field, "Not one of: {choices}", choices=", ".join(SHARE_MODES))
    return mode


MAIL_PLACEHOLDERS = ("name", "number", "kind", "amount", "due", "valid", "iban", "holder", "reference", "link",
                     "company", "original")
REMINDER_PLACEHOLDERS = ("contact", "number", "issue_date", "due_date", "outstanding", "days_overdue", "iban",
                         "reference", "company", "payment_link", "deadline", "costs", "interest", "compensation")


KEYS: dict[str, Callable[..., str]] = {
    "mail_sender_name": text(100),
    "mail_reply_to": optional(clean_email),
    "mail_subject_nl": text(200),
    "mail_subject_en": text(200),
    "mail_body_nl": text(5000),
    "mail_body_en": text(5000),
    "reminder_days": optional(clean_reminder_days),
    **{f"reminder_text_{n}_{lang}": text(2000) for n in (1, 2, 3) for lang in ("nl", "en")},
    "payment_mail": optional(clean_on_off),
    "receipt_sharing": optional(clean_share_mode),
    "receipt_replies": optional(clean_on_off),
    "onboarding_step": text(40),
}


TEMPLATES: dict[str, tuple[str, ...]] = {
    **{f"mail_{part}_{lang}": MAIL_PLACEHOLDERS for part in ("subject", "body") for lang in ("nl", "en")},
    **{f"reminder_text_{n}_{lang}": REMINDER_PLACEHOLDERS for n in (1, 2, 3) for lang in ("nl", "en")},
}


def check_template(key: str, value: str) -> None:
    """Raises ``ValidationError`` when the text of ``key`` has a placeholder that is not known for it,
    a placeholder with additions (``{number:>9}``) or a brace without a placeholder (write ``{{``)."""
    placeholders = TEMPLATES.get(key)
    if placeholders is None:
        return
    allowed = " ".join("{" + name + "}" for name in placeholders)
    try:
        fields = [(name, spec, conversion) for _, name, spec, conversion in string.Formatter().parse(value)
                  if name is not None]
    except ValueError:
        raise ValidationError(key, "A brace {{ or }} without a placeholder. You can use: {allowed}",
                              allowed=allowed) from None
    for name, spec, conversion in fields:
        if name not in placeholders:
            raise ValidationError(key, "Unknown placeholder {value}. You can use: {allowed}",
                                  value="{" + name[:30] + "}", allowed=allowed)
        if spec or conversion:
            raise ValidationError(key, "Write a placeholder without additions, like {example}.",
                                  example="{" + name + "}")


def get_setting(session: Session, company_id: int, key: str, default: str | None = None) -> str | None:
    """The stored value of ``key``, or ``default`` when it is not set (or set to empty)."""
    row = session.get(CompanySetting, (company_id, key))
    return row.value if row is not None and row.value != "" else default


def get_settings(session: Session, company_id: int) -> dict[str, str]:
    """Every stored setting of the company."""
    rows = session.exec(select(CompanySetting).where(CompanySetting.company_id == company_id))
    return {row.key: row.value for row in rows}


def set_setting(session: Session, company_id: int, key: str, value: Any, *, now: datetime | None = None) -> str:
    """Clean and store ``value``; an empty value removes the setting (back to the standard)."""
    cleaner = KEYS.get(key)
    if cleaner is None:
        raise ValidationError(key, "Unknown field")
    cleaned = cleaner(value, field=key)
    row = session.get(CompanySetting, (company_id, key))
    if cleaned == "":
        if row is not None:
            session.delete(row)
            session.flush()
        return ""
    if row is None:
        row = CompanySetting(company_id=company_id, key=key)
    row.value = cleaned
    if now is not None:
        row.updated_at = now
    session.add(row)
    session.flush()
    return cleaned


def reminder_days(session: Session, company_id: int) -> tuple[int, int, int]:
    """The reminder schedule as three numbers of days after the due date."""
    value = get_setting(session, company_id, "reminder_days", DEFAULT_REMINDER_DAYS) or DEFAULT_REMINDER_DAYS
    first, second, third = (int(part) for part in value.split(","))
    return first, second, third


__all__ = ["CompanySetting", "DEFAULT_REMINDER_DAYS", "KEYS", "MAIL_PLACEHOLDERS", "REMINDER_PLACEHOLDERS",
           "TEMPLATES", "check_template", "clean_on_off", "clean_reminder_days", "get_setting",
           "get_settings", "reminder_days", "set_setting"]
