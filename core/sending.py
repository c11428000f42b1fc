"""Sending quotes, invoices and credit notes: by e-mail through the outgoing relay, or as a PDF
into the chat; and recording a bounce.

The number becomes final in the unit of work that sends: ``send_by_mail`` finalises (number,
frozen parties), renders, records the Message-ID, hands the mail to the relay, and only then lets
the caller commit. When the relay refuses, ``MailDeliveryError`` propagates, the transaction rolls
back and the number is not used. (Should the commit itself fail after the relay accepted, the mail
went out with a number that was not recorded; the unique constraint is flushed before sending to
make that as unlikely as possible.)
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlmodel import Session, select

from core.companies import get_company
from core.company_settings import get_setting
from core.compliance import Finding, check_document
from core.contacts import get_contact
from core.document import DocumentData, DocumentKind
from core.document_files import file_stem
from core.document_view import format_date, format_iban, format_money
from core.documents import document_data, get_document
from core.errors import ConflictError, NotFoundError
from core.i18n import translate
from core.invoices import NotReadyError, finalise_document
from core.mail import (
    Attachment,
    MailDeliveryError,
    OutgoingMail,
    Relay,
    build_message,
    send_message,
)
from core.models import Company, Contact, Document, DocumentStatus, SendFormat
from core.payments.accounts import has_payment_account
from core.payments.links import create_payment_link, request_payment_link
from core.payments.providers import PaymentProvider
from core.rendering import render_pdf
from core.ubl import build_ubl
from core.vat import Totals, compute_totals

S = DocumentStatus
PDF = "application/pdf"
XML = "application/xml"


@dataclass(frozen=True)
class Sent:
    document_id: int
    kind: str
    number: str
    recipients: tuple[str, ...]
    attachments: tuple[str, ...]      # file names
    message_id: str
    total_incl: Decimal


@dataclass(frozen=True)
class ChatCopy:
    document_id: int
    kind: str
    number: str | None
    filename: str
    pdf: bytes


# ---- readiness ---------------------------------------------------------------------------------

def _blocking(session: Session, doc: Document, contact: Contact, *, by_mail: bool) -> list[Finding]:
    findings = [f for f in check_document(document_data(session, doc)) if f.blocking] \
        if S(doc.status) is S.DRAFT else []
    if by_mail and not contact.email:
        findings.append(Finding("buyer.email.missing", "buyer.email", "The customer has no e-mail address"))
    return findings


def _finalise(session: Session, company_id: int, doc: Document, contact: Contact, *, by_mail: bool,
              today: date, now: datetime) -> Document:
    if S(doc.status) is not S.DRAFT:
        raise ConflictError(f"document {doc.id} is already {doc.status}")
    findings = _blocking(session, doc, contact, by_mail=by_mail)
    if findings:
        raise NotReadyError(findings)
    return finalise_document(session, company_id, doc.id, today=today, now=now)


# ---- e-mail ------------------------------------------------------------------------------------

def send_by_mail(session: Session, company_id: int, document_id: int, *, relay: Relay, today: date,
                 now: datetime, provider: PaymentProvider | None = None) -> Sent:
    """Send a draft by e-mail: number, render, mail, in the caller's transaction. Raises
    ``NotReadyError`` (what blocks), ``ConflictError`` (not a draft any more: a second tap),
    ``MailDeliveryError`` (the relay refused; roll back).

    An invoice of a company with a payment account gets a payment link (``_payment_link``)."""
    if not relay.configured:
        raise MailDeliveryError("no outgoing mail server configured")
    doc = get_document(session, company_id, document_id, lock=True)
    contact = get_contact(session, company_id, doc.contact_id)
    _finalise(session, company_id, doc, contact, by_mail=True, today=today, now=now)
    _payment_link(session, doc, provider, now=now)
    return _mail(session, doc, contact, relay, now=now)


def _payment_link(session: Session, doc: Document, provider: PaymentProvider | None, *, now: datetime) -> None:
    """With a ``provider`` the link is made now (bounded by the provider's short timeouts, failing
    softly: a job retries and the invoice goes out with the IBAN and QR code), so it is printed on
    the PDF and in the mail. Without one the link is queued (``request_payment_link``): no waiting
    on Mollie in this transaction; the worker makes it, and a resend or a reminder carries it."""
    if doc.kind != DocumentKind.INVOICE.value or doc.payment_link \
            or not has_payment_account(session, doc.company_id):
        return
    if provider is not None:
        create_payment_link(session, provider, doc.company_id, doc.id, now=now)
    else:
        request_payment_link(session, doc.company_id, doc.id, now=now)


def resend_by_mail(session: Session, company_id: int, document_id: int, *, relay: Relay,
                   now: datetime) -> Sent:
    """Send a sent document again (same number, same frozen content), e.g. after a bounce."""
    if not relay.configured:
        raise MailDeliveryError("no outgoing mail server configured")
    doc = get_document(session, company_id, document_id, lock=True)
    if S(doc.status) is S.DRAFT:
        raise ConflictError(f"document {document_id} is a draft")
    contact = get_contact(session, company_id, doc.contact_id)
    if not contact.email:
        raise NotReadyError(_blocking(session, doc, contact, by_mail=True))
    return _mail(session, doc, contact, relay, now=now)


def _mail(session: Session, doc: Document, contact: Contact, relay: Relay, *, now: datetime) -> Sent:
    company = get_company(session, doc.company_id)
    data = document_data(session, doc)
    totals = compute_totals(data)
    stem = file_stem(data)
    attachments = [Attachment(f"{stem}.pdf", render_pdf(data, totals), PDF)]
    wants_ubl = SendFormat(contact.send_format) in (SendFormat.UBL, SendFormat.BOTH)
    if wants_ubl and data.kind is not DocumentKind.QUOTE:
        attachments.append(Attachment(f"{stem}.xml", build_ubl(data, totals), XML))
    if company.terms_pdf and data.kind is not DocumentKind.CREDIT_NOTE:
        attachments.append(Attachment(company.terms_filename or _terms_name(data.language),
                                      company.terms_pdf, PDF))
    subject, text = mail_texts(session, company, contact, data, totals)
    cc = tuple(a.strip() for a in contact.extra_emails.split(",") if a.strip())
    mail = OutgoingMail(to=(contact.email,), cc=cc, subject=subject, text=text,
                        sender_name=get_setting(session, company.id, "mail_sender_name") or company.trade_name
                        or company.name,
                        reply_to=get_setting(session, company.id, "mail_reply_to") or company.email,
                        attachments=tuple(attachments))
    message = build_message(mail, relay, domain=relay.sender.rpartition("@")[2] or "klerk.localhost")
    doc.mail_message_id, doc.delivery, doc.delivery_error = str(message["Message-ID"]), "mailed", ""
    doc.updated_at = now
    session.add(doc)
    session.flush()                     # constraint trouble surfaces before the mail leaves
    send_message(relay, message, company_id=company.id)
    return Sent(document_id=doc.id, kind=doc.kind, number=doc.number or "", recipients=(contact.email, *cc),
                attachments=tuple(a.filename for a in attachments), message_id=doc.mail_message_id,
                total_incl=totals.total_incl)


def _terms_name(language: str) -> str:
    return "algemene-voorwaarden.pdf" if language == "nl" else "terms-and-conditions.pdf"


class _Placeholders(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _fill(template: str, values: dict[str, str]) -> str:
    """A text the company wrote, with ``{number}``, ``{amount}``… filled in; anything that is not a
    known placeholder (or broken braces) stays as written."""
    try:
        return template.format_map(_Placeholders(values))
    except (ValueError, IndexError, AttributeError, KeyError):
        return template


def mail_texts(session: Session, company: Company, contact: Contact, data: DocumentData,
               totals: Totals) -> tuple[str, str]:
    """Subject and body in the document's language: the company's own texts (settings
    ``mail_subject_<lang>``, ``mail_body_<lang>``) with placeholders, else the standard ones."""
    lang = data.language
    sender = company.trade_name or company.name
    kind = {"invoice": "Invoice", "quote": "Quote", "credit_note": "Credit note"}[data.kind.value]
    values = {"number": data.number or "", "company": sender, "name": contact.contact_person or contact.name,
              "kind": translate(lang, kind).lower(),
              "amount": format_money(totals.amount_due if data.kind is DocumentKind.INVOICE else totals.total_incl,
                                     lang),
              "due": format_date(data.due_date, lang) if data.due_date else "",
              "valid": format_date(data.valid_until, lang) if data.valid_until else "",
              "iban": format_iban(company.iban), "holder": company.name,
              "reference": data.effective_payment_reference, "link": data.payment_link,
              "original": data.original_invoice.number if data.original_invoice else ""}
    own_subject = get_setting(session, company.id, f"mail_subject_{lang}")
    own_body = get_setting(session, company.id, f"mail_body_{lang}")
    if data.kind is DocumentKind.QUOTE:
        subject = translate(lang, "Quote {number} from {company}", **values)
        body = translate(lang, "Dear {name},\n\nPlease find attached our quote {number} for {amount}, valid "
                               "until {valid}. Simply reply to this e-mail to accept it.", **values)
    elif data.kind is DocumentKind.CREDIT_NOTE:
        subject = translate(lang, "Credit note {number} from {company}", **values)
        body = translate(lang, "Dear {name},\n\nPlease find attached credit note {number} for {amount}, "
                               "which corrects invoice {original}.", **values)
    else:
        subject = translate(lang, "Invoice {number} from {company}", **values)
        body = translate(lang, "Dear {name},\n\nPlease find attached invoice {number} for {amount}. Please "
                               "pay it by {due} to {iban} in the name of {holder}, quoting {reference}.",
                         **values)
        if data.payment_link:
            body += "\n\n" + translate(lang, "Or pay online: {link}", link=data.payment_link)
    if own_body:
        return _fill(own_subject, values) if own_subject else subject, _fill(own_body, values).rstrip() + "\n"
    closing = translate(lang, "Kind regards,\n{company}", **values)
    return (_fill(own_subject, values) if own_subject else subject), f"{body}\n\n{closing}\n"


# ---- the chat ----------------------------------------------------------------------------------

def send_to_chat(session: Session, company_id: int, document_id: int, *, today: date,
                 now: datetime) -> ChatCopy:
    """Finalise a draft and render its PDF to be forwarded by hand (delivery ``chat``). The number
    is final when the caller commits; the PDF carries the terms and conditions after its pages."""
    doc = get_document(session, company_id, document_id, lock=True)
    contact = get_contact(session, company_id, doc.contact_id)
    _finalise(session, company_id, doc, contact, by_mail=False, today=today, now=now)
    doc.delivery, doc.delivery_error, doc.updated_at = "chat", "", now
    session.add(doc)
    session.flush()
    return render_copy(*pdf_source(session, company_id, document_id))


def pdf_source(session: Session, company_id: int, document_id: int) -> tuple[Document, DocumentData, bytes | None]:
    """What ``render_copy`` needs, read in a unit of work (rendering may then run outside it)."""
    doc = get_document(session, company_id, document_id)
    company = get_company(session, company_id)
    terms = company.terms_pdf if doc.kind != DocumentKind.CREDIT_NOTE.value else None
    return doc, document_data(session, doc), terms


def render_copy(doc: Document, data: DocumentData, terms_pdf: bytes | None) -> ChatCopy:
    pdf = render_pdf(data, compute_totals(data), terms_pdf=terms_pdf)
    return ChatCopy(document_id=doc.id, kind=doc.kind, number=doc.number, filename=f"{file_stem(data)}.pdf",
                    pdf=pdf)


# ---- bounces -----------------------------------------------------------------------------------

def _message_id(value: str) -> str:
    value = (value or "").strip()
    return value if value.startswith("<") else f"<{value}>"


def mark_bounced(session: Session, company_id: int, message_id: str, reason: str) -> Document:
    """The mail that sent a document came back: delivery ``bounced`` with the reason, so no
    overview shows it as delivered. Raises ``NotFoundError`` for a Message-ID of no document."""
    doc = session.exec(select(Document).where(Document.company_id == company_id,
                                              Document.mail_message_id == _message_id(message_id))).first()
    if doc is None or not doc.mail_message_id:
        raise NotFoundError("no document was sent with that Message-ID")
    doc.delivery, doc.delivery_error = "bounced", " ".join((reason or "").split())[:500]
    session.add(doc)
    session.flush()
    return doc
