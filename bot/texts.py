"""Every text the bot says goes through here: English msgids, translated from the catalogues in
``core/locale/<lang>/LC_MESSAGES/bot.po`` (Dutch first). Money and dates are formatted with babel
through the same helpers as the documents.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from core.document_view import format_date, format_money
from core.i18n import translate


def t(language: str, message: str, **params: Any) -> str:
    return translate(language, message, **params)


def money(value: Decimal, language: str) -> str:
    return format_money(value, language)


def day(value: date | None, language: str) -> str:
    return format_date(value, language) if value else "—"
