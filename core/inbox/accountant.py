"""The accountant: documents mailed to ``Company.accountant_email`` with a reference token, and the
accountant's answer ("verwerkt") turning the status to processed.

The mail carries the original, a UBL purchase invoice and a readable summary; its subject holds
``[KLERK-<12 characters>]``, its ``Reply-To`` is the company's ingest address, so a reply or a
forward back lands in the inbox, where ``find_share_for_reply`` recognises it by the Message-ID it
answers or by the token (the latter only from the accountant's own address).

Sending is at least once (a worker killed after the relay accepted the mail sends it again on
retry), so the Message-ID and token are made once, stored before the first attempt and reused:
the accountant's mail program sees the same message twice at worst.
"""
from __future__ import annotations

import base64
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from core import jobs, outbox
from core.inbox.addresses import address_of, ingest_address
from core.inbox.facts import receipt_facts
from core.inbox.incoming import AccountantReply, DeliveryReport
from core.inbox.messages import finish_message
from core.inbox.models import AccountantShare, InboundMessage, InboxDocument, MessageStatus, ReceiptStatus, ShareMode
from core.inbox.preferences import sharing_mode
from core.inbox.purchase_ubl import build_purchase_ubl
from core.inbox.replies import share_subject, share_summary
from core.inbox.store import FileStore
from core.mail import Attachment, OutgoingMail
from core.models import Company

SHARE_JOB = "accountant_share"
TOKEN_PATTERN = re.compile(r"\bKLERK-([A-Z2-7]{12})\b", re.IGNORECASE)
_SHAREABLE = (ReceiptStatus.RECEIVED.value, ReceiptStatus.CHECKED.value, ReceiptStatus.SHARED.value)


def new_share_token() -> str:
    return "KLERK-" + base64.b32encode(secrets.token_bytes(8)).decode("ascii")[:12]


def tokens_in(text: str) -> list[str]:
    return ["KLERK-" + m.upper() for m in TOKEN_PATTERN.findall(text or "")]


def queue_share(session: Session, doc: InboxDocument, *, trigger: str, now: datetime) -> bool:
    """Queue mailing ``doc`` to the accountant if the company's preference says so.

    ``trigger`` is "arrival" (a new document) or "confirmed" (the owner pressed ✅).
    """
    company = session.get(Company, doc.company_id)
    if company is None or not company.accountant_email:
        return False
    mode = sharing_mode(session, doc.company_id)
    if mode is ShareMode.OFF or (mode is ShareMode.CONFIRMED and trigger != "confirmed"):
        return False
    if trigger == "arrival" and doc.duplicate_of is not None:
        return False
    job = jobs.enqueue(session, SHARE_JOB, {"document_id": doc.id}, company_id=doc.company_id,
                       dedupe_key=f"accountant-share-{doc.id}", run_after=now)
    return job is not None


@dataclass(frozen=True)
class ShareMail:
    share_id: int
    message_id: str
    mail: OutgoingMail
    company_id: int


def prepare_share(session: Session, store: FileStore, document_id: int, *, ingest_domain: str,
                  now: datetime) -> ShareMail | None:
    """The mail to send for a queued share (None: nothing to send any more)."""
    doc = session.get(InboxDocument, document_id)
    if doc is None or doc.status not in _SHAREABLE:
        return None
    company = session.get(Company, doc.company_id)
    if company is None or not company.accountant_email:
        return None
    share = session.exec(select(AccountantShare).where(AccountantShare.document_id == doc.id)).first()
    if share is None:
        token = new_share_token()
        share = AccountantShare(company_id=company.id, document_id=doc.id, token=token,
                                message_id=f"<{token.lower()}.{secrets.token_hex(6)}@{ingest_domain}>",
                                recipient=company.accountant_email, created_at=now)
        session.add(share)
        session.flush()
    elif share.status != "sending":
        return None
    reply_address = address_of(ingest_address(session, company.id, now=now), ingest_domain)
    stem = f"bon-{doc.id}"
    attachments = (
        Attachment(doc.filename or f"{stem}.bin", store.read(doc.path), doc.mime or "application/octet-stream"),
        Attachment(f"{stem}-ubl.xml", build_purchase_ubl(doc, company), "application/xml"),
    )
    mail = OutgoingMail(to=(share.recipient,), subject=share_subject(doc, share.token, company.language),
                        text=share_summary(doc, share.token, company), sender_name=company.trade_name or company.name,
                        reply_to=reply_address, attachments=attachments,
                        headers={"X-Klerk-Ref": share.token, "Auto-Submitted": "auto-generated"})
    return ShareMail(share.id, share.message_id, mail, share.company_id)


