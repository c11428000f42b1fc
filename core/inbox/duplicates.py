"""Recognising the same bill twice: by content hash AND by what was read from it.

The same PDF forwarded twice has the same SHA-256. A rescan, a photo of the same receipt, or the
UBL and the PDF of one invoice have different bytes but the same vendor, date, total and invoice
number. paperless-ngx dedupes on the file hash alone and misses those; we check both. A duplicate
is kept and flagged (``duplicate_of``), never dropped: the owner is told and decides.
"""
from __future__ import annotations

import re
import unicodedata
from datetime import date
from decimal import Decimal

from sqlmodel import Session, select

from core.inbox.models import InboxDocument, ReceiptStatus

_LEGAL_FORMS = ("bv", "nv", "vof", "cv", "gmbh", "ltd", "limited", "inc", "llc", "sa", "sarl", "bvba", "ag")
_NON_ALNUM = re.compile(r"[^0-9a-z]+")


def normalise_vendor(vendor: str) -> str:
    text = unicodedata.normalize("NFKD", vendor or "").encode("ascii", "ignore").decode().casefold()
    words = [w for w in _NON_ALNUM.split(text.replace(".", "")) if w]
    while words and words[-1] in _LEGAL_FORMS:
        words.pop()
    return "".join(words)


def normalise_number(number: str) -> str:
    return _NON_ALNUM.sub("", (number or "").casefold()).lstrip("0")


def fields_key(vendor: str, day: date | None, total: Decimal | None, invoice_number: str) -> str:
    """vendor|date|total|number, or "" when too little was read to tell two bills apart."""
    vendor_n, number_n = normalise_vendor(vendor), normalise_number(invoice_number)
    if day is None or total is None or not (vendor_n or number_n):
        return ""
    return f"{vendor_n}|{day.isoformat()}|{total:.2f}|{number_n}"[:300]


def find_duplicate(session: Session, doc: InboxDocument) -> tuple[InboxDocument, str] | None:
    """The earlier document this one repeats, and why ("same_file" or "same_fields")."""
    base = select(InboxDocument).where(
        InboxDocument.company_id == doc.company_id,
        InboxDocument.status != ReceiptStatus.REJECTED.value,
        InboxDocument.duplicate_of.is_(None))
    if doc.id is not None:
        base = base.where(InboxDocument.id != doc.id)
    if doc.sha256:
        same = session.exec(base.where(InboxDocument.sha256 == doc.sha256).order_by(InboxDocument.id)).first()
        if same is not None:
            return same, "same_file"
    if doc.dedupe_key:
        same = session.exec(base.where(InboxDocument.dedupe_key == doc.dedupe_key).order_by(InboxDocument.id)).first()
        if same is not None:
            return same, "same_fields"
    return None
