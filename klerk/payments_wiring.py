"""``PaymentsFacade``: the payments edge service the bot reaches as ``services.extra["payments"]``.

Built once in the composition root (``klerk serve``, the demo, the tests) from the settings: the
``SecretBox`` for API keys at rest and the ``MollieProvider`` (webhooks to ``settings.public_url``).
Every method is blocking (HTTP to Mollie, a unit of work): the bot calls them through
``turn.services.run``. The facade holds no rules of its own; it opens the unit of work and calls
the ``core.payments`` service.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import Engine

from core.errors import ValidationError
from core.mail import Relay
from core.payments.accounts import connect_provider, has_payment_account
from core.payments.links import LinkOutcome, create_payment_link, start_iban_check
from core.payments.providers import MollieProvider, PaymentProvider
from core.secrets import SecretBox
from core.payments.webhooks import poll_iban_check, poll_payment_links
from core.payments.worker import PaymentServices, run_payment_jobs
from core.settings import Settings
from core.storage import session_scope


def _utc_now() -> datetime:
    return datetime.now(UTC)


class PaymentsFacade:
    def __init__(self, engine: Engine, box: SecretBox, provider: PaymentProvider, *,
                 clock: Callable[[], datetime] = _utc_now, relay: Relay | None = None,
                 mail_domain: str = "klerk.localhost") -> None:
        self.engine, self.box, self.provider, self.clock = engine, box, provider, clock
        self.relay, self.mail_domain = relay, mail_domain

    @classmethod
    def from_settings(cls, settings: Settings, engine: Engine, *, clock: Callable[[], datetime] = _utc_now,
                      relay: Relay | None = None, api_endpoint: str = "", redirect_url: str = "") -> PaymentsFacade:
        """``api_endpoint`` empty = Mollie itself; the demo and tests point it at ``klerk.mollie_double``."""
        box = SecretBox.from_settings(settings.secret_key.get_secret_value(), Path(settings.data_dir))
        provider = MollieProvider(box, api_endpoint=api_endpoint, public_url=settings.public_url,
                                  redirect_url=redirect_url)
        return cls(engine, box, provider, clock=clock, relay=relay, mail_domain=settings.ingest_domain)

    # ---- what the bot calls ----------------------------------------------------------------
    def connect(self, company_id: int, api_key: str) -> str:
        """Store the company's Mollie API key (encrypted); returns the key hint (``test_…abcd``)."""
        with session_scope(self.engine) as session:
            return connect_provider(session, self.box, company_id, api_key, now=self.clock(),
                                    provider=self.provider.name).key_hint

    def is_connected(self, company_id: int) -> bool:
        with session_scope(self.engine) as session:
            return has_payment_account(session, company_id, provider=self.provider.name)

    def start_iban_check(self, company_id: int) -> str:
        """The checkout URL of the € 0,01 payment that proves the company's IBAN."""
        with session_scope(self.engine) as session:
            if not has_payment_account(session, company_id, provider=self.provider.name):
                raise ValidationError("mollie", "Connect your Mollie account first (/mollie); then I can check "
                                                "your IBAN with € 0.01.")
            return start_iban_check(session, self.provider, company_id, now=self.clock(),
                                    redirect_url=getattr(self.provider, "redirect_url", "")).checkout_url

    def create_payment_link(self, company_id: int, invoice_id: int) -> LinkOutcome:
        with session_scope(self.engine) as session:
            return create_payment_link(session, self.provider, company_id, invoice_id, now=self.clock())

    def poll_iban_check(self, company_id: int) -> str:
        return poll_iban_check(self.engine, self.provider, company_id, now=self.clock())

    def poll_payment_links(self, company_id: int | None = None) -> list[str]:
        return poll_payment_links(self.engine, self.provider, now=self.clock(), company_id=company_id)

    # ---- the background side ---------------------------------------------------------------
    @property
    def job_services(self) -> PaymentServices:
        return PaymentServices(provider=self.provider, relay=self.relay, mail_domain=self.mail_domain)

    def run_jobs(self) -> int:
        """Run the due payment jobs (webhook fetches, links, reminder mails) now; returns how many ran."""
        return run_payment_jobs(self.engine, self.job_services, clock=self.clock)
