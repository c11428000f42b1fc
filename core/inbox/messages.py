"""Arrivals: accept a mail or a chat upload durably and queue it; the worker's bookkeeping after.

Accept fast, process later: ``accept_mail`` writes the raw bytes to the file store (fsynced) and
the row plus its ``inbox_message`` job in the caller's transaction; the SMTP edge answers 250 only
after that commit. ``accept_upload`` (the chat) keeps the bytes in the row itself, so the upload
and its job commit atomically; the worker files them in the store.
"""
from __future__ import annotations

import re
from datetime import datetime

from sqlmodel import Session, select

from core import jobs, outbox
from core.errors import AccessDeniedError, NotFoundError, ReceiptRejectedError, ValidationError
from core.inbox.models import InboundMessage, MessageStatus
from core.inbox.store import FileStore, sha256_hex
from core.models import Membership, Role

JOB_KIND = "inbox_message"
MAX_UPLOAD_BYTES = 25 * 1024 * 1024
_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f/\\]+")


def accept_mail(session: Session, store: FileStore, raw: bytes, *, company_ids: list[int], source: str,
                envelope_from: str, message_id: str, subject: str, now: datetime,
                imap_account_id: int | None = None) -> list[InboundMessage]:
    """Store a raw mail (one file) and queue one arrival per company it was addressed to."""
    if not raw.strip():
        raise ReceiptRejectedError("the message is empty")
    if not company_ids:
        raise ValueError("a mail needs at least one company")
    path = store.write_raw(raw, now=now)
    digest = sha256_hex(raw)
    rows = []
    for company_id in dict.fromkeys(company_ids):
        msg = InboundMessage(company_id=company_id, source=source, path=path, size=len(raw), sha256=digest,
                             message_id=message_id[:300], subject=subject[:300],
                             envelope_from=envelope_from[:254], imap_account_id=imap_account_id,
                             received_at=now)
        session.add(msg)
        session.flush()
        _enqueue(session, msg, now=now)
        rows.append(msg)
    return rows


def accept_upload(session: Session, company_id: int, person_id: int, filename: str, content: bytes, mime: str,
                  *, now: datetime) -> InboundMessage:
    """A photo, PDF or XML sent to the bot: keep the original, queue the reading, return the arrival.

    The bot answers "ontvangen" at once; a ``receipt_received`` (or ``receipt_rejected``)
    notification to ``person_id`` follows when the worker has read it.
    """
    role = session.exec(select(Membership.role).where(
        Membership.company_id == company_id, Membership.person_id == person_id)).first()
    if role is None:
        raise NotFoundError("no such company")
    if Role(role) not in (Role.OWNER, Role.STAFF):
        raise AccessDeniedError("only the owner and staff add receipts")
    if not content:
        raise ValidationError("file", "The file is empty")
    if len(content) > MAX_UPLOAD_BYTES:
        raise ValidationError("file", "The file is larger than {limit} MB", limit=MAX_UPLOAD_BYTES // 2**20)
    msg = InboundMessage(company_id=company_id, source="upload", content=content, size=len(content),
                         sha256=sha256_hex(content), filename=clean_filename(filename) or "upload",
                         mime=(mime or "application/octet-stream")[:100].lower(), person_id=person_id,
                         received_at=now)
    session.add(msg)
    session.flush()
    _enqueue(session, msg, now=now)
    return msg


def _enqueue(session: Session, msg: InboundMessage, *, now: datetime) -> None:
    jobs.enqueue(session, JOB_KIND, {"inbound_id": msg.id}, company_id=msg.company_id,
                 dedupe_key=f"inbox-message-{msg.id}", run_after=now)


def clean_filename(name: str) -> str:
    base = _UNSAFE_NAME.sub("_", (name or "").replace("\\", "/").rsplit("/", 1)[-1]).strip(" ._")
    return base[-200:]


def raw_content(store: FileStore, msg: InboundMessage) -> bytes:
    """The bytes as received: the staged upload, or the raw mail from the store."""
    if msg.content is not None:
        return msg.content
    return store.read(msg.path)


def get_message(session: Session, inbound_id: int) -> InboundMessage:
    msg = session.get(InboundMessage, inbound_id)
    if msg is None:
        raise NotFoundError("no such arrival")
    return msg


def lock_pending(session: Session, inbound_id: int) -> InboundMessage | None:
    """The arrival, locked for this transaction, if it still waits to be processed.

    Two workers can hold the same job when a lease ran out; whoever locks the row first records
    the outcome and the other finds it no longer pending. (SQLite: ``BEGIN IMMEDIATE`` serialises.)
    """
    stmt = select(InboundMessage).where(InboundMessage.id == inbound_id)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    msg = session.exec(stmt.execution_options(populate_existing=True)).first()
    if msg is None or msg.status != MessageStatus.PENDING.value:
        return None
    return msg


def is_repeat(session: Session, msg: InboundMessage) -> bool:
    """The same Message-ID reached this company before (a resent SMTP transaction, the same mail in
    two IMAP folders): the earliest arrival is processed, later ones are not."""
    if not msg.message_id:
        return False
    earlier = session.exec(select(InboundMessage.id).where(
        InboundMessage.company_id == msg.company_id, InboundMessage.message_id == msg.message_id,
        InboundMessage.id < msg.id, InboundMessage.status != MessageStatus.FAILED.value)).first()
    return earlier is not None


def message_id_seen(session: Session, company_id: int, message_id: str) -> bool:
    if not message_id:
        return False
    return session.exec(select(InboundMessage.id).where(
        InboundMessage.company_id == company_id, InboundMessage.message_id == message_id[:300])).first() is not None


def finish_message(session: Session, msg: InboundMessage, status: MessageStatus, *, now: datetime,
                   kind: str = "", reason: str = "") -> None:
    msg.status, msg.processed_at = status.value, now
    msg.kind = kind or msg.kind
    msg.reason = reason[:500]
    session.add(msg)


def quarantine_message(session: Session, msg: InboundMessage, reason: str, *, now: datetime) -> None:
    """Keep the arrival as received but do not process it; the owner is told why."""
    finish_message(session, msg, MessageStatus.QUARANTINED, now=now, reason=reason)
    outbox.notify(session, msg.company_id, "receipt_rejected",
                  {"inbound_id": msg.id, "receipt_id": None, "filename": msg.filename or None,
                   "reason": reason[:500], "source": msg.source},
                  person_id=msg.person_id, dedupe_key=f"inbox-quarantined-{msg.id}", now=now)


def fail_message(session: Session, inbound_id: int, error: str, *, now: datetime) -> None:
    """The worker gave up on an arrival (it kept failing or crashing): record it, tell the owner."""
    msg = session.get(InboundMessage, inbound_id)
    if msg is None or msg.status != MessageStatus.PENDING.value:
        return
    msg.error = error[-4000:]
    finish_message(session, msg, MessageStatus.FAILED, now=now, reason="processing failed")
    outbox.notify(session, msg.company_id, "receipt_rejected",
                  {"inbound_id": msg.id, "receipt_id": None, "filename": msg.filename or None,
                   "reason": "processing failed", "source": msg.source},
                  person_id=msg.person_id, dedupe_key=f"inbox-failed-{msg.id}", now=now)


def set_reply_status(session: Session, inbound_id: int, status: str) -> None:
    """queued -> sent, or skipped:<why> / failed (the reply job's outcome)."""
    msg = get_message(session, inbound_id)
    msg.reply_status = status[:40]
    session.add(msg)
