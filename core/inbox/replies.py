"""The words of the inbox's mails: the short reply to whoever mailed receipts in, and the summary
that goes to the accountant. English msgids, Dutch in ``core/locale/nl/LC_MESSAGES/inbox.po``.
"""
from __future__ import annotations

from decimal import Decimal

from sqlmodel import Session, select

from core.document_view import format_date, format_money, format_percent
from core.errors import NotFoundError
from core.i18n import normalize_language, translate
from core.inbox.facts import status_label
from core.inbox.models import InboundMessage, InboxDocument, ReceiptStatus
from core.mail import OutgoingMail
from core.models import Company


def _t(language: str, msgid: str, **params: object) -> str:
    return translate(language, msgid, **params)


def reason_text(reason: str, language: str) -> str:
    """A refusal reason in the reader's language: ``what (detail)`` translates ``what``."""
    head, paren, detail = reason.partition(" (")
    if paren and detail.endswith(")"):
        return f"{_t(language, head)} ({detail}"
    return _t(language, reason)


def describe(doc: InboxDocument, language: str) -> str:
    """``Bakkerij de Vries, 12 november 2026, total € 12,50 (VAT 9%: € 1,03)`` — what was read."""
    bits = [doc.vendor or _t(language, "unknown supplier")]
    if doc.doc_date:
        bits.append(format_date(doc.doc_date, language))
    if doc.invoice_number:
        bits.append(_t(language, "number {number}", number=doc.invoice_number))
    if doc.total is not None:
        bits.append(_t(language, "total {amount}", amount=format_money(doc.total, language, doc.currency or "EUR")))
    vat = [_t(language, "VAT {rate}: {amount}", rate=format_percent(Decimal(v["rate"]), language),
              amount=format_money(Decimal(v["amount"]), language, doc.currency or "EUR"))
           for v in doc.vat or []]
    text = ", ".join(bits)
    return f"{text} ({'; '.join(vat)})" if vat else text


def receipt_reply(session: Session, inbound_id: int) -> OutgoingMail:
    """The automatic answer to a mail that was processed: what was read, or why nothing was."""
    msg = session.get(InboundMessage, inbound_id)
    if msg is None or not msg.reply_to:
        raise NotFoundError("no reply due for this arrival")
    company = session.get(Company, msg.company_id)
    lang = normalize_language(company.language if company else "nl")
    docs = list(session.exec(select(InboxDocument).where(InboxDocument.inbound_id == msg.id)
                             .order_by(InboxDocument.position)))
    read = [d for d in docs if d.status != ReceiptStatus.REJECTED.value]
    refused = [d for d in docs if d.status == ReceiptStatus.REJECTED.value]
    lines = [_t(lang, "Hello,"), ""]
    lines.append(_t(lang, "Klerk received your mail \"{subject}\".", subject=msg.subject or "-")
                 if msg.subject else _t(lang, "Klerk received your mail."))
    if read:
        lines += ["", _t(lang, "Read:")]
        for doc in read:
            lines.append(f"- {doc.filename or '-'}: {describe(doc, lang)}")
            if doc.duplicate_of is not None:
                lines.append("  " + _t(lang, "This looks like a bill we already had (#{id}).", id=doc.duplicate_of))
    if refused:
        lines += ["", _t(lang, "Not used:")]
        lines += [f"- {doc.filename or '-'}: {reason_text(doc.reason, lang)}" for doc in refused]
    if not docs:
        lines += ["", _t(lang, "Nothing was read from this mail: {reason}.",
                         reason=reason_text(msg.reason or "no attachment or receipt data found", lang))]
    lines += ["", _t(lang, "This is an automatic message from Klerk.")]
    subject = msg.subject if msg.subject.lower().startswith("re:") else f"Re: {msg.subject or 'Klerk'}"
    headers = {"Auto-Submitted": "auto-replied", "X-Auto-Response-Suppress": "All", "Precedence": "auto_reply"}
    if msg.message_id:
        headers |= {"In-Reply-To": msg.message_id, "References": msg.message_id}
    return OutgoingMail(to=(msg.reply_to,), subject=subject, text="\n".join(lines),
                        sender_name=f"Klerk – {company.trade_name or company.name}" if company else "Klerk",
                        headers=headers)


def share_subject(doc: InboxDocument, token: str, language: str) -> str:
    what = doc.vendor or doc.filename or f"#{doc.id}"
    amount = f" {format_money(doc.total, language, doc.currency or 'EUR')}" if doc.total is not None else ""
    day = f" {doc.doc_date.isoformat()}" if doc.doc_date else ""
    return f"{_t(language, 'Receipt')} {what}{day}{amount} [{token}]"


def share_summary(doc: InboxDocument, token: str, company: Company) -> str:
    lang = normalize_language(company.language)
    rows = [
        (_t(lang, "Supplier"), doc.vendor or "-"),
        (_t(lang, "Supplier VAT id"), doc.vendor_vat_id or "-"),
        (_t(lang, "Supplier KvK"), doc.vendor_kvk or "-"),
        (_t(lang, "Date"), format_date(doc.doc_date, lang) if doc.doc_date else "-"),
        (_t(lang, "Invoice number"), doc.invoice_number or "-"),
        (_t(lang, "Total incl. VAT"), format_money(doc.total, lang, doc.currency) if doc.total is not None else "-"),
        (_t(lang, "Excl. VAT"), format_money(doc.net, lang, doc.currency) if doc.net is not None else "-"),
    ]
    rows += [(_t(lang, "VAT {rate}", rate=format_percent(Decimal(v["rate"]), lang)),
              format_money(Decimal(v["amount"]), lang, doc.currency)) for v in doc.vat or []]
    rows.append((_t(lang, "Status"), status_label(doc.status, lang)))
    width = max(len(label) for label, _ in rows)
    body = [_t(lang, "A receipt of {company}, read by Klerk:", company=company.trade_name or company.name), ""]
    body += [f"{label.ljust(width)}  {value}" for label, value in rows]
    body += ["", _t(lang, "Attached: the original ({filename}) and a UBL purchase invoice (XML).",
                    filename=doc.filename or "-"),
             _t(lang, "When you have booked it, reply to this mail with \"verwerkt\"."),
             "", f"Ref: {token}"]
    return "\n".join(body)
