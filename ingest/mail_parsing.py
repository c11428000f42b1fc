"""Incoming mail, pure: headers, MIME walking, what may be answered. No I/O, no database.

``parse_mail(raw, ...)`` turns the raw bytes into a ``ParsedMail``: the candidate documents
(attachments, inline PDFs, the contents of attached ``.eml`` messages, each either accepted or
refused with a reason), the body to read when there is no attachment (a webshop confirmation),
the facts the inbox records, and — when the mail is one — a delivery report or an answer from the
accountant. Bounds keep hostile mail cheap: parts walked, nesting depth, documents per mail.
"""
from __future__ import annotations

import email
import email.policy
import html
import re
from dataclasses import dataclass, field
from email.errors import HeaderParseError, MessageError
from email.header import decode_header, make_header
from email.message import Message
from email.parser import BytesHeaderParser

from core.errors import ReceiptRejectedError
from core.inbox.accountant import tokens_in
from core.inbox.addresses import is_ingest_address
from core.inbox.incoming import AccountantReply, DeliveryReport, MailFacts
from core.inbox.messages import clean_filename
from ingest.delivery_reports import find_delivery_report
from ingest.mime_types import classify_attachment

MAX_PARTS = 300              # MIME parts walked per mail
MAX_DEPTH = 5                # attached messages inside attached messages
MAX_DOCUMENTS = 20           # candidate documents per mail; the rest are refused with a reason
MAX_BODY_CHARS = 2_000_000
_POLICY = email.policy.compat32      # lenient: headers are decoded by ``header`` without raising
_ADDRESS = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$")
_NO_REPLY_LOCAL = re.compile(r"^(mailer-daemon|postmaster|no-?reply|do-?not-?reply|bounces?|listserv|majordomo)"
                             r"([+._-].*)?$", re.IGNORECASE)
_QUOTE_START = re.compile(r"^(>|-{2,}\s*(original message|oorspronkelijk bericht|forwarded message|"
                          r"doorgestuurd bericht)|(on|op)\b.{0,200}\b(wrote|schreef)\b.{0,120}:$|(from|van):\s)", re.IGNORECASE)
