"""Names of the fields people see in the set-up, settings, contacts and items chats (English msgids,
translated by ``turn.t``), and how a stored value is shown. Wording only: no rules.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from bot.texts import money


def N_(msgid: str) -> str:
    """Marks a msgid for the catalogue; translated later with ``turn.t``."""
    return msgid


COMPANY = {
    "language": N_("Language"), "name": N_("Legal name"), "trade_name": N_("Trade name"),
    "street": N_("Street and number"), "postcode": N_("Postcode"), "city": N_("City"), "country": N_("Country"),
    "kvk": N_("KvK number"), "vat_id": N_("VAT id (btw-id)"), "kor": N_("Small business scheme (KOR)"),
    "iban": N_("IBAN"), "bic": N_("BIC"), "iban_check": N_("IBAN check (€ 0.01)"), "email": N_("E-mail address"),
    "phone": N_("Phone"), "website": N_("Website"), "logo": N_("Logo"), "color": N_("House colour"),
    "accountant_email": N_("Accountant's e-mail address"), "numbering": N_("Invoice numbers"),
    "pattern_invoice": N_("Invoice numbers"), "pattern_quote": N_("Quote numbers"),
    "pattern_credit_note": N_("Credit note numbers"), "payment_term": N_("Payment term"),
    "payment_term_days": N_("Payment term (days)"), "quote_valid_days": N_("Quotes valid for (days)"),
    "invoice_intro": N_("Invoice: opening text"), "invoice_outro": N_("Invoice: closing text"),
    "quote_intro": N_("Quote: opening text"), "quote_outro": N_("Quote: closing text"),
    "mail_sender_name": N_("Sender name"), "mail_reply_to": N_("Reply-to address"),
    "mail_subject_nl": N_("Mail subject (Dutch)"), "mail_subject_en": N_("Mail subject (English)"),
    "mail_body_nl": N_("Mail text (Dutch)"), "mail_body_en": N_("Mail text (English)"),
    "reminder_days": N_("Reminder days after the due date"),
    "reminder_text_1_nl": N_("Reminder 1 (Dutch)"), "reminder_text_1_en": N_("Reminder 1 (English)"),
    "reminder_text_2_nl": N_("Reminder 2 (Dutch)"), "reminder_text_2_en": N_("Reminder 2 (English)"),
    "reminder_text_3_nl": N_("Reminder 3 (Dutch)"), "reminder_text_3_en": N_("Reminder 3 (English)"),
    "payment_mail": N_("Mail me every payment"),
    "receipt_sharing": N_("Receipts to your accountant"), "receipt_replies": N_("Reply to whoever forwards a receipt"),
}

CONTACT = {
    "name": N_("Name"), "kind": N_("Customer or supplier"), "is_business": N_("Business or consumer"),
    "contact_person": N_("Contact person"), "street": N_("Street and number"), "postcode": N_("Postcode"),
    "city": N_("City"), "country": N_("Country"), "email": N_("E-mail address"),
    "extra_emails": N_("Extra e-mail addresses (CC)"), "phone": N_("Phone"), "kvk": N_("KvK number"),
    "vat_id": N_("VAT id (btw-id)"), "iban": N_("IBAN"), "payment_term_days": N_("Payment term"),
    "vat_treatment": N_("VAT treatment"), "send_format": N_("Send invoices as"), "language": N_("Language"),
    "categories": N_("Categories"), "notes": N_("Notes"),
}

ITEM = {"name": N_("Name"), "unit_price": N_("Price excl. VAT"), "vat_rate": N_("VAT rate"),
        "unit": N_("Unit"), "description": N_("Description")}

CHOICES = {
    "kind": {"customer": N_("customer"), "supplier": N_("supplier"), "both": N_("customer and supplier")},
    "is_business": {"1": N_("business"), "0": N_("consumer")},
    "vat_treatment": {"standard": N_("Dutch VAT (21/9/0 %)"), "reverse_charge": N_("EU business, VAT reverse-charged"),
                      "intra_eu_goods": N_("EU business, goods at 0 %"), "export": N_("outside the EU (export)"),
                      "exempt": N_("exempt from VAT")},
    "send_format": {"pdf": N_("PDF"), "ubl": N_("e-invoice (UBL)"), "both": N_("PDF and e-invoice")},
    "language": {"nl": N_("Dutch"), "en": N_("English")},
}

LANGUAGES = {"nl": "Nederlands", "en": "English"}

# Settings chosen with buttons: the stored value -> how it is said.
SETTING_CHOICES = {
    "receipt_sharing": {"confirmed": N_("the ones I confirmed ✅"), "all": N_("all, as they arrive"),
                        "off": N_("none")},
    "receipt_replies": {"on": N_("yes"), "off": N_("no")},
    "payment_mail": {"on": N_("yes"), "off": N_("no")},
}


def shown(value: Any, language: str, t) -> str:  # type: ignore[no-untyped-def]
    """A stored value as text for a person: empty as '—', yes/no translated, amounts as money."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return t("yes") if value else t("no")
    if isinstance(value, Decimal):
        return money(value, language)
    text = str(value)
    return text if len(text) <= 300 else text[:300] + "…"


def choice_label(field: str, value: Any, t) -> str:  # type: ignore[no-untyped-def]
    key = ("1" if value else "0") if isinstance(value, bool) else str(getattr(value, "value", value))
    label = CHOICES.get(field, {}).get(key)
    return t(label) if label else key
