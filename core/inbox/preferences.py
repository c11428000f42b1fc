"""Per-company inbox preferences, kept with the other company settings (``core.company_settings``):
which documents go to the accountant (``receipt_sharing``: confirmed, all, off) and whether the sender
of a forwarded mail gets a short reply (``receipt_replies``: on, off). Missing means the standard:
confirmed documents are shared, senders get a reply.
"""
from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from core.company_settings import get_setting, set_setting
from core.errors import NotFoundError
from core.inbox.models import ShareMode
from core.models import Company


def sharing_mode(session: Session, company_id: int) -> ShareMode:
    return ShareMode(get_setting(session, company_id, "receipt_sharing", ShareMode.CONFIRMED.value))


def replies_to_senders(session: Session, company_id: int) -> bool:
    return get_setting(session, company_id, "receipt_replies", "on") == "on"


def set_inbox_preference(session: Session, company_id: int, *, share_mode: str | None = None,
                         reply_to_sender: bool | None = None, now: datetime | None = None) -> None:
    """share_mode: "confirmed" (✅ documents go to the accountant), "all" (every document), "off"."""
    if session.get(Company, company_id) is None:
        raise NotFoundError("no such company")
    if share_mode is not None:
        set_setting(session, company_id, "receipt_sharing", share_mode, now=now)
    if reply_to_sender is not None:
        set_setting(session, company_id, "receipt_replies", "on" if reply_to_sender else "off", now=now)
