"""Payment links on invoices, and the EUR 0,01 payment that proves the company's IBAN.

``create_payment_link`` is called while an invoice is sent. It fails softly: when the provider is
down the invoice still goes out (with the IBAN and the EPC QR code), a ``payment_link`` job retries
with back-off, and the owner gets one ``payment_link_failed`` notification. Mollie receives an
idempotency key per invoice and link, so a retry after a lost answer does not make a second link.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from core.companies import get_company
from core.document import DocumentKind
from core.documents import get_document
from core.errors import ConflictError, NotFoundError, ValidationError
from core.identifiers import clean_iban
from core.invoices import outstanding
from core.jobs import enqueue
from core.models import Company, Document, DocumentStatus
from core.money import ZERO
from core.outbox import notify
from core.payments.accounts import get_payment_account, has_payment_account, mask_iban
from core.payments.models import PaymentAccount, PaymentRequest
from core.payments.providers import (CheckoutRequest, CreatedLink, LinkRequest, PaymentProvider,
                                     ProviderPayment, ProviderRejectedError, ProviderUnavailableError)
from core.storage import session_scope

log = logging.getLogger(__name__)
S = DocumentStatus
LINK_JOB = "payment_link"
CHECK_AMOUNT = Decimal("0.01")


@dataclass(frozen=True)
class LinkOutcome:
    """created | exists | retrying (provider down, a job retries) | failed (refused) | not_configured
    (no provider for this company) | not_needed (nothing left to pay)."""

    status: str
    url: str = ""


def create_payment_link(session: Session, provider: PaymentProvider, company_id: int, invoice_id: int, *,
                        now: datetime) -> LinkOutcome:
    """Give a sent invoice a payment link (stored on ``Document.payment_link``); never raises for
    the provider's sake — see ``LinkOutcome``."""
    doc = _invoice(session, company_id, invoice_id)
    if doc.payment_link:
        return LinkOutcome("exists", doc.payment_link)
    if not _payable(doc):
        return LinkOutcome("not_needed")
    if not has_payment_account(session, company_id, provider=provider.name):
        return LinkOutcome("not_configured")
    try:
        return LinkOutcome("created", make_link(session, provider, doc, now=now))
    except ProviderUnavailableError as exc:
        log.warning("payment link for invoice %s: %s; retrying in the background", doc.id, exc)
        enqueue(session, LINK_JOB, {"company_id": company_id, "invoice_id": doc.id}, company_id=company_id,
                dedupe_key=f"{LINK_JOB}:{doc.id}", run_after=now + timedelta(minutes=1), max_attempts=8)
        notify(session, company_id, "payment_link_failed", _failed_payload(doc, str(exc), retrying=True),
               dedupe_key=f"payment_link_failed:{doc.id}", now=now)
        return LinkOutcome("retrying")
    except ProviderRejectedError as exc:
        log.warning("payment link for invoice %s refused: %s", doc.id, exc)
        notify(session, company_id, "payment_link_failed", _failed_payload(doc, str(exc), retrying=False),
               dedupe_key=f"payment_link_refused:{doc.id}", now=now)
        return LinkOutcome("failed")


def request_payment_link(session: Session, company_id: int, invoice_id: int, *, now: datetime) -> None:
    """Queue the link instead of waiting for the provider (the worker runs ``make_link``)."""
    doc = _invoice(session, company_id, invoice_id)
    enqueue(session, LINK_JOB, {"company_id": company_id, "invoice_id": doc.id}, company_id=company_id,
            dedupe_key=f"{LINK_JOB}:{doc.id}", run_after=now, max_attempts=8)


def make_link(session: Session, provider: PaymentProvider, doc: Document, *, now: datetime) -> str:
    """Ask the provider for a link for what is open on ``doc``; raises the provider's errors.
    Returns the link ("" when nothing is open)."""
    if doc.payment_link or not _payable(doc):
        return doc.payment_link
    account, request = link_request(session, provider, doc)
    link = provider.create_payment_link(account, request)
    return store_link(session, provider, doc, link, request, now=now)


def link_request(session: Session, provider: PaymentProvider, doc: Document) -> tuple[PaymentAccount, LinkRequest]:
    account = get_payment_account(session, doc.company_id, provider=provider.name)
    company = get_company(session, doc.company_id)
    amount = outstanding(doc)
    label = "Factuur" if doc.language == "nl" else "Invoice"
    # one key per link this invoice gets: a retry after a lost answer gets the same link back,
    # a later link (a new amount after a partial payment or a chargeback) a new one
    earlier = len(session.exec(select(PaymentRequest.id).where(
        PaymentRequest.company_id == doc.company_id, PaymentRequest.document_id == doc.id)).all())
    return account, LinkRequest(
        amount=amount, description=f"{label} {doc.number} {company.trade_name or company.name}"[:255],
        currency=doc.currency, idempotency_key=f"klerk-link-{doc.company_id}-{doc.id}-{earlier + 1}",
        webhook_url=provider.webhook_url(account), redirect_url=getattr(provider, "redirect_url", ""))


def store_link(session: Session, provider: PaymentProvider, doc: Document, link: CreatedLink,
               request: LinkRequest, *, now: datetime) -> str:
    session.add(PaymentRequest(company_id=doc.company_id, document_id=doc.id, provider=provider.name,
                               purpose="invoice", provider_ref=link.id, url=link.url,
                               description=request.description, amount=request.amount,
                               created_at=now, updated_at=now))
    doc.payment_link, doc.updated_at = link.url, now
    session.add(doc)
    session.flush()
    return link.url


