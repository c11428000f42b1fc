"""Companies, the people in them and their roles. Every other service is scoped by company_id."""
from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from core.document import Branding, Party
from core.errors import AccessDeniedError, NotFoundError, ValidationError
from core.identifiers import (bic_for_iban, clean_color, clean_email, clean_iban, clean_kvk,
                              clean_postcode, clean_vat_id)
from core.fields import apply_fields, country, days, flag, language, optional, text
from core.models import Company, Membership, Person, Role
from core.numbering import validate_pattern


COMPANY_FIELDS: dict[str, Any] = {
    "name": text(200), "trade_name": text(200), "street": text(200), "postcode": text(20),
    "city": text(100), "country": country, "kvk": optional(clean_kvk),
    "vat_id": optional(clean_vat_id), "iban": optional(clean_iban), "bic": text(11),
    "email": optional(clean_email), "phone": text(40), "website": text(200),
    "kor": flag, "color": clean_color, "payment_term_days": days, "quote_valid_days": days,
    "pattern_invoice": validate_pattern, "pattern_quote": validate_pattern,
    "pattern_credit_note": validate_pattern,
    "invoice_intro": text(2000), "invoice_outro": text(2000),
    "quote_intro": text(2000), "quote_outro": text(2000),
    "language": language, "accountant_email": optional(clean_email),
}


def create_company(session: Session, name: str, *, owner: Person | None = None, **fields: Any) -> Company:
    company = Company(name=text(200)(name, field="name"))
    if not company.name:
        raise ValidationError("name", "The name is required")
    session.add(company)
    update_company(session, company, **fields)
    if owner is not None:
        session.add(Membership(company_id=company.id, person_id=owner.id, role=Role.OWNER))
        session.flush()
    return company


def update_company(session: Session, company: Company, **fields: Any) -> Company:
    """Validate and set company fields; nothing is changed if one value is wrong."""
    cleaned = apply_fields(COMPANY_FIELDS, fields)
    if cleaned.get("postcode"):
        cleaned["postcode"] = clean_postcode(cleaned["postcode"], cleaned.get("country", company.country))
    if cleaned.get("iban") and "bic" not in cleaned:
        cleaned["bic"] = bic_for_iban(cleaned["iban"])
    if "iban" in cleaned and cleaned["iban"] != company.iban:
        company.iban_verified_at = None
    for name, value in cleaned.items():
        setattr(company, name, value)
    session.add(company)
    session.flush()
    return company


def set_logo(session: Session, company: Company, data: bytes, mime: str) -> None:
    if mime not in ("image/png", "image/jpeg", "image/svg+xml"):
        raise ValidationError("logo", "The logo must be a PNG, JPEG or SVG image")
    if len(data) > 2 * 1024 * 1024:
        raise ValidationError("logo", "The logo is larger than 2 MB")
    company.logo, company.logo_mime = data, mime
    session.add(company)


def get_company(session: Session, company_id: int) -> Company:
    company = session.get(Company, company_id)
    if company is None:
        raise NotFoundError(f"company {company_id}")
    return company


def company_party(company: Company) -> Party:
    return Party(
        name=company.name, trade_name=company.trade_name, street=company.street,
        postcode=company.postcode, city=company.city, country=company.country, kvk=company.kvk,
        vat_id=company.vat_id, iban=company.iban, bic=company.bic, email=company.email,
        phone=company.phone, website=company.website, is_business=True, kor=company.kor,
    )


def company_branding(company: Company) -> Branding:
    return Branding(color=company.color, logo=company.logo, logo_mime=company.logo_mime)


# ---- people and roles ---------------------------------------------------------------------

def get_or_create_person(session: Session, *, telegram_user_id: int | None = None, name: str = "",
                         lang: str = "nl") -> Person:
    if telegram_user_id is not None:
        person = session.exec(select(Person).where(Person.telegram_user_id == telegram_user_id)).first()
        if person is not None:
            return person
    person = Person(telegram_user_id=telegram_user_id, name=name[:200], language=language(lang, field="language"))
    session.add(person)
    session.flush()
    return person


def add_member(session: Session, company_id: int, person_id: int, role: Role) -> Membership:
    existing = session.exec(select(Membership).where(
        Membership.company_id == company_id, Membership.person_id == person_id)).first()
    if existing is not None:
        existing.role = role
        session.add(existing)
        return existing
    membership = Membership(company_id=company_id, person_id=person_id, role=role)
    session.add(membership)
    session.flush()
    return membership


def list_companies(session: Session) -> list[Company]:
    """Every company of the installation, oldest first (for whoever hosts Klerk)."""
    return list(session.exec(select(Company).order_by(Company.id)))


def company_members(session: Session, company_id: int) -> list[tuple[Person, Role]]:
    """The people in a company with their roles, in the order they joined (for whoever hosts Klerk;
    members see theirs through ``core.team.team_members``)."""
    rows = session.exec(select(Person, Membership.role).join(Membership, Membership.person_id == Person.id)
                        .where(Membership.company_id == company_id).order_by(Membership.id))
    return [(person, Role(role)) for person, role in rows]


def memberships_of(session: Session, person_id: int) -> list[Membership]:
    return list(session.exec(select(Membership).where(Membership.person_id == person_id)
                             .order_by(Membership.id)))


def require_role(session: Session, company_id: int, person_id: int, *roles: Role) -> Membership:
    """The person's membership in the company, if it has one of ``roles`` (any role when empty)."""
    membership = session.exec(select(Membership).where(
        Membership.company_id == company_id, Membership.person_id == person_id)).first()
    if membership is None or (roles and membership.role not in roles):
        raise AccessDeniedError(f"person {person_id} in company {company_id}")
    return membership
