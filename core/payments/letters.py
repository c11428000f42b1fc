"""The reminder mails: their texts per language, and delivering an approved reminder at most once.

A company may replace the body of each stage (company setting ``reminder_text_<1|2|3>_<nl|en>``) using the
placeholders below. The consumer's last letter must state the term and the collection costs, so
when a custom text lacks ``{deadline}`` or ``{costs}`` the statutory paragraph is appended.

Placeholders: {contact} {number} {issue_date} {due_date} {outstanding} {days_overdue} {iban}
{reference} {company} {payment_link} {deadline} {costs} {interest} {compensation}
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from collections.abc import Callable

from babel.dates import format_date
from babel.numbers import format_currency
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from core.companies import get_company
from core.company_settings import get_setting
from core.contacts import get_contact
from core.documents import get_document
from core.i18n import normalize_language, translate
from core.invoices import outstanding
from core.mail import Attachment, MailDeliveryError, OutgoingMail, Relay, build_message, send_message
from core.models import Company, Contact, Document
from core.outbox import notify
from core.payments.models import Reminder
from core.payments.reminders import OPEN, ReminderFacts, reminder_facts
from core.storage import session_scope

log = logging.getLogger(__name__)
LOCALES = {"nl": "nl_NL", "en": "en_GB"}

SUBJECTS = {
    1: "Reminder: invoice {number}",
    2: "Second reminder: invoice {number}",
    3: "Final reminder: invoice {number}",
}
BODY_FIRST = (
    "Dear {contact},\n\n"
    "According to our records invoice {number} of {issue_date} was due on {due_date}; {outstanding} is "
    "still open. Perhaps it slipped through. Would you transfer the amount to {iban}, quoting {reference}?"
    "\n\nIf you have paid in the meantime, please ignore this message.")
BODY_SECOND = (
    "Dear {contact},\n\n"
    "We have not yet received the payment of invoice {number} of {issue_date}. {outstanding} is still "
    "open; it was due on {due_date}, {days_overdue} days ago. Please transfer the amount to {iban}, "
    "quoting {reference}, within a few days.\n\nIf something is wrong with the invoice, please let us know.")
BODY_FINAL_CONSUMER = (
    "Dear {contact},\n\n"
    "Despite our earlier reminders invoice {number} of {issue_date} has not been paid: {outstanding} is "
    "still open.")
STATUTORY_CONSUMER = (
    "We give you the opportunity to pay this amount within fourteen days from the day after this letter "
    "was delivered to you, so at the latest on {deadline}, to {iban}, quoting {reference}. If you do not "
    "pay within this term, you will also owe extrajudicial collection costs of {costs}. Paying within "
    "the term costs you nothing extra.")
BODY_FINAL_BUSINESS = (
    "Dear {contact},\n\n"
    "Invoice {number} of {issue_date} was due on {due_date} and, despite our reminders, {outstanding} is "
    "still open. Since the due date you are in default. We ask you to pay the amount immediately to "
    "{iban}, quoting {reference}.\n\n"
    "From the due date we are entitled to statutory commercial interest (so far {interest}) and to a "
    "compensation for collection costs of at least {compensation}. We will claim these if the payment "
    "does not follow promptly.")
LINK_LINE = "Pay online: {payment_link}"
CLOSING = "Kind regards,\n{company}"


@dataclass(frozen=True)
class Letter:
    subject: str
    text: str


def _money(value: Decimal, lang: str) -> str:
    return format_currency(value, "EUR", locale=LOCALES[lang])


def _day(value: date | None, lang: str) -> str:
    return format_date(value, format="long", locale=LOCALES[lang]) if value else ""


class _Keep(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def reminder_letter(*, facts: ReminderFacts, doc: Document, company: Company, contact: Contact,
                    custom_text: str = "") -> Letter:
    """The mail for one reminder stage (pure: everything it needs is passed in)."""
    lang = normalize_language(doc.language)
    values = _Keep(
        contact=contact.contact_person or contact.name, number=doc.number or "",
        issue_date=_day(doc.issue_date, lang), due_date=_day(doc.due_date, lang),
        outstanding=_money(facts.outstanding, lang), days_overdue=str(facts.days_overdue),
        iban=company.iban, reference=doc.payment_reference or doc.number or "",
        company=company.trade_name or company.name, payment_link=doc.payment_link,
        deadline=_day(facts.deadline, lang), costs=_money(facts.collection_costs, lang),
        interest=_money(facts.interest, lang), compensation=_money(facts.compensation, lang))
    consumer_final = facts.stage == 3 and not facts.is_business
    if custom_text:
        body = custom_text.format_map(values)
        if consumer_final and ("{deadline}" not in custom_text or "{costs}" not in custom_text):
            body += "\n\n" + translate(lang, STATUTORY_CONSUMER).format_map(values)
    else:
        if facts.stage == 1:
            body = translate(lang, BODY_FIRST).format_map(values)
        elif facts.stage == 2:
            body = translate(lang, BODY_SECOND).format_map(values)
        elif consumer_final:
            body = (translate(lang, BODY_FINAL_CONSUMER) + "\n\n" + translate(lang, STATUTORY_CONSUMER)
                    ).format_map(values)
        else:
            body = translate(lang, BODY_FINAL_BUSINESS).format_map(values)
    if doc.payment_link and "{payment_link}" not in (custom_text or ""):
        body += "\n\n" + translate(lang, LINK_LINE).format_map(values)
    body += "\n\n" + translate(lang, CLOSING).format_map(values)
    return Letter(subject=translate(lang, SUBJECTS[facts.stage]).format_map(values), text=body)


def deliver_reminder(engine: Engine, relay: Relay, reminder_id: int, *, now: datetime, today: date,
                     mail_domain: str = "klerk.localhost",
                     attachment: Callable[[Session, Document], Attachment | None] | None = None) -> str:
    """Send an approved reminder: at most once. Returns sent | cancelled | failed | skipped.

    The reminder is marked ``sending`` and committed before the mail leaves; a crash after that
    leaves it ``sending`` (never re-sent by itself: the scheduler tells the owner it is uncertain,
    see ``reminders.flag_uncertain``). A temporary refusal puts it back to
    ``approved`` and raises ``MailDeliveryError`` so the job retries with back-off.
    """
    with session_scope(engine) as session:
        reminder = _claim(session, reminder_id)
        if reminder is None:
            return "skipped"
        doc = get_document(session, reminder.company_id, reminder.document_id)
        contact = get_contact(session, doc.company_id, doc.contact_id)
        company = get_company(session, doc.company_id)
        if doc.status not in OPEN:
            reminder.status, reminder.decided_at = "cancelled", now
            return "cancelled"
        if not contact.email:
            _failed(session, reminder, doc, contact, "the contact has no e-mail address", now)
            return "failed"
        is_business = bool((doc.buyer_snapshot or {}).get("is_business", contact.is_business))
        facts = reminder_facts(stage=reminder.stage, is_business=is_business, open_amount=outstanding(doc),
                               due_date=doc.due_date, today=today, creditor_deducts_vat=not company.kor)
        custom = get_setting(session, company.id,
                             f"reminder_text_{facts.stage}_{normalize_language(doc.language)}", "") or ""
        letter = reminder_letter(facts=facts, doc=doc, company=company, contact=contact, custom_text=custom)
        extra = attachment(session, doc) if attachment is not None else None
        mail = OutgoingMail(
            to=(contact.email,), cc=tuple(e.strip() for e in contact.extra_emails.split(",") if e.strip()),
            subject=letter.subject, text=letter.text,
            sender_name=get_setting(session, company.id, "mail_sender_name") or company.trade_name or company.name,
            reply_to=get_setting(session, company.id, "mail_reply_to") or company.email,
            attachments=(extra,) if extra else ())
        reminder.status, reminder.sending_at = "sending", now
        reminder.outstanding, reminder.collection_costs = facts.outstanding, facts.collection_costs
        reminder.interest, reminder.deadline = facts.interest, facts.deadline
        session.add(reminder)
        company_id, payload = company.id, _sent_payload(doc, contact, reminder, facts)
    try:
        send_message(relay, build_message(mail, relay, domain=mail_domain), company_id=company_id)
    except MailDeliveryError as exc:
        with session_scope(engine) as session:
            reminder = session.get(Reminder, reminder_id)
            doc = get_document(session, reminder.company_id, reminder.document_id)
            if exc.permanent:
                _failed(session, reminder, doc, get_contact(session, doc.company_id, doc.contact_id),
                        str(exc), now)
                return "failed"
            reminder.status, reminder.error = "approved", str(exc)[:500]
            session.add(reminder)
        raise
    with session_scope(engine) as session:
        reminder = session.get(Reminder, reminder_id)
        reminder.status, reminder.sent_at, reminder.error = "sent", now, ""
        session.add(reminder)
        notify(session, company_id, "reminder_sent", payload, dedupe_key=f"reminder_sent:{reminder_id}", now=now)
    return "sent"


def _claim(session: Session, reminder_id: int) -> Reminder | None:
    stmt = select(Reminder).where(Reminder.id == reminder_id)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    reminder = session.exec(stmt.execution_options(populate_existing=True)).first()
    if reminder is None or reminder.status != "approved":
        log.info("reminder %s is not approved (%s): not sent", reminder_id, reminder and reminder.status)
        return None
    return reminder


def _sent_payload(doc: Document, contact: Contact, reminder: Reminder, facts: ReminderFacts) -> dict:
    return {"reminder_id": reminder.id, "invoice_id": doc.id, "number": doc.number or "",
            "contact_id": contact.id, "contact_name": contact.name, "automatic": reminder.automatic,
            **facts.as_payload()}


def _failed(session: Session, reminder: Reminder, doc: Document, contact: Contact, error: str,
            now: datetime) -> None:
    reminder.status, reminder.error, reminder.decided_at = "failed", error[:500], now
    session.add(reminder)
    notify(session, doc.company_id, "reminder_failed", {
        "reminder_id": reminder.id, "invoice_id": doc.id, "number": doc.number or "",
        "contact_id": contact.id, "contact_name": contact.name, "stage": reminder.stage, "error": error[:300],
    }, dedupe_key=f"reminder_failed:{reminder.id}", now=now)