def mark_share_sent(session: Session, share_id: int, *, now: datetime) -> None:
    share = session.get(AccountantShare, share_id)
    if share is None or share.status != "sending":
        return
    share.status, share.sent_at = "sent", now
    session.add(share)
    doc = session.get(InboxDocument, share.document_id)
    if doc is not None and doc.status in (ReceiptStatus.RECEIVED.value, ReceiptStatus.CHECKED.value):
        doc.status, doc.shared_at, doc.updated_at = ReceiptStatus.SHARED.value, now, now
        session.add(doc)


def mark_share_failed(session: Session, share_id: int, reason: str, *, now: datetime,
                      status: str = "failed") -> None:
    """The relay refused the mail for good, or it bounced: tell the owner."""
    share = session.get(AccountantShare, share_id)
    if share is None:
        return
    share.status, share.error = status, reason[:500]
    session.add(share)
    doc = session.get(InboxDocument, share.document_id)
    payload = (receipt_facts(doc) if doc is not None else {"receipt_id": share.document_id}) | {
        "recipient": share.recipient, "reason": reason[:500]}
    outbox.notify(session, share.company_id, "accountant_share_failed", payload,
                  dedupe_key=f"share-failed-{share.id}-{status}", now=now)


def give_up_share(session: Session, document_id: int, reason: str, *, now: datetime) -> None:
    """The share job failed for good (relay down for hours, no relay configured)."""
    share = session.exec(select(AccountantShare).where(AccountantShare.document_id == document_id)).first()
    if share is not None and share.status == "sending":
        mark_share_failed(session, share.id, reason, now=now)


def find_share_for_reply(session: Session, company_id: int, reply: AccountantReply) -> AccountantShare | None:
    """The share a mail answers: by the Message-ID it replies to, or by a token in it when it comes
    from the accountant's own address."""
    if reply.references:
        share = session.exec(select(AccountantShare).where(
            AccountantShare.company_id == company_id,
            AccountantShare.message_id.in_(list(reply.references)[:50]))).first()
        if share is not None:
            return share
    company = session.get(Company, company_id)
    if not reply.tokens or company is None or not company.accountant_email:
        return None
    if reply.sender.casefold() != company.accountant_email.casefold():
        return None
    return session.exec(select(AccountantShare).where(
        AccountantShare.company_id == company_id, AccountantShare.token.in_(list(reply.tokens)[:20]))).first()


def record_accountant_reply(session: Session, msg: InboundMessage, share: AccountantShare, reply: AccountantReply,
                            *, now: datetime) -> None:
    """"verwerkt" -> the document is processed and the owner told; anything else is passed on."""
    doc = session.get(InboxDocument, share.document_id)
    finish_message(session, msg, MessageStatus.PROCESSED, now=now, kind="accountant_reply")
    if doc is None:
        return
    if reply.says_processed:
        if doc.status in _SHAREABLE:
            doc.status, doc.processed_at, doc.updated_at = ReceiptStatus.PROCESSED.value, now, now
            session.add(doc)
        share.status, share.processed_at = "processed", share.processed_at or now
        session.add(share)
        outbox.notify(session, doc.company_id, "receipt_processed", receipt_facts(doc) | {"inbound_id": msg.id},
                      dedupe_key=f"receipt-processed-{doc.id}", now=now)
    else:
        outbox.notify(session, doc.company_id, "accountant_replied",
                      {"receipt_id": doc.id, "vendor": doc.vendor or None, "excerpt": reply.excerpt[:500],
                       "inbound_id": msg.id}, dedupe_key=f"accountant-replied-{msg.id}", now=now)


def share_for_bounce(session: Session, company_id: int, report: DeliveryReport) -> AccountantShare | None:
    if not report.original_message_id:
        return None
    return session.exec(select(AccountantShare).where(
        AccountantShare.company_id == company_id,
        AccountantShare.message_id == report.original_message_id)).first()
