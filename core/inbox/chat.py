"""What the chat asks of the shoebox beyond the services: the filter typed after /bonnen, a page of
the list, which verdicts a document's status still allows, and the VAT as the owner types it.
Read-only and pure except for ``shoebox_page`` and ``receipt_card`` (reads).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlmodel import Session

from core.errors import ValidationError
from core.inbox.facts import receipt_facts
from core.inbox.periods import parse_period
from core.inbox.receipts import _EDITABLE, _FROM, S, get_receipt, list_receipts

PAGE_SIZE = 8
_VAT_PART = re.compile(r"^(?P<rate>\d{1,3}(?:[.,]\d{1,2})?)\s*%?\s+(?:€\s*)?(?P<amount>-?[\d.,]+)$")
_NO_VAT = {"0", "geen", "none", "-", "0%"}


@dataclass(frozen=True)
class ShoeboxFilter:
    period: str | None          # canonical label (2026-Q3) or None
    supplier: str | None


@dataclass(frozen=True)
class ShoeboxPage:
    rows: list[dict[str, Any]]  # receipt_facts of each document, newest first
    offset: int
    has_more: bool


def _period(text: str) -> str | None:
    try:
        return parse_period(text).label
    except ValidationError:
        return None


def parse_shoebox_filter(text: str) -> ShoeboxFilter:
    """``2026-Q3``, ``albert``, ``2026-Q3 albert``, ``Q3 2026 albert``, ``albert 2026-07``."""
    words = (text or "").split()
    if not words:
        return ShoeboxFilter(None, None)
    for take in (2, 1):                       # a period at the start ("Q3 2026" is two words)...
        if len(words) >= take and (label := _period(" ".join(words[:take]))):
            return ShoeboxFilter(label, " ".join(words[take:]) or None)
    if len(words) > 1 and (label := _period(words[-1])):     # ...or at the end
        return ShoeboxFilter(label, " ".join(words[:-1]))
    return ShoeboxFilter(None, " ".join(words)[:100])


def current_quarter(today: date) -> str:
    return f"{today.year}-Q{(today.month - 1) // 3 + 1}"


def shoebox_page(session: Session, company_id: int, *, period: str | None = None, supplier: str | None = None,
                 offset: int = 0, size: int = PAGE_SIZE) -> ShoeboxPage:
    docs = list_receipts(session, company_id, period=period, supplier=supplier, limit=size + 1,
                         offset=max(0, offset))
    return ShoeboxPage([receipt_facts(d) for d in docs[:size]], max(0, offset), len(docs) > size)


def receipt_card(session: Session, company_id: int, receipt_id: int) -> dict[str, Any]:
    return receipt_facts(get_receipt(session, company_id, receipt_id))


def allowed_verdicts(status: str) -> tuple[str, ...]:
    """Of ``confirm``, ``edit``, ``private``, ``not_receipt``: what a document in ``status`` may get
    (for owners and staff; the accountant gets none)."""
    try:
        current = S(status)
    except ValueError:
        return ()
    out = []
    if current in _FROM[S.CHECKED]:
        out.append("confirm")
    if current.value in _EDITABLE:
        out.append("edit")
    if current in _FROM[S.PRIVATE]:
        out.append("private")
    if current in _FROM[S.NOT_RECEIPT]:
        out.append("not_receipt")
    return tuple(out)


def parse_vat_text(text: str) -> list[dict[str, str]]:
    """``9% 1,00`` or ``21% 2,10; 9% 0,50`` (``geen``/``0``: no VAT) -> rows for ``edit_receipt``."""
    value = (text or "").strip()
    if value.lower() in _NO_VAT:
        return []
    rows = []
    for part in re.split(r"[;\n]+|\s+(?:en|and|\+)\s+", value):
        match = _VAT_PART.match(part.strip())
        if match is None:
            raise ValidationError("vat", "Type the VAT as rate and amount, e.g. 9% 1,00 (several: 21% 2,10; 9% 0,50)")
        rows.append({"rate": match["rate"].replace(",", "."), "amount": match["amount"]})
    return rows
