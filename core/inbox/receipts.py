"""The shoebox as the chat uses it: list, show, the original, and the owner's verdicts.

    ontvangen (received) --✅ klopt--> gecontroleerd (checked) --mailed--> gedeeld met boekhouder
    (shared) --"verwerkt"--> verwerkt (processed);   privé (private) and geen bon (not a receipt)
    set aside; ✏️ wijzig edits fields (each edited field then has confidence 1.0).

Every service takes the session, the company, the person acting and the clock; owners and staff
may change documents, the accountant may read them.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlmodel import Session, col, select

from core.errors import AccessDeniedError, ConflictError, NotFoundError, ValidationError
from core.fields import apply_fields, optional, text
from core.identifiers import clean_iban, clean_kvk, clean_vat_id
from core.inbox.accountant import queue_share
from core.inbox.filing import refresh_derived
from core.inbox.models import InboxDocument, ReceiptStatus
from core.inbox.periods import parse_period
from core.inbox.store import FileStore
from core.models import Membership, Role
from core.money import parse_decimal

S = ReceiptStatus
SHOEBOX = (S.RECEIVED.value, S.CHECKED.value, S.SHARED.value, S.PROCESSED.value)
# status -> the statuses it may be set from (the chat's buttons)
_FROM = {
    S.CHECKED: {S.RECEIVED, S.PRIVATE, S.NOT_RECEIPT},
    S.PRIVATE: {S.RECEIVED, S.CHECKED, S.NOT_RECEIPT},
    S.NOT_RECEIPT: {S.RECEIVED, S.CHECKED, S.PRIVATE},
}
_EDITABLE = {S.RECEIVED.value, S.CHECKED.value, S.PRIVATE.value}


@dataclass(frozen=True)
class Original:
    filename: str
    mime: str
    content: bytes


def _require_editor(session: Session, company_id: int, person_id: int) -> None:
    role = session.exec(select(Membership.role).where(
        Membership.company_id == company_id, Membership.person_id == person_id)).first()
    if role is None:
        raise NotFoundError("no such receipt")
    if Role(role) not in (Role.OWNER, Role.STAFF):
        raise AccessDeniedError("only the owner and staff change receipts")


def get_receipt(session: Session, company_id: int, receipt_id: int) -> InboxDocument:
    doc = session.get(InboxDocument, receipt_id)
    if doc is None or doc.company_id != company_id:
        raise NotFoundError("no such receipt")
    return doc


def _set_status(session: Session, company_id: int, receipt_id: int, status: S, *, person_id: int,
                now: datetime) -> InboxDocument:
    _require_editor(session, company_id, person_id)
    doc = get_receipt(session, company_id, receipt_id)
    current = S(doc.status)
    if current == status:
        return doc
    if current not in _FROM[status]:
        if status == S.CHECKED and current in (S.SHARED, S.PROCESSED):
            return doc                                  # already past checking
        raise ConflictError(f"a receipt that is {current.value} cannot become {status.value}")
    doc.status, doc.person_id, doc.updated_at = status.value, person_id, now
    if status == S.CHECKED:
        doc.checked_at = now
    session.add(doc)
    session.flush()
    return doc


def confirm_receipt(session: Session, company_id: int, receipt_id: int, *, person_id: int,
                    now: datetime) -> InboxDocument:
    """✅ klopt: the fields are right. Queues the mail to the accountant when the company shares
    confirmed documents (the default) and has an accountant address."""
    doc = _set_status(session, company_id, receipt_id, S.CHECKED, person_id=person_id, now=now)
    if doc.status == S.CHECKED.value:
        queue_share(session, doc, trigger="confirmed", now=now)
    return doc


def mark_private(session: Session, company_id: int, receipt_id: int, *, person_id: int,
                 now: datetime) -> InboxDocument:
    """privé: a private expense; kept, but not exported or shared."""
    return _set_status(session, company_id, receipt_id, S.PRIVATE, person_id=person_id, now=now)


def mark_not_receipt(session: Session, company_id: int, receipt_id: int, *, person_id: int,
                     now: datetime) -> InboxDocument:
    """geen bon: not a receipt at all (a newsletter, a logo); kept as received, never exported."""
    return _set_status(session, company_id, receipt_id, S.NOT_RECEIPT, person_id=person_id, now=now)


def _date(value: Any, *, field: str) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    raw = str(value).strip()
    for sep in ("-", "/", "."):
        parts = raw.split(sep)
        if len(parts) == 3 and all(p.isdigit() for p in parts):
            a, b, c = (int(p) for p in parts)
            year, month, day = (a, b, c) if len(parts[0]) == 4 else (c + (2000 if c < 100 else 0), b, a)
            try:
                return date(year, month, day)
            except ValueError:
                break
    raise ValidationError(field, "Not a date (dd-mm-yyyy): {value}", value=raw[:20])


def _amount(value: Any, *, field: str) -> Decimal | None:
    if value in (None, ""):
        return None
    return parse_decimal(value, field=field, max_places=2)


def _vat(value: Any, *, field: str) -> list[dict[str, str]]:
    """[{"rate": 21, "amount": "2,10"}, ...] or [(21, "2,10"), ...]."""
    rows = []
    for item in value or []:
        rate, amount = (item.get("rate"), item.get("amount")) if isinstance(item, dict) else item
        rate_d = parse_decimal(rate, field=field, max_places=2)
        if not Decimal(0) <= rate_d <= Decimal(100):
            raise ValidationError(field, "A percentage lies between 0 and 100")
        rows.append({"rate": f"{rate_d.normalize():f}",
                     "amount": f"{parse_decimal(amount, field=field, max_places=2):.2f}"})
    return rows


EDITABLE_FIELDS: dict[str, Any] = {
    "vendor": text(200), "invoice_number": text(100), "date": _date, "total": _amount, "net": _amount,
    "vat": _vat, "vendor_vat_id": optional(clean_vat_id), "vendor_kvk": optional(clean_kvk),
    "vendor_iban": optional(clean_iban),
}
_COLUMN = {"date": "doc_date"}


def edit_receipt(session: Session, company_id: int, receipt_id: int, *, person_id: int, now: datetime,
                 **fields: Any) -> InboxDocument:
    """✏️ wijzig: set fields (vendor, date, total, net, vat, invoice_number, vendor_vat_id,
    vendor_kvk, vendor_iban); nothing changes if one value is wrong."""
    _require_editor(session, company_id, person_id)
    doc = get_receipt(session, company_id, receipt_id)
    if doc.status not in _EDITABLE:
        raise ConflictError(f"a receipt that is {doc.status} cannot be edited")
    cleaned = apply_fields(EDITABLE_FIELDS, fields)
    confidence = dict(doc.confidence or {})
    for name, value in cleaned.items():
        setattr(doc, _COLUMN.get(name, name), value)
        confidence[name] = 1.0
    doc.confidence, doc.person_id, doc.updated_at = confidence, person_id, now
    refresh_derived(doc)
    session.add(doc)
    session.flush()
    return doc


def list_receipts(session: Session, company_id: int, *, period: str | None = None, supplier: str | None = None,
                  statuses: Iterable[str] | None = None, limit: int = 50, offset: int = 0) -> list[InboxDocument]:
    """The shoebox, newest first: by period (``2026-Q3``, ``2026-07``, ``2026``; on the receipt's
    date, else its arrival), by supplier (part of the name), by status (default: the four
    business statuses)."""
    stmt = select(InboxDocument).where(InboxDocument.company_id == company_id,
                                       col(InboxDocument.status).in_(list(statuses or SHOEBOX)))
    if period:
        p = parse_period(period)
        stmt = stmt.where(InboxDocument.period_date >= p.start, InboxDocument.period_date < p.end)
    if supplier and supplier.strip():
        like = "%" + supplier.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(col(InboxDocument.vendor).ilike(like, escape="\\"))
    stmt = stmt.order_by(col(InboxDocument.period_date).desc(), col(InboxDocument.id).desc())
    return list(session.exec(stmt.offset(max(0, offset)).limit(max(1, min(limit, 500)))))


def receipt_original(session: Session, store: FileStore, company_id: int, receipt_id: int) -> Original:
    """The file exactly as it arrived (for "stuur het origineel")."""
    doc = get_receipt(session, company_id, receipt_id)
    return Original(doc.filename or f"bon-{doc.id}", doc.mime or "application/octet-stream", store.read(doc.path))
