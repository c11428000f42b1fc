"""A short thank-you mail to the customer after a payment came in (the owner's one tap on "Betaald!").

Written in the invoice's language, from the company's name, replying to the company's address,
through the outgoing relay. It only goes out for an invoice that received money; it changes nothing
in the books.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from core.companies import get_company
from core.company_settings import get_setting
from core.contacts import get_contact
from core.document import DocumentKind
from core.document_view import format_money
from core.documents import get_document
from core.errors import ConflictError, ValidationError
from core.i18n import normalize_language, translate
from core.invoices import outstanding
from core.mail import OutgoingMail, Relay, build_message, send_message
from core.money import ZERO

SUBJECT = "Thank you for your payment of invoice {number}"
BODY_PAID = ("Dear {name},\n\nThank you for your payment of {amount} for invoice {number}. "
             "The invoice is now fully paid.")
BODY_PARTLY = ("Dear {name},\n\nThank you for your payment of {amount} for invoice {number}. "
               "{outstanding} is still open.")
CLOSING = "Kind regards,\n{company}"


@dataclass(frozen=True)
class Thanks:
    invoice_id: int
    number: str
    recipient: str
    message_id: str


def send_thanks(session: Session, company_id: int, invoice_id: int, *, relay: Relay, now: datetime) -> Thanks:
    """Thank the customer for what was paid on ``invoice_id``. Raises ``ValidationError`` when the
    customer has no e-mail address, ``ConflictError`` when nothing was paid, and
    ``MailDeliveryError`` when the relay refuses."""
    doc = get_document(session, company_id, invoice_id)
    if doc.kind != DocumentKind.INVOICE.value or doc.amount_paid <= ZERO:
        raise ConflictError(f"invoice {invoice_id} received no payment to thank for")
    contact = get_contact(session, company_id, doc.contact_id)
    if not contact.email:
        raise ValidationError("buyer.email", "The customer has no e-mail address")
    company = get_company(session, company_id)
    lang = normalize_language(doc.language)
    left = max(outstanding(doc), ZERO)
    sender = company.trade_name or company.name
    values = {"name": contact.contact_person or contact.name, "number": doc.number or "",
              "amount": format_money(doc.amount_paid, lang), "outstanding": format_money(left, lang),
              "company": sender}
    body = translate(lang, BODY_PAID if left <= ZERO else BODY_PARTLY, **values)
    text = f"{body}\n\n{translate(lang, CLOSING, **values)}\n"
    mail = OutgoingMail(to=(contact.email,), subject=translate(lang, SUBJECT, **values), text=text,
                        sender_name=get_setting(session, company_id, "mail_sender_name") or sender,
                        reply_to=get_setting(session, company_id, "mail_reply_to") or company.email)
    message = build_message(mail, relay, domain=relay.sender.rpartition("@")[2] or "klerk.localhost")
    send_message(relay, message, company_id=company_id)
    return Thanks(doc.id, doc.number or "", contact.email, str(message["Message-ID"]))
