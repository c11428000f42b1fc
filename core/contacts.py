"""Contacts (customers and suppliers) and standard items of a company."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from core.document import Party, VatTreatment
from core.errors import ValidationError
from core.fields import (
    amount,
    apply_fields,
    choice,
    country,
    days,
    flag,
    language,
    optional,
    percent,
    text,
)
from core.identifiers import (
    clean_email,
    clean_iban,
    clean_kvk,
    clean_postcode,
    clean_vat_id,
)
from core.models import Contact, ContactKind, Item, SendFormat
from core.storage import get_scoped, save_fields


def _emails(value: str, *, field: str) -> str:
    parts = [p.strip() for p in (value or "").replace(";", ",").split(",") if p.strip()]
    return ", ".join(clean_email(p, field=field) for p in parts)


def _treatment(value: object, *, field: str) -> str:
    return choice(VatTreatment)(value, field=field).value


def _term(value: object, *, field: str) -> int | None:
    return None if value in (None, "") else days(value, field=field)


CONTACT_FIELDS: dict[str, Any] = {
    "name": text(200), "contact_person": text(200), "street": text(200), "postcode": text(20),
    "city": text(100), "country": country, "email": optional(clean_email), "extra_emails": _emails,
    "phone": text(40), "kvk": optional(clean_kvk), "vat_id": optional(clean_vat_id),
    "iban": optional(clean_iban), "payment_term_days": _term, "vat_treatment": _treatment,
    "send_format": choice(SendFormat), "language": language, "kind": choice(ContactKind),
    "is_business": flag, "categories": text(500), "notes": text(5000), "archived": flag,
}


def create_contact(session: Session, company_id: int, name: str, **fields: Any) -> Contact:
    contact = Contact(company_id=company_id, name="")
    update_contact(session, contact, name=name, **fields)
    return contact


def update_contact(session: Session, contact: Contact, **fields: Any) -> Contact:
    cleaned = apply_fields(CONTACT_FIELDS, fields)
    if "name" in cleaned and not cleaned["name"]:
        raise ValidationError("name", "The name is required")
    country = cleaned.get("country", contact.country)
    if cleaned.get("postcode"):
        cleaned["postcode"] = clean_postcode(cleaned["postcode"], country)
    save_fields(session, contact, cleaned)
    return contact


def get_contact(session: Session, company_id: int, contact_id: int) -> Contact:
    return get_scoped(session, Contact, company_id, contact_id, "contact")


def find_contacts(session: Session, company_id: int, query: str = "", *, limit: int = 8,
                  kinds: tuple[ContactKind, ...] = ()) -> list[Contact]:
    """Contacts whose name (or contact person) contains ``query``, best matches first."""
    needle = (query or "").strip().lower()
    stmt = select(Contact).where(Contact.company_id == company_id, Contact.archived == sa.false())
    if kinds:
        stmt = stmt.where(Contact.kind.in_([k.value for k in kinds] + [ContactKind.BOTH.value]))
    if needle:
        pattern = f"%{needle.replace('%', '').replace('_', '')}%"
        stmt = stmt.where(sa.or_(sa.func.lower(Contact.name).like(pattern),
                                 sa.func.lower(Contact.contact_person).like(pattern)))
    found = list(session.exec(stmt.order_by(Contact.name).limit(200)))
    found.sort(key=lambda c: (not c.name.lower().startswith(needle), c.name.lower()))
    return found[:limit]


def contact_party(contact: Contact) -> Party:
    return Party(
        name=contact.name, street=contact.street, postcode=contact.postcode, city=contact.city,
        country=contact.country, kvk=contact.kvk, vat_id=contact.vat_id, iban=contact.iban,
        email=contact.email, phone=contact.phone, is_business=contact.is_business,
    )


# ---- standard items -----------------------------------------------------------------------

ITEM_FIELDS: dict[str, Any] = {
    "name": text(200), "description": text(2000), "unit": text(20), "unit_price": amount,
    "vat_rate": percent, "archived": flag,
}


def create_item(session: Session, company_id: int, name: str, **fields: Any) -> Item:
    item = Item(company_id=company_id, name="")
    update_item(session, item, name=name, **fields)
    return item


def update_item(session: Session, item: Item, **fields: Any) -> Item:
    cleaned = apply_fields(ITEM_FIELDS, fields)
    if "name" in cleaned and not cleaned["name"]:
        raise ValidationError("name", "The name is required")
    save_fields(session, item, cleaned)
    return item


def get_item(session: Session, company_id: int, item_id: int) -> Item:
    return get_scoped(session, Item, company_id, item_id, "item")


def find_items(session: Session, company_id: int, query: str = "", *, limit: int = 8) -> list[Item]:
    needle = (query or "").strip().lower()
    stmt = select(Item).where(Item.company_id == company_id, Item.archived == sa.false())
    if needle:
        stmt = stmt.where(sa.func.lower(Item.name).like(f"%{needle.replace('%', '').replace('_', '')}%"))
    found = list(session.exec(stmt.order_by(Item.name).limit(200)))
    found.sort(key=lambda i: (not i.name.lower().startswith(needle), i.name.lower()))
    return found[:limit]
