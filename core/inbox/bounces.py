"""Delivery status notifications that reach an ingest address: never a receipt.

A DSN lands here when the bounce address of outgoing mail is the company's ingest address (or
its mailbox is polled over IMAP). One about a document mailed to the accountant marks that share
bounced; one about an invoice Klerk sent (``Document.mail_message_id``) marks the invoice
``bounced`` through ``core.sending.mark_bounced``; every failed delivery that is not a share
becomes ``invoice_bounced`` — with ``document_id`` and ``number`` when the document was found.
"""
from __future__ import annotations

import hashlib
from datetime import datetime

from sqlmodel import Session

from core import outbox
from core.errors import NotFoundError
from core.inbox.accountant import mark_share_failed, share_for_bounce
from core.inbox.incoming import DeliveryReport
from core.inbox.messages import finish_message
from core.inbox.models import InboundMessage, MessageStatus


def record_bounce(session: Session, msg: InboundMessage, report: DeliveryReport, *, now: datetime) -> None:
    finish_message(session, msg, MessageStatus.PROCESSED, now=now, kind="bounce")
    msg.reply_status = "skipped:bounce"
    if not report.failed:                   # "delayed" and "relayed" reports: nothing to tell yet
        return
    reason = report.reason or next((r.diagnostic or r.status for r in report.recipients
                                    if r.diagnostic or r.status), "")
    share = share_for_bounce(session, msg.company_id, report)
    if share is not None:
        mark_share_failed(session, share.id, reason or "bounced", now=now, status="bounced")
        return
    document = _bounced_document(session, msg.company_id, report.original_message_id, reason)
    failed = [r for r in report.recipients if r.action.lower() == "failed"] or list(report.recipients) or [None]
    for recipient in failed:
        address = recipient.address if recipient else ""
        key = hashlib.sha256(f"{report.original_message_id}|{address.casefold()}".encode()).hexdigest()[:32]
        outbox.notify(session, msg.company_id, "invoice_bounced", {
            "message_id": report.original_message_id or None,
            "recipient": address or None,
            "reason": ((recipient.diagnostic if recipient and recipient.diagnostic else reason) or "")[:500],
            "status": recipient.status if recipient else "",
            "inbound_id": msg.id,
            "document_id": None, "number": None, **document,
        }, dedupe_key=f"bounce-{msg.company_id}-{key}", now=now)


def _bounced_document(session: Session, company_id: int, message_id: str, reason: str) -> dict[str, object]:
    """Mark the invoice that mail carried as bounced; {} when no document was sent with it (still
    worth telling: the owner sees what came back)."""
    if not message_id:
        return {}
    from core.sending import mark_bounced   # local: it loads WeasyPrint (~2.5 s), needed only here
    try:
        doc = mark_bounced(session, company_id, message_id, reason or "bounced")
    except NotFoundError:
        return {}
    return {"document_id": doc.id, "number": doc.number}
