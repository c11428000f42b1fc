"""The payment jobs: fetch-and-book after a webhook, retry a payment link, send an approved reminder,
mail the owner about a payment (``payment_mail``, when the company setting asks for it).

``run_payment_jobs`` takes jobs until none is due and returns how many it ran. Each job runs in
its own units of work; a ``CoreError`` (the provider is down, a mail was refused...) is recorded
on the job, which is retried with back-off (``core.jobs.fail``). Anything else is a bug: it
propagates to the caller's loop (``klerk.web.PaymentWorker`` logs it and goes on), and the job's
lease runs out so it is taken again later.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from collections.abc import Callable
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine

from core.errors import CoreError
from core.jobs import claim, complete, fail
from core.mail import Relay, build_message, send_message
from core.models import Job
from core.payments.booking import PAYMENT_MAIL_JOB, payment_mail
from core.payments.letters import deliver_reminder
from core.payments.links import LINK_JOB, link_failed_for_good, run_link_job
from core.payments.providers import PaymentProvider
from core.payments.reminders import MAIL_JOB
from core.payments.webhooks import WEBHOOK_JOB, process_mollie_webhook
from core.storage import session_scope

log = logging.getLogger(__name__)
JOB_KINDS = (WEBHOOK_JOB, LINK_JOB, MAIL_JOB, PAYMENT_MAIL_JOB)
LOCAL = ZoneInfo("Europe/Amsterdam")


@dataclass(frozen=True)
class PaymentServices:
    """What the payment jobs need, built once in the composition root."""

    provider: PaymentProvider | None = None
    relay: Relay | None = None
    mail_domain: str = "klerk.localhost"


@dataclass(frozen=True)
class JobResult:
    job_id: int
    kind: str
    outcome: str


def run_payment_jobs(engine: Engine, services: PaymentServices, *, clock: Callable[[], datetime],
                     worker: str = "payments", limit: int = 100,
                     after_job: Callable[[JobResult], None] | None = None) -> int:
    ran = 0
    while ran < limit:
        with session_scope(engine) as session:
            job = claim(session, JOB_KINDS, worker=worker, now=clock())
            if job is None:
                return ran
            if job.kind != PAYMENT_MAIL_JOB:   # a payment is mailed once: its key stays
                job.dedupe_key = None        # from now on a new webhook/request queues a fresh job
            job_id, kind, payload = job.id, job.kind, dict(job.payload)
        ran += 1
        try:
            outcome = _run(engine, services, kind, payload, clock)
        except CoreError as exc:
            log.warning("payment job %s (%s) failed: %s", job_id, kind, exc)
            with session_scope(engine) as session:
                job = session.get(Job, job_id)
                fail(session, job, exc, now=clock())
                if job.status == "failed" and kind == LINK_JOB:
                    link_failed_for_good(session, payload["company_id"], payload["invoice_id"], str(exc))
            outcome = "retry"
        else:
            with session_scope(engine) as session:
                complete(session, session.get(Job, job_id), now=clock())
        if after_job is not None:
            after_job(JobResult(job_id, kind, outcome))
    return ran


def _run(engine: Engine, services: PaymentServices, kind: str, payload: dict,
         clock: Callable[[], datetime]) -> str:
    now = clock()
    if kind == WEBHOOK_JOB:
        if services.provider is None:
            raise CoreError("no payment provider configured in this process")
        return process_mollie_webhook(engine, services.provider, company_id=int(payload["company_id"]),
                                      payment_id=str(payload["payment_id"]), now=now)
    if kind == LINK_JOB:
        if services.provider is None:
            raise CoreError("no payment provider configured in this process")
        return run_link_job(engine, services.provider, int(payload["company_id"]), int(payload["invoice_id"]),
                            now=now)
    if kind == MAIL_JOB:
        if services.relay is None:
            raise CoreError("no outgoing mail server configured in this process")
        return deliver_reminder(engine, services.relay, int(payload["reminder_id"]), now=now,
                                today=now.astimezone(LOCAL).date(), mail_domain=services.mail_domain)
    if kind == PAYMENT_MAIL_JOB:
        if services.relay is None:
            raise CoreError("no outgoing mail server configured in this process")
        with session_scope(engine) as session:
            mail = payment_mail(session, payload)
        if mail is None:
            return "no_address"
        send_message(services.relay, build_message(mail, services.relay, domain=services.mail_domain))
        return "mailed"
    raise CoreError(f"unknown payment job {kind}")