_PROCESSED = re.compile(r"(?<!niet )(?<!not )\b(verwerkt|processed|geboekt)\b", re.IGNORECASE)
_PART_ERRORS = (ValueError, TypeError, IndexError, AttributeError, LookupError, AssertionError, MessageError)
_TAGS = re.compile(r"<(script|style)\b.*?</\1\s*>|<[^>]+>", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class Candidate:
    filename: str
    mime: str
    content: bytes
    rejection: str = ""


@dataclass(frozen=True)
class ParsedMail:
    facts: MailFacts
    candidates: tuple[Candidate, ...] = ()
    body_html: str = ""
    body_text: str = ""
    report: DeliveryReport | None = None
    accountant: AccountantReply | None = None
    truncated: bool = False

    @property
    def accepted(self) -> list[Candidate]:
        return [c for c in self.candidates if not c.rejection]


@dataclass(frozen=True)
class HeaderPeek:
    message_id: str
    subject: str
    return_path: str
    sender: str


@dataclass
class _Walk:
    parts: int = 0
    truncated: bool = False
    candidates: list[Candidate] = field(default_factory=list)
    html: list[str] = field(default_factory=list)
    text: list[str] = field(default_factory=list)


def decode_words(value: str) -> str:
    """RFC 2047 encoded words decoded where possible; the raw text where not. Never raises."""
    try:
        text = str(make_header(decode_header(value)))
    except (HeaderParseError, UnicodeError, LookupError, ValueError, TypeError, AssertionError):
        text = value
    return " ".join(text.replace("\x00", "").split())[:2000]


def header(msg: Message, name: str) -> str:
    """The first ``name`` header as one line of text, never raising: hostile headers must not
    stop the parse, and line breaks never survive (no header injection further on)."""
    for key, value in msg.raw_items():
        if key.lower() == name.lower():
            return decode_words(str(value))
    return ""


def first_address(value: str) -> str:
    """The one address of a header like ``Name <a@b.c>`` (lower-cased domain), or ""."""
    found = email.utils.getaddresses([value])
    addresses = [addr for _, addr in found if addr]
    if len(addresses) != 1:
        return ""
    addr = addresses[0].strip()
    return addr if _ADDRESS.match(addr) else ""


def message_ids(value: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(re.findall(r"<[^<>\s]{1,250}>", value or "")))[:50]


def peek_headers(raw: bytes) -> HeaderPeek:
    """Message-ID, subject, Return-Path and From from the header block only (cheap, for accepting)."""
    head = raw[: 256 * 1024]
    msg = BytesHeaderParser(policy=_POLICY).parsebytes(head)
    ids = message_ids(header(msg, "Message-ID"))
    return HeaderPeek(ids[0] if ids else "", header(msg, "Subject")[:300], header(msg, "Return-Path"),
                      header(msg, "From"))


def check_acceptable(raw: bytes) -> None:
    """The cheap check before 250: a mail must at least start with a header line."""
    if not raw.strip():
        raise ReceiptRejectedError("the message is empty")
    first = raw.lstrip(b"\r\n").split(b"\n", 1)[0]
    if b":" not in first or b"\x00" in raw[:65536]:
        raise ReceiptRejectedError("this is not an e-mail message (no header)")


def redact(address: str) -> str:
    """``j…@example.com`` / ``bon-…@klerk.test``: enough to tell mails apart in a log, no more."""
    local, at, domain = (address or "").rpartition("@")
    if not at:
        return "…"
    keep = "bon-" if local.lower().startswith("bon-") else local[:1]
    return f"{keep}…@{domain}"


def reply_target(msg: Message, envelope_from: str, ingest_domain: str) -> tuple[str, str]:
    """Where an automatic reply may go (RFC 3834: the return path), or "" and why not."""
    sender = (envelope_from or "").strip().strip("<>")
    if not sender:
        return "", "empty return path"
    auto = header(msg, "Auto-Submitted").lower()
    if auto and auto != "no":
        return "", "auto-submitted"
    if header(msg, "Precedence").lower() in ("bulk", "list", "junk", "auto_reply"):
        return "", "bulk or list"
    if header(msg, "List-Id") or header(msg, "List-Unsubscribe") or header(msg, "List-Post"):
        return "", "mailing list"
    suppress = header(msg, "X-Auto-Response-Suppress").lower()
    if any(word in suppress for word in ("all", "autoreply", "oof")):
        return "", "auto-response suppressed"
    address = first_address(sender)
    if not address:
        return "", "no valid return address"
    local = address.rpartition("@")[0]
    if _NO_REPLY_LOCAL.match(local):
        return "", "automatic sender"
    if is_ingest_address(address, ingest_domain) or address.lower().endswith("@" + ingest_domain.lower()):
        return "", "our own address"
    return address, ""


def new_text(text: str) -> str:
    """The part of a reply above the quoted original."""
    lines = []
    for line in text.splitlines():
        if _QUOTE_START.match(line.strip()):
            break
        lines.append(line)
    return "\n".join(lines).strip()


def html_to_text(markup: str) -> str:
    return " ".join(html.unescape(_TAGS.sub(" ", markup)).split())


def _accountant_reply(msg: Message, body_text: str, body_html: str, sender: str) -> AccountantReply | None:
    subject = header(msg, "Subject")
    text = body_text or html_to_text(body_html)
    tokens = tuple(dict.fromkeys(tokens_in(subject) + tokens_in(header(msg, "X-Klerk-Ref")) + tokens_in(text)))
    references = message_ids(header(msg, "In-Reply-To") + " " + header(msg, "References"))
    if not tokens and not references:
        return None
    fresh = new_text(text)
    return AccountantReply(tokens=tokens, references=references, sender=sender,
                           says_processed=bool(_PROCESSED.search(fresh) or _PROCESSED.search(subject)),
                           excerpt=fresh[:500])


def _payload(part: Message) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except _PART_ERRORS:
        return b""
    return data if isinstance(data, bytes) else b""


def _text(part: Message) -> str:
    data = _payload(part)
    charset = part.get_content_charset() or "utf-8"
    try:
        return data.decode(charset, errors="replace")[:MAX_BODY_CHARS]
    except LookupError:
        return data.decode("utf-8", errors="replace")[:MAX_BODY_CHARS]


def _filename(part: Message) -> str:
    try:
        name = part.get_filename() or ""
    except _PART_ERRORS:
        name = ""
    return clean_filename(decode_words(str(name)))


def _disposition(part: Message) -> str:
    try:
        return (part.get_content_disposition() or "").lower()
    except _PART_ERRORS:
        return ""


def _walk(part: Message, depth: int, walk: _Walk) -> None:
    if walk.parts >= MAX_PARTS:
        walk.truncated = True
        return
    walk.parts += 1
    ctype = part.get_content_type()
    if ctype == "message/delivery-status":
        return
    if part.is_multipart() and ctype != "message/rfc822":
        payload = part.get_payload()
        for sub in payload if isinstance(payload, list) else []:
            _walk(sub, depth, walk)
        return
    name, disposition = _filename(part), _disposition(part)
    if ctype == "message/rfc822" or name.lower().endswith(".eml"):
        _walk_attached_message(part, name, depth, walk)
        return
    if ctype in ("text/plain", "text/html") and disposition != "attachment" and not name:
        (walk.html if ctype == "text/html" else walk.text).append(_text(part))
        return
    content = _payload(part)
    if not content:
        return
    mime, rejection = classify_attachment(name, ctype, content, disposition=disposition,
                                          content_id=bool(part.get("Content-ID")))
    if mime is None:                   # decoration (logos, signatures, tracking pixels): not a document
        return
    accepted = sum(1 for c in walk.candidates if not c.rejection)
    if not rejection and accepted >= MAX_DOCUMENTS:
        rejection = f"too many documents in one mail (more than {MAX_DOCUMENTS})"
    walk.candidates.append(Candidate(name or f"bijlage-{len(walk.candidates) + 1}", mime, content, rejection))


def _walk_attached_message(part: Message, name: str, depth: int, walk: _Walk) -> None:
    if depth >= MAX_DEPTH:
        walk.candidates.append(Candidate(name or "message.eml", "message/rfc822", _payload(part) or b"-",
                                         "attached messages are nested too deep"))
        return
    payload = part.get_payload()
    if isinstance(payload, list) and payload and isinstance(payload[0], Message):
        inner: Message = payload[0]
    else:
        data = _payload(part)
        if not data:
            return
        inner = email.message_from_bytes(data, policy=_POLICY)
    _walk(inner, depth + 1, walk)


def parse_mail(raw: bytes, *, envelope_from: str, ingest_domain: str) -> ParsedMail:
    """Everything the worker needs from one raw mail. Raises ``ReceiptRejectedError`` only for
    bytes that are not a mail at all."""
    check_acceptable(raw)
    msg = email.message_from_bytes(raw, policy=_POLICY)
    if not msg.keys():
        raise ReceiptRejectedError("this is not an e-mail message (no header)")
    sender = first_address(header(msg, "From"))
    ids = message_ids(header(msg, "Message-ID"))
    reply_to, no_reply = reply_target(msg, envelope_from, ingest_domain)
    facts = MailFacts(message_id=ids[0] if ids else "", subject=header(msg, "Subject")[:300], sender=sender,
                      reply_to=reply_to, no_reply_reason=no_reply,
                      references=message_ids(header(msg, "In-Reply-To") + " " + header(msg, "References")))
    report = find_delivery_report(msg, envelope_from=envelope_from, sender=sender)
    if report is not None:
        return ParsedMail(facts=MailFacts(message_id=facts.message_id, subject=facts.subject, sender=sender,
                                          no_reply_reason="bounce"), report=report)
    walk = _Walk()
    _walk(msg, 0, walk)
    body_html = max(walk.html, key=len, default="")
    body_text = max(walk.text, key=len, default="")
    top_text = next(iter(walk.text), "")
    return ParsedMail(facts=facts, candidates=tuple(walk.candidates), body_html=body_html, body_text=body_text,
                      accountant=_accountant_reply(msg, top_text, next(iter(walk.html), ""), sender),
                      truncated=walk.truncated)


def body_document(parsed: ParsedMail) -> tuple[str, str, bytes] | None:
    """The mail's own body as a document to read (filename, mime, bytes) when it has no usable
    attachment: the HTML of a webshop confirmation, else its text."""
    if parsed.accepted:
        return None
    if parsed.body_html.strip():
        return "mail.html", "text/html", parsed.body_html.encode("utf-8")
    if parsed.body_text.strip():
        return "mail.txt", "text/plain", parsed.body_text.encode("utf-8")
    return None


def text_as_html(text: str) -> str:
    return "<html><body><pre>" + html.escape(text) + "</pre></body></html>"
