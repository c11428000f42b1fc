"""Bounces, pure: RFC 3464 delivery status notifications, and the common non-standard ones
(a MAILER-DAEMON mail with the failed recipient and the original Message-ID in its text)."""
from __future__ import annotations

import re
from email.message import Message
from email.parser import HeaderParser

from core.inbox.incoming import BouncedRecipient, DeliveryReport

_BOUNCE_SUBJECT = re.compile(r"undeliver|undelivered|delivery (status notification|failure|has failed)|"
                             r"returned mail|mail delivery failed|failure notice|niet (afgeleverd|bezorgd)|"
                             r"onbestelbaar|non remis|unzustellbar", re.IGNORECASE)
_DAEMON = re.compile(r"^(mailer-daemon|postmaster)@", re.IGNORECASE)
_MESSAGE_ID = re.compile(r"^Message-ID:\s*(<[^<>\s]{1,250}>)", re.IGNORECASE | re.MULTILINE)
_RECIPIENT = re.compile(r"<([^<>\s@]+@[^<>\s@]+)>|\b([A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,})\b")
_STATUS = re.compile(r"\b([245]\.\d{1,3}\.\d{1,3})\b")


def _clean(value: object) -> str:
    return " ".join(str(value or "").split())[:500]


def _after_semicolon(value: str) -> str:
    return value.split(";", 1)[-1].strip() if ";" in value else value.strip()


def _original_message_id(report: Message) -> str:
    for part in report.walk():
        ctype = part.get_content_type()
        if ctype == "text/rfc822-headers":
            data = part.get_payload(decode=True) or b""
            head = HeaderParser().parsestr(data.decode("utf-8", errors="replace"), headersonly=True)
            found = re.findall(r"<[^<>\s]{1,250}>", str(head.get("Message-ID", "")))
            if found:
                return found[0]
        elif ctype == "message/rfc822":
            inner = part.get_payload()
            if isinstance(inner, list) and inner:
                found = re.findall(r"<[^<>\s]{1,250}>", str(inner[0].get("Message-ID", "")))
                if found:
                    return found[0]
    return ""


def _standard(msg: Message) -> DeliveryReport | None:
    status_part = next((p for p in msg.walk() if p.get_content_type() == "message/delivery-status"), None)
    if status_part is None:
        return None
    blocks = status_part.get_payload()
    recipients = []
    for block in blocks[1:] if isinstance(blocks, list) else []:
        if not isinstance(block, Message):
            continue
        address = _after_semicolon(_clean(block.get("Final-Recipient") or block.get("Original-Recipient")))
        if not address:
            continue
        recipients.append(BouncedRecipient(address=address.strip("<>")[:254],
                                           action=_clean(block.get("Action")).lower()[:20] or "failed",
                                           status=_clean(block.get("Status"))[:20],
                                           diagnostic=_after_semicolon(_clean(block.get("Diagnostic-Code")))))
    return DeliveryReport(original_message_id=_original_message_id(msg), recipients=tuple(recipients[:20]))


def _text_of(msg: Message) -> str:
    chunks = []
    for part in msg.walk():
        if part.get_content_maintype() == "text" or part.get_content_type() == "message/rfc822":
            data = part.get_payload(decode=True)
            if isinstance(data, bytes):
                chunks.append(data[:200_000].decode("utf-8", errors="replace"))
    return "\n".join(chunks)[:400_000]


def _heuristic(msg: Message, sender: str, subject: str) -> DeliveryReport:
    text = _text_of(msg)
    ids = _MESSAGE_ID.findall(text)
    failed = [a.strip() for a in str(msg.get("X-Failed-Recipients", "")).split(",") if "@" in a]
    if not failed:
        for m in _RECIPIENT.finditer(text):
            address = m.group(1) or m.group(2)
            if address and address.lower() != sender.lower() and not _DAEMON.match(address):
                failed.append(address)
                break
    status = _STATUS.search(text)
    reason = next((line.strip() for line in text.splitlines()
                   if re.search(r"\b(5\d\d|4\d\d)\b", line) and len(line.strip()) > 8), subject)
    return DeliveryReport(original_message_id=ids[-1] if ids else "",
                          recipients=tuple(BouncedRecipient(address=a[:254], status=status[1] if status else "",
                                                            diagnostic=_clean(reason)) for a in failed[:5]),
                          reason=_clean(reason))


def find_delivery_report(msg: Message, *, envelope_from: str, sender: str) -> DeliveryReport | None:
    """The delivery report this mail is, or None for any other mail."""
    ctype = msg.get_content_type()
    report_type = str(msg.get_param("report-type", "") or "").lower()
    if ctype == "multipart/report" and report_type == "delivery-status":
        return _standard(msg) or DeliveryReport(original_message_id=_original_message_id(msg), recipients=())
    subject = _clean(msg.get("Subject"))
    from_daemon = bool(_DAEMON.match(sender or "")) or not (envelope_from or "").strip("<> ")
    if from_daemon and (_BOUNCE_SUBJECT.search(subject) or msg.get("X-Failed-Recipients")):
        return _heuristic(msg, sender, subject)
    return None
