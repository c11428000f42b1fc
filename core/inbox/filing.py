"""Filing an arrival's readings into the shoebox: one document per part, duplicates flagged, the
owner told (outbox), the sender answered (a ``receipt_reply`` job) and, if the company shares
everything, the accountant queued. Runs in the worker's final transaction, so it happens once.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Session, select

from core import jobs, outbox
from core.extraction import Extraction
from core.inbox.accountant import queue_share
from core.inbox.duplicates import fields_key, find_duplicate
from core.inbox.facts import receipt_facts
from core.inbox.incoming import MailFacts, PartReading
from core.inbox.messages import finish_message
from core.inbox.models import InboundMessage, InboxDocument, MessageStatus, ReceiptStatus
from core.inbox.preferences import replies_to_senders
from core.inbox.store import FileStore

REPLY_JOB = "receipt_reply"
MAX_TEXT = 20_000
MAX_AMOUNT = Decimal("1e12")
MAX_REPLIES_PER_HOUR = 5          # per sender address: a brake on mail loops headers did not catch
NOTHING_USABLE = "no attachment or receipt data found"
_MIME_EXT = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png", "image/heic": "heic",
             "image/heif": "heif", "image/tiff": "tif", "image/webp": "webp", "image/gif": "gif",
             "application/xml": "xml", "text/xml": "xml", "text/html": "html", "text/plain": "txt"}


def file_readings(session: Session, store: FileStore, msg: InboundMessage, readings: Sequence[PartReading],
                  facts: MailFacts | None, *, now: datetime) -> list[InboxDocument]:
    docs = []
    for position, reading in enumerate(readings):
        if reading.from_body and (reading.extraction is None or reading.extraction.total is None):
            continue                      # a mail body is a receipt only if a total was read from it
        doc = _new_document(store, msg, position, reading, now=now)
        if doc.status == ReceiptStatus.RECEIVED.value:
            earlier = find_duplicate(session, doc)
            if earlier is not None:
                doc.duplicate_of, doc.duplicate_reason = earlier[0].id, earlier[1]
        session.add(doc)
        session.flush()
        docs.append(doc)
        _announce(session, msg, doc, now=now)
        if doc.status == ReceiptStatus.RECEIVED.value and doc.duplicate_of is None:
            queue_share(session, doc, trigger="arrival", now=now)
    if not docs:
        outbox.notify(session, msg.company_id, "receipt_rejected",
                      {"inbound_id": msg.id, "receipt_id": None, "filename": msg.filename or None,
                       "reason": NOTHING_USABLE, "source": msg.source},
                      person_id=msg.person_id, dedupe_key=f"inbox-empty-{msg.id}", now=now)
    if msg.content is not None:           # a staged upload now lives in the store
        msg.content = None
        msg.path = docs[0].path if docs else ""
    finish_message(session, msg, MessageStatus.PROCESSED, now=now, kind="receipts",
                   reason="" if docs else NOTHING_USABLE)
    _queue_reply(session, msg, facts, now=now)
    return docs


def _new_document(store: FileStore, msg: InboundMessage, position: int, reading: PartReading, *,
                  now: datetime) -> InboxDocument:
    path, digest = store.write_original(reading.content, extension(reading.filename, reading.mime))
    doc = InboxDocument(company_id=msg.company_id, inbound_id=msg.id, position=position,
                        filename=reading.filename[:200], mime=reading.mime[:100], path=path, sha256=digest,
                        size=len(reading.content), person_id=msg.person_id, created_at=now, updated_at=now,
                        period_date=now.date())
    if reading.rejected or reading.extraction is None:
        doc.status = ReceiptStatus.REJECTED.value
        doc.reason = (reading.rejection or "could not be read")[:500]
        return doc
    apply_extraction(doc, reading.extraction)
    return doc


def apply_extraction(doc: InboxDocument, ex: Extraction) -> None:
    confidence = {k: float(v) for k, v in (ex.confidence or {}).items()}
    doc.source = (ex.source or "")[:10]
    doc.vendor = (ex.vendor or "").strip()[:200]
    doc.vendor_kvk = (ex.vendor_kvk or "")[:20]
    doc.vendor_vat_id = (ex.vendor_vat_id or "")[:20]
    doc.vendor_iban = (ex.vendor_iban or "")[:34]
    doc.invoice_number = (ex.invoice_number or "").strip()[:100]
    doc.doc_date = ex.date
    doc.total = _amount(ex.total, "total", confidence)
    doc.net = _amount(ex.net, "net", confidence)
    doc.currency = (ex.currency or "EUR")[:3].upper()
    doc.vat = [{"rate": f"{v.rate.normalize():f}", "amount": f"{v.amount:.2f}",
                **({"base": f"{v.base:.2f}"} if v.base is not None else {})}
               for v in ex.vat if v.amount is not None and abs(v.amount) < MAX_AMOUNT][:10]
    doc.confidence = confidence
    doc.paid_hint = ex.paid_hint
    doc.text = (ex.text or "")[:MAX_TEXT]
    refresh_derived(doc)


def refresh_derived(doc: InboxDocument) -> None:
    """The fields computed from others: the dedupe key and the date the period filter uses."""
    doc.dedupe_key = fields_key(doc.vendor, doc.doc_date, doc.total, doc.invoice_number)
    doc.period_date = doc.doc_date or (doc.created_at.date() if doc.created_at else doc.period_date)


def _amount(value: Decimal | None, name: str, confidence: dict[str, float]) -> Decimal | None:
    if value is None or not value.is_finite() or abs(value) >= MAX_AMOUNT:
        if value is not None:
            confidence[name] = 0.0
        return None
    return value.quantize(Decimal("0.01"))


def extension(filename: str, mime: str) -> str:
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if suffix.isalnum() and len(suffix) <= 8:
        return suffix
    return _MIME_EXT.get(mime.lower(), "bin")


def _announce(session: Session, msg: InboundMessage, doc: InboxDocument, *, now: datetime) -> None:
    if doc.status == ReceiptStatus.REJECTED.value:
        kind, payload = "receipt_rejected", {"receipt_id": doc.id, "filename": doc.filename or None,
                                             "reason": doc.reason}
    else:
        kind, payload = "receipt_received", receipt_facts(doc)
    payload |= {"inbound_id": msg.id, "source": msg.source}
    outbox.notify(session, msg.company_id, kind, payload, person_id=msg.person_id,
                  dedupe_key=f"receipt-{doc.id}", now=now)


def _queue_reply(session: Session, msg: InboundMessage, facts: MailFacts | None, *, now: datetime) -> None:
    if facts is None:                     # a chat upload: the chat is the answer
        return
    if not facts.reply_to:
        msg.reply_status = f"skipped:{facts.no_reply_reason or 'no address'}"[:40]
        return
    if not replies_to_senders(session, msg.company_id):
        msg.reply_status = "skipped:turned off"
        return
    recent = session.exec(select(sa.func.count()).select_from(InboundMessage).where(
        InboundMessage.reply_to == facts.reply_to[:254],
        InboundMessage.received_at >= now - timedelta(hours=1),
        InboundMessage.reply_status.in_(["queued", "sent"]))).one()
    msg.reply_to = facts.reply_to[:254]
    if recent >= MAX_REPLIES_PER_HOUR:
        msg.reply_status = "skipped:rate limit"
        return
    msg.reply_status = "queued"
    session.add(msg)
    jobs.enqueue(session, REPLY_JOB, {"inbound_id": msg.id}, company_id=msg.company_id,
                 dedupe_key=f"receipt-reply-{msg.id}", run_after=now)
