"""Contacts and standard items entered step by step in a chat: which questions, in which order,
which ones apply, and who may do it. The contact (or item) is created at its first answer, so every
later answer is validated and stored at once by ``core.contacts``.

Owner and staff create and change contacts and items; the accountant only looks them up.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from core.companies import get_company, require_role
from core.contacts import (
    create_contact,
    create_item,
    find_contacts,
    find_items,
    get_contact,
    get_item,
    update_contact,
    update_item,
)
from core.errors import ValidationError
from core.models import Contact, ContactKind, Item, Role

EDITORS = (Role.OWNER, Role.STAFF)
DONE = "done"

CONTACT_STEPS = ("name", "is_business", "street", "postcode", "city", "country", "email", "kvk", "vat_id",
                 "payment_term_days", "vat_treatment", "send_format", "language")
CONTACT_EDITABLE = ("name", "kind", "is_business", "contact_person", "street", "postcode", "city", "country",
                    "email", "extra_emails", "phone", "kvk", "vat_id", "iban", "payment_term_days",
                    "vat_treatment", "send_format", "language", "categories", "notes")
_BUSINESS_ONLY = {"kvk", "vat_id", "send_format"}      # a consumer has no KvK, btw-id or e-invoice inbox
_FLAGS = {"is_business", "archived"}

ITEM_STEPS = ("name", "unit_price", "vat_rate", "unit", "description")
ITEM_EDITABLE = ITEM_STEPS


def _flag(value: Any) -> bool:
    return value is True or str(value).strip().lower() in ("1", "true", "yes", "ja", "y", "j")


@dataclass(frozen=True)
class NextQuestion:
    """After an answer: the contact or item (id and name) and the question to ask now (or ``DONE``)."""

    id: int
    step: str
    name: str


def require_editor(session: Session, company_id: int, person_id: int) -> None:
    """Raises ``AccessDeniedError`` unless the person may create and change contacts and items."""
    require_role(session, company_id, person_id, *EDITORS)


# ---- contacts -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ContactCard:
    id: int
    values: dict[str, Any]
    company_term_days: int       # the company's payment term, used when the contact has none
    archived: bool


def _card(session: Session, contact: Contact) -> ContactCard:
    values = {name: getattr(contact, name) for name in CONTACT_EDITABLE}
    values["kind"] = ContactKind(contact.kind).value
    values["send_format"] = getattr(contact.send_format, "value", contact.send_format)
    company = get_company(session, contact.company_id)
    return ContactCard(contact.id, values, company.payment_term_days, contact.archived)


def _contact_step_after(contact: Contact, step: str) -> str:
    for candidate in CONTACT_STEPS[CONTACT_STEPS.index(step) + 1:]:
        if candidate in _BUSINESS_ONLY and not contact.is_business:
            continue
        return candidate
    return DONE


def _contact_value(field: str, value: Any) -> Any:
    return _flag(value) if field in _FLAGS else value


def start_contact(session: Session, company_id: int, person_id: int, name: str,
                  kind: ContactKind | str = ContactKind.CUSTOMER) -> NextQuestion:
    """Create a contact with its name; returns it with the next question."""
    require_editor(session, company_id, person_id)
    contact = create_contact(session, company_id, name, kind=kind)
    return NextQuestion(contact.id, _contact_step_after(contact, "name"), contact.name)


def answer_contact(session: Session, company_id: int, person_id: int, contact_id: int, step: str,
                   value: Any) -> NextQuestion:
    """Store the answer to one question of a new contact; returns the next question (or ``DONE``)."""
    require_editor(session, company_id, person_id)
    if step not in CONTACT_STEPS:
        raise ValidationError(step, "Unknown field")
    contact = get_contact(session, company_id, contact_id)
    update_contact(session, contact, **{step: _contact_value(step, value)})
    return NextQuestion(contact.id, _contact_step_after(contact, step), contact.name)


def skip_contact_step(session: Session, company_id: int, person_id: int, contact_id: int,
                      step: str) -> NextQuestion:
    require_editor(session, company_id, person_id)
    if step not in CONTACT_STEPS:
        raise ValidationError(step, "Unknown field")
    contact = get_contact(session, company_id, contact_id)
    return NextQuestion(contact.id, _contact_step_after(contact, step), contact.name)


def edit_contact(session: Session, company_id: int, person_id: int, contact_id: int, field: str,
                 value: Any) -> ContactCard:
    require_editor(session, company_id, person_id)
    if field not in CONTACT_EDITABLE:
        raise ValidationError(field, "Unknown field")
    contact = get_contact(session, company_id, contact_id)
    update_contact(session, contact, **{field: _contact_value(field, value)})
    return _card(session, contact)


def archive_contact(session: Session, company_id: int, person_id: int, contact_id: int) -> str:
    require_editor(session, company_id, person_id)
    contact = get_contact(session, company_id, contact_id)
    update_contact(session, contact, archived=True)
    return contact.name


def contact_card(session: Session, company_id: int, person_id: int, contact_id: int) -> ContactCard:
    require_role(session, company_id, person_id)
    return _card(session, get_contact(session, company_id, contact_id))


def search_contacts(session: Session, company_id: int, person_id: int, query: str = "",
                    limit: int = 8) -> list[tuple[int, str, str]]:
    """(id, name, city) of the contacts whose name contains ``query``; every member may search."""
    require_role(session, company_id, person_id)
    return [(c.id, c.name, c.city) for c in find_contacts(session, company_id, query, limit=limit)]


# ---- standard items ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class ItemCard:
    id: int
    values: dict[str, Any]


def _item_card(item: Item) -> ItemCard:
    return ItemCard(item.id, {name: getattr(item, name) for name in ITEM_EDITABLE})


def _item_step_after(step: str) -> str:
    index = ITEM_STEPS.index(step) + 1
    return ITEM_STEPS[index] if index < len(ITEM_STEPS) else DONE


def start_item(session: Session, company_id: int, person_id: int, name: str) -> NextQuestion:
    require_editor(session, company_id, person_id)
    item = create_item(session, company_id, name)
    return NextQuestion(item.id, _item_step_after("name"), item.name)


def answer_item(session: Session, company_id: int, person_id: int, item_id: int, step: str,
                value: Any) -> NextQuestion:
    require_editor(session, company_id, person_id)
    if step not in ITEM_STEPS:
        raise ValidationError(step, "Unknown field")
    item = get_item(session, company_id, item_id)
    update_item(session, item, **{step: value})
    return NextQuestion(item.id, _item_step_after(step), item.name)


def skip_item_step(session: Session, company_id: int, person_id: int, item_id: int, step: str) -> NextQuestion:
    require_editor(session, company_id, person_id)
    if step not in ITEM_STEPS:
        raise ValidationError(step, "Unknown field")
    item = get_item(session, company_id, item_id)
    return NextQuestion(item.id, _item_step_after(step), item.name)


def edit_item(session: Session, company_id: int, person_id: int, item_id: int, field: str, value: Any) -> ItemCard:
    require_editor(session, company_id, person_id)
    if field not in ITEM_EDITABLE:
        raise ValidationError(field, "Unknown field")
    item = get_item(session, company_id, item_id)
    update_item(session, item, **{field: value})
    return _item_card(item)


def archive_item(session: Session, company_id: int, person_id: int, item_id: int) -> str:
    require_editor(session, company_id, person_id)
    item = get_item(session, company_id, item_id)
    update_item(session, item, archived=True)
    return item.name


def item_card(session: Session, company_id: int, person_id: int, item_id: int) -> ItemCard:
    require_role(session, company_id, person_id)
    return _item_card(get_item(session, company_id, item_id))


def search_items(session: Session, company_id: int, person_id: int, query: str = "",
                 limit: int = 8) -> list[tuple[int, str]]:
    require_role(session, company_id, person_id)
    return [(i.id, i.name) for i in find_items(session, company_id, query, limit=limit)]