def _payable(doc: Document) -> bool:
    return outstanding(doc) > ZERO and doc.status in (S.SENT, S.PARTIALLY_PAID)


def run_link_job(engine: Engine, provider: PaymentProvider, company_id: int, invoice_id: int, *,
                 now: datetime) -> str:
    """The ``payment_link`` job: read, ask the provider outside any transaction, store."""
    with session_scope(engine) as session:
        doc = get_document(session, company_id, invoice_id)
        if doc.payment_link or not _payable(doc):
            return "not_needed"
        if not has_payment_account(session, company_id, provider=provider.name):
            return "not_configured"
        account, request = link_request(session, provider, doc)
    link = provider.create_payment_link(account, request)         # raises -> the job retries
    with session_scope(engine) as session:
        doc = get_document(session, company_id, invoice_id, lock=True)
        if doc.payment_link or not _payable(doc) or outstanding(doc) != request.amount:
            return "not_needed"          # changed meanwhile; a newer job (if any) makes the right one
        store_link(session, provider, doc, link, request, now=now)
    return "created"


def supersede_link(session: Session, doc: Document, *, now: datetime) -> None:
    """After money came in or went back. Paid in full: the link is done. Otherwise a link for the
    old amount must not be shown again: drop it and queue a new one for what is open now."""
    if not doc.payment_link:
        return
    settled = outstanding(doc) <= ZERO or doc.status not in (S.SENT, S.PARTIALLY_PAID)
    for request in session.exec(select(PaymentRequest).where(
            PaymentRequest.company_id == doc.company_id, PaymentRequest.document_id == doc.id,
            PaymentRequest.status == "open")):
        request.status, request.updated_at = ("paid" if settled else "superseded"), now
        session.add(request)
    if not settled:
        doc.payment_link = ""
        session.add(doc)
        request_payment_link(session, doc.company_id, doc.id, now=now)
    session.flush()


def link_failed_for_good(session: Session, company_id: int, invoice_id: int, error: str) -> None:
    """The retry job gave up: say so once more, without "retrying"."""
    doc = _invoice(session, company_id, invoice_id)
    notify(session, company_id, "payment_link_failed", _failed_payload(doc, error, retrying=False),
           dedupe_key=f"payment_link_gave_up:{doc.id}")


def _invoice(session: Session, company_id: int, invoice_id: int) -> Document:
    doc = get_document(session, company_id, invoice_id)
    if doc.kind != DocumentKind.INVOICE.value:
        raise ConflictError("only invoices get a payment link")
    if doc.status == S.DRAFT:
        raise ConflictError(f"invoice {invoice_id} is a draft: finalise it first")
    return doc


def _failed_payload(doc: Document, error: str, *, retrying: bool) -> dict:
    return {"invoice_id": doc.id, "number": doc.number or "", "retrying": retrying, "error": error[:300]}


# ---- the IBAN check ------------------------------------------------------------------------

@dataclass(frozen=True)
class IbanCheck:
    payment_id: str
    checkout_url: str


def start_iban_check(session: Session, provider: PaymentProvider, company_id: int, *, now: datetime,
                     redirect_url: str = "") -> IbanCheck:
    """Create the EUR 0,01 payment the owner pays from the business account (onboarding)."""
    company = get_company(session, company_id)
    if not company.iban:
        raise ValidationError("iban", "Enter the company IBAN first")
    account = get_payment_account(session, company_id, provider=provider.name)
    created = provider.create_payment(account, CheckoutRequest(
        amount=CHECK_AMOUNT, description=f"IBAN check {company.trade_name or company.name}"[:255],
        idempotency_key=f"klerk-ibancheck-{company_id}-{now:%Y%m%d%H%M%S}",
        webhook_url=provider.webhook_url(account), redirect_url=redirect_url))
    session.add(PaymentRequest(company_id=company_id, provider=provider.name, purpose="iban_check",
                               provider_ref=created.id, url=created.checkout_url, amount=CHECK_AMOUNT,
                               description="IBAN check", created_at=now, updated_at=now))
    session.flush()
    return IbanCheck(created.id, created.checkout_url)


def finish_iban_check(session: Session, company_id: int, payment: ProviderPayment, *, now: datetime) -> str:
    """Compare the paying account with the company IBAN. Returns verified | mismatch | not_paid | done."""
    request = session.exec(select(PaymentRequest).where(
        PaymentRequest.company_id == company_id, PaymentRequest.provider_ref == payment.id,
        PaymentRequest.purpose == "iban_check")).first()
    if request is None:
        raise NotFoundError(f"IBAN check {payment.id}")
    if request.status == "done":
        return "done"
    if not payment.is_paid:
        return "not_paid"
    company: Company = get_company(session, company_id)
    paying = _compact(payment.consumer_account)
    request.status, request.updated_at = "done", now
    session.add(request)
    facts = {"company_iban": mask_iban(company.iban), "paying_account": mask_iban(paying),
             "paying_name": payment.consumer_name}
    if paying and paying == _compact(company.iban):
        company.iban_verified_at = now
        session.add(company)
        notify(session, company_id, "iban_verified", facts, dedupe_key=f"iban_verified:{request.id}", now=now)
        result = "verified"
    else:
        notify(session, company_id, "iban_mismatch", facts, dedupe_key=f"iban_mismatch:{request.id}", now=now)
        result = "mismatch"
    session.flush()
    return result


def _compact(iban: str) -> str:
    try:
        return clean_iban(iban) if iban else ""
    except ValidationError:
        return iban.replace(" ", "").upper()
