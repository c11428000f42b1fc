"""Provider webhooks: record fast, fetch back and book in a job.

A Mollie webhook carries only ``id=tr_…`` — no status, no signature — so it proves nothing. The
HTTP edge calls ``receive_mollie_webhook``: it finds the company by the token in the webhook URL,
queues a ``mollie_webhook`` job and returns (one INSERT). While a job for the same payment is still
queued a second webhook adds nothing (its dedupe key is cleared when a worker claims the job, so a
webhook arriving during or after a fetch queues a fresh fetch: the later status is never lost).

The job (``process_mollie_webhook``) fetches the payment back with *that company's* key: a payment
of another company, or an unknown id, is a 404 there, is logged and changes nothing. HTTP calls
happen outside database transactions; the booking is one short transaction.
"""
from __future__ import annotations

import logging
import re
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from core.errors import NotFoundError, ValidationError
from core.jobs import enqueue
from core.models import Job
from core.payments.accounts import find_account_by_token, get_payment_account
from core.payments.booking import Received, apply_payment
from core.payments.links import finish_iban_check
from core.payments.models import Payment, PaymentAccount, PaymentRequest
from core.payments.providers import PaymentProvider, ProviderPayment, UnknownPaymentError
from core.storage import session_scope

log = logging.getLogger(__name__)
WEBHOOK_JOB = "mollie_webhook"
MOLLIE_ID = re.compile(r"^(tr|pl)_[A-Za-z0-9]{2,64}$")
LOCAL = ZoneInfo("Europe/Amsterdam")
FALLBACK_LINKS = 20          # open links checked when no description matches


def receive_mollie_webhook(session: Session, *, token: str, payment_id: str, now: datetime) -> Job | None:
    """Record a webhook; returns the queued job, or None (unknown token, or a fetch already queued)."""
    if not MOLLIE_ID.match(payment_id or ""):
        raise ValidationError("id", "Not a Mollie payment id")
    account = find_account_by_token(session, token)
    if account is None:
        log.warning("Mollie webhook with an unknown token: ignored")
        return None
    return enqueue(session, WEBHOOK_JOB, {"company_id": account.company_id, "payment_id": payment_id},
                   company_id=account.company_id, dedupe_key=f"{WEBHOOK_JOB}:{account.id}:{payment_id}",
                   run_after=now)


def process_mollie_webhook(engine: Engine, provider: PaymentProvider, *, company_id: int, payment_id: str,
                           now: datetime) -> str:
    """Fetch the payment back and act on it. Returns what happened (for logs and tests):
    booked | replay | not_paid | unknown | unmatched | unapplied | verified | mismatch | done | no_account."""
    with session_scope(engine) as session:
        try:
            account = get_payment_account(session, company_id, provider=provider.name)
        except NotFoundError:
            log.warning("webhook for company %s, which has no active %s account: ignored", company_id,
                        provider.name)
            return "no_account"
    if payment_id.startswith("pl_"):
        log.info("webhook for payment link %s: waiting for the payment's own webhook", payment_id)
        return "unmatched"
    try:
        payment = provider.get_payment(account, payment_id)      # ProviderUnavailableError -> job retries
    except UnknownPaymentError:
        log.warning("webhook names a payment unknown to company %s's %s account: ignored", company_id,
                    provider.name)
        return "unknown"
    with session_scope(engine) as session:
        request = session.exec(select(PaymentRequest).where(
            PaymentRequest.company_id == company_id, PaymentRequest.provider == provider.name,
            PaymentRequest.provider_ref == payment.id)).first()
        if request is not None and request.purpose == "iban_check":
            return finish_iban_check(session, company_id, payment, now=now)
        known = session.exec(select(Payment).where(Payment.provider_payment_id == payment.id)).first()
        if known is not None and known.company_id != company_id:
            log.warning("payment %s belongs to another company than the webhook's: ignored", payment.id)
            return "unknown"
        document_id = known.document_id if known is not None else None
        candidates = [] if document_id is not None else _candidate_links(session, company_id, provider, payment)
    if document_id is None:
        if not payment.is_paid:
            return "not_paid"
        document_id = _link_of(provider, account, payment.id, candidates)
        if document_id is None:
            log.warning("payment %s of company %s matches none of its payment links", payment.id, company_id)
            return "unmatched"
    with session_scope(engine) as session:
        booking = apply_payment(session, company_id, document_id, received_from(payment), now=now)
        if booking.unapplied:
            return "unapplied"
        return "booked" if booking.delta else "replay"


