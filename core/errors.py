"""The errors core raises. Edges translate them in one place each (see docs/architecture.md).

    CoreError
     +-- ValidationError        user-fixable input; safe to show (translatable, names the field)
     +-- NotFoundError          no such row *for this company* (never says whether it exists elsewhere)
     +-- AccessDeniedError      the person may not do this in this company
     +-- ConflictError          the state does not allow it (e.g. editing a sent invoice)
     +-- ReceiptRejectedError   an incoming document we refuse to accept
"""
from __future__ import annotations

from typing import Any


class CoreError(Exception):
    """Base of every error core raises on purpose."""


class ValidationError(CoreError):
    """Input the user can fix. ``message`` is an English msgid, translated by ``core.i18n``."""

    def __init__(self, field: str, message: str, **params: Any) -> None:
        self.field = field
        self.message = message
        self.params = params
        super().__init__(f"{field}: {message.format(**params) if params else message}")

    def translated(self, language: str = "nl") -> str:
        from core.i18n import translate  # local: i18n is optional for callers that only log

        return translate(language, self.message, **self.params)


class NotFoundError(CoreError):
    """The thing asked for does not exist in the caller's company."""


class AccessDeniedError(CoreError):
    """The member's role does not allow the action."""


class ConflictError(CoreError):
    """The current state forbids the action (edit a sent invoice, accept an expired quote...)."""


class ReceiptRejectedError(CoreError):
    """An incoming mail or file that we refuse, with the reason to tell the sender."""
