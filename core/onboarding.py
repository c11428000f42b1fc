"""Setting up a company in a conversation, the Exact Go way: one question at a time, each one
skippable, with the progress kept in the database so the owner continues where she stopped.

The order of the steps, which field each one fills and when a step does not apply live here; the
chat only asks and shows. The company is created at the first step with a name; every later step
validates and stores its answer at once (so nothing typed is lost) and records the next step.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlmodel import Session

from core.companies import company_branding, company_party, create_company, get_company, require_role, update_company
from core.company_files import store_logo
from core.company_settings import get_setting, set_setting
from core.document import DocumentData, DocumentKind, Line, Party, VatTreatment
from core.errors import ValidationError
from core.models import Company, Person, Role
from core.numbering import format_number
from core.rendering import render_pdf, render_preview_png
from core.vat import compute_totals

STEPS = ("language", "name", "trade_name", "street", "postcode", "city", "kvk", "vat_id", "kor",
         "iban", "iban_check", "logo", "color", "accountant_email", "numbering", "payment_term")
DONE = "done"
PROGRESS_KEY = "onboarding_step"

# the Company field each step fills (iban_check and logo have their own services)
FIELD_OF_STEP = {"language": "language", "name": "name", "trade_name": "trade_name", "street": "street",
                 "postcode": "postcode", "city": "city", "kvk": "kvk", "vat_id": "vat_id", "kor": "kor",
                 "iban": "iban", "color": "color", "accountant_email": "accountant_email",
                 "numbering": "pattern_invoice", "payment_term": "payment_term_days"}
STANDARD_TERMS = (14, 30)


@dataclass(frozen=True)
class Progress:
    """Where the set-up stands: the step to ask now (or ``DONE``) and the company as it is."""

    step: str
    company: dict[str, Any]
    missing: tuple[str, ...]       # what invoices still need (field names)
    created: bool = False          # the company was created by this answer
    company_id: int | None = None


def _check_step(step: str) -> None:
    if step not in STEPS:
        raise ValidationError("step", "Unknown field")


def _applies(company: Company, step: str) -> bool:
    if step == "iban_check":        # only an IBAN that is there and not yet checked can be checked
        return bool(company.iban) and company.iban_verified_at is None
    return True


def step_after(company: Company, step: str) -> str:
    _check_step(step)
    for candidate in STEPS[STEPS.index(step) + 1:]:
        if _applies(company, candidate):
            return candidate
    return DONE


def step_before(company: Company, step: str) -> str:
    _check_step(step)
    for candidate in reversed(STEPS[:STEPS.index(step)]):
        if _applies(company, candidate):
            return candidate
    return STEPS[0]


def missing_for_invoices(company: Company) -> tuple[str, ...]:
    """The company details an invoice must (or should) carry that are still empty (DOMAIN.md)."""
    needed = ("street", "postcode", "city", "kvk", "vat_id", "iban")
    return tuple(name for name in needed if not getattr(company, name))


def snapshot(company: Company, *, today: date) -> dict[str, Any]:
    """The company as primitives, for questions ("now: …") and the summary."""
    return {
        "id": company.id, "name": company.name, "trade_name": company.trade_name, "street": company.street,
        "postcode": company.postcode, "city": company.city, "country": company.country, "kvk": company.kvk,
        "vat_id": company.vat_id, "kor": company.kor, "iban": company.iban,
        "iban_verified": company.iban_verified_at is not None, "has_logo": company.logo is not None,
        "color": company.color, "accountant_email": company.accountant_email, "language": company.language,
        "pattern_invoice": company.pattern_invoice,
        "example_number": format_number(company.pattern_invoice, year=today.year, seq=1),
        "payment_term_days": company.payment_term_days,
    }


def _progress(session: Session, company: Company, step: str, *, today: date, created: bool = False) -> Progress:
    set_setting(session, company.id, PROGRESS_KEY, step)
    return Progress(step=step, company=snapshot(company, today=today), missing=missing_for_invoices(company),
                    created=created, company_id=company.id)


def _owned(session: Session, company_id: int, person_id: int) -> Company:
    require_role(session, company_id, person_id, Role.OWNER)
    return get_company(session, company_id)


def start_company(session: Session, person_id: int, name: str, *, language: str, today: date) -> Progress:
    """Create the company with the person as owner. No name (skipped): the person's own name, which is
    the legal name of a one-man business (eenmanszaak)."""
    person = session.get(Person, person_id)
    chosen = (name or "").strip() or (person.name if person and person.name else "") or "Mijn bedrijf"
    company = create_company(session, chosen, owner=person, language=language)
    return _progress(session, company, step_after(company, "name"), today=today, created=True)


def answer_step(session: Session, company_id: int, person_id: int, step: str, value: Any, *,
                today: date) -> Progress:
    """Validate and store the answer to ``step``; the next step is recorded and returned."""
    company = _owned(session, company_id, person_id)
    field = FIELD_OF_STEP.get(step)
    if field is None:
        raise ValidationError(step, "Unknown field")
    if step == "kor":
        value = str(value).lower() in ("1", "true", "yes", "ja")
    update_company(session, company, **{field: value})
    return _progress(session, company, step_after(company, step), today=today)


def answer_logo(session: Session, company_id: int, person_id: int, data: bytes, *, today: date) -> Progress:
    _owned(session, company_id, person_id)
    company = store_logo(session, company_id, person_id, data)
    return _progress(session, company, step_after(company, "logo"), today=today)


def skip_step(session: Session, company_id: int, person_id: int, step: str, *, today: date) -> Progress:
    """Leave ``step`` as it is (its default) and go on."""
    company = _owned(session, company_id, person_id)
    return _progress(session, company, step_after(company, step), today=today)


def go_back(session: Session, company_id: int, person_id: int, step: str, *, today: date) -> Progress:
    company = _owned(session, company_id, person_id)
    return _progress(session, company, step_before(company, step), today=today)


def current_progress(session: Session, company_id: int, person_id: int, *, today: date) -> tuple[Progress, Role]:
    """Where the set-up stands, and the person's role. A company made without this conversation (or
    before it existed) counts as set up."""
    role = Role(require_role(session, company_id, person_id).role)
    company = get_company(session, company_id)
    step = get_setting(session, company_id, PROGRESS_KEY, DONE) or DONE
    if step != DONE and step not in STEPS:
        step = DONE
    return Progress(step=step, company=snapshot(company, today=today), missing=missing_for_invoices(company),
                    company_id=company_id), role


# ---- the example invoice shown as a preview ---------------------------------------------------

_EXAMPLE_BUYER = Party(name="Voorbeeldklant B.V.", street="Dorpsstraat 1", postcode="3512 AB", city="Utrecht",
                       kvk="87654321", vat_id="NL853746333B01", email="administratie@voorbeeldklant.nl")
_EXAMPLE_LINES = {
    "nl": (Line("Advies huisstijl", Decimal(8), Decimal("75.00"), Decimal(21), unit="uur"),
           Line("Logo-ontwerp", Decimal(1), Decimal("450.00"), Decimal(21), unit="stuk")),
    "en": (Line("Brand identity advice", Decimal(8), Decimal("75.00"), Decimal(21), unit="hour"),
           Line("Logo design", Decimal(1), Decimal("450.00"), Decimal(21), unit="piece")),
}


def example_document(session: Session, company_id: int, person_id: int, *, today: date,
                     language: str | None = None) -> DocumentData:
    """An example invoice with the company's details, logo and colour, numbered as its first one."""
    require_role(session, company_id, person_id)
    company = get_company(session, company_id)
    lang = next((lang for lang in (language, company.language) if lang in _EXAMPLE_LINES), "nl")
    vat = Decimal(0) if company.kor else Decimal(21)
    lines = tuple(Line(line.description, line.quantity, line.unit_price, vat, unit=line.unit)
                  for line in _EXAMPLE_LINES[lang])
    return DocumentData(
        kind=DocumentKind.INVOICE, issue_date=today, delivery_date=today, seller=company_party(company),
        buyer=_EXAMPLE_BUYER, lines=lines, language=lang,
        number=format_number(company.pattern_invoice, year=today.year, seq=1),
        due_date=today + timedelta(days=company.payment_term_days),
        vat_treatment=VatTreatment.KOR if company.kor else VatTreatment.STANDARD,
        intro=company.invoice_intro, outro=company.invoice_outro, branding=company_branding(company),
    )


def preview_png(doc: DocumentData, *, width_px: int = 1000) -> bytes:
    """Page 1 of the document as PNG (blocking: WeasyPrint and pdfium; call it off the event loop)."""
    return render_preview_png(render_pdf(doc, compute_totals(doc)), width_px=width_px)


__all__ = ["DONE", "STEPS", "Progress", "answer_logo", "answer_step", "current_progress", "example_document",
           "go_back", "missing_for_invoices", "preview_png", "skip_step", "start_company",
           "step_after", "step_before"]