def received_from(payment: ProviderPayment) -> Received:
    status = payment.status
    if payment.is_paid and payment.amount_charged_back > 0:
        status = "charged_back"
    elif payment.is_paid and payment.amount_refunded > 0:
        status = "refunded" if payment.amount_refunded >= payment.amount else "partially_refunded"
    return Received(
        source="mollie", provider_payment_id=payment.id, amount=payment.amount, net=payment.net_received,
        status=status, method=payment.method, currency=payment.currency, refunded=payment.amount_refunded,
        charged_back=payment.amount_charged_back, payer_name=payment.consumer_name,
        payer_iban=payment.consumer_account, paid_at=payment.paid_at,
        received_on=payment.paid_at.astimezone(LOCAL).date() if payment.paid_at else None)


def _candidate_links(session: Session, company_id: int, provider: PaymentProvider,
                     payment: ProviderPayment) -> list[tuple[str, int]]:
    """(link id, invoice id) of the company's links this payment may come from, likeliest first.

    Mollie uses a link's description as its payments' description, so that narrows it to one; the
    fetch of the link's payments then proves it. Without a match, the newest open links are tried.
    """
    base = select(PaymentRequest).where(
        PaymentRequest.company_id == company_id, PaymentRequest.provider == provider.name,
        PaymentRequest.purpose == "invoice", PaymentRequest.document_id.is_not(None))
    exact = list(session.exec(base.where(PaymentRequest.description == payment.description)))
    rest = list(session.exec(base.where(PaymentRequest.status == "open",
                                        PaymentRequest.description != payment.description)
                             .order_by(PaymentRequest.id.desc()).limit(FALLBACK_LINKS)))
    return [(r.provider_ref, r.document_id) for r in exact + rest]


def _link_of(provider: PaymentProvider, account: PaymentAccount, payment_id: str,
             candidates: list[tuple[str, int]]) -> int | None:
    for link_id, document_id in candidates:
        try:
            if payment_id in provider.link_payment_ids(account, link_id):
                return document_id
        except UnknownPaymentError:
            continue
    return None



# ---- without webhooks (no public URL): ask instead of being told ------------------------------

def poll_iban_check(engine: Engine, provider: PaymentProvider, company_id: int, *, now: datetime) -> str:
    """The owner says "paid": look the newest open IBAN check payment up (same path as its webhook)."""
    with session_scope(engine) as session:
        payment_id = session.exec(select(PaymentRequest.provider_ref).where(
            PaymentRequest.company_id == company_id, PaymentRequest.provider == provider.name,
            PaymentRequest.purpose == "iban_check", PaymentRequest.status == "open")
            .order_by(PaymentRequest.id.desc())).first()
    if payment_id is None:
        raise NotFoundError(f"no open IBAN check for company {company_id}")
    return process_mollie_webhook(engine, provider, company_id=company_id, payment_id=payment_id, now=now)


def poll_payment_links(engine: Engine, provider: PaymentProvider, *, now: datetime,
                       company_id: int | None = None, limit: int = 100) -> list[str]:
    """Check open payment links for payments (for installations Mollie cannot reach with webhooks).
    Returns the outcome per payment found; booking is idempotent, so polling often is harmless."""
    with session_scope(engine) as session:
        stmt = select(PaymentRequest).where(PaymentRequest.provider == provider.name,
                                            PaymentRequest.purpose == "invoice", PaymentRequest.status == "open")
        if company_id is not None:
            stmt = stmt.where(PaymentRequest.company_id == company_id)
        links = [(r.company_id, r.provider_ref) for r in session.exec(stmt.order_by(PaymentRequest.id).limit(limit))]
        accounts = {cid: get_payment_account(session, cid, provider=provider.name)
                    for cid in {cid for cid, _ in links}}
    outcomes = []
    for cid, link_id in links:
        try:
            payment_ids = provider.link_payment_ids(accounts[cid], link_id)
        except UnknownPaymentError:
            log.warning("payment link of company %s no longer exists at %s", cid, provider.name)
            continue
        for payment_id in payment_ids:
            outcomes.append(process_mollie_webhook(engine, provider, company_id=cid, payment_id=payment_id, now=now))
    return outcomes
