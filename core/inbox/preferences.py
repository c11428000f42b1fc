"""Per-company inbox preferences: which documents go to the accountant, whether senders get a reply."""
from __future__ import annotations

from sqlmodel import Session

from core.errors import NotFoundError, ValidationError
from core.inbox.models import InboxPreference, ShareMode
from core.models import Company


def preference(session: Session, company_id: int) -> InboxPreference:
    """The company's preferences (defaults when never set; not written until changed)."""
    return session.get(InboxPreference, company_id) or InboxPreference(company_id=company_id)


def set_inbox_preference(session: Session, company_id: int, *, share_mode: str | None = None,
                         reply_to_sender: bool | None = None) -> InboxPreference:
    """share_mode: "confirmed" (✅ documents go to the accountant), "all" (every document), "off"."""
    if session.get(Company, company_id) is None:
        raise NotFoundError("no such company")
    pref = session.get(InboxPreference, company_id) or InboxPreference(company_id=company_id)
    if share_mode is not None:
        try:
            pref.share_mode = ShareMode(share_mode).value
        except ValueError:
            raise ValidationError("share_mode", "Not one of: {choices}",
                                  choices=", ".join(m.value for m in ShareMode)) from None
    if reply_to_sender is not None:
        pref.reply_to_sender = bool(reply_to_sender)
    session.add(pref)
    session.flush()
    return pref
