"""Payment providers: the ``PaymentProvider`` protocol core depends on, and the Mollie adapter.

This module is the only place that imports ``mollie``. The adapter decrypts a company's API key
(through the ``SecretBox`` it was built with) at the moment of the call, and translates Mollie's
answers and errors into core's terms:

  ProviderUnavailableError   could not reach the provider, or it answered 5xx/429: try again later
  ProviderRejectedError      the provider refused (bad key, invalid request): retrying will not help
  UnknownPaymentError        no such payment *in this account* (404): a webhook for someone else
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

from core.errors import CoreError
from core.payments.models import PaymentAccount
from core.secrets import SecretBox

log = logging.getLogger(__name__)


class ProviderError(CoreError):
    """Base of the provider errors."""


class ProviderUnavailableError(ProviderError):
    """The provider could not be reached or had a temporary problem."""


class ProviderRejectedError(ProviderError):
    """The provider refused the request (credentials, invalid data)."""


class UnknownPaymentError(ProviderError):
    """The provider does not know this payment id for this account."""


@dataclass(frozen=True)
class LinkRequest:
    amount: Decimal
    description: str
    idempotency_key: str
    webhook_url: str = ""
    redirect_url: str = ""
    currency: str = "EUR"
    methods: tuple[str, ...] = ("ideal",)


@dataclass(frozen=True)
class CheckoutRequest:
    amount: Decimal
    description: str
    idempotency_key: str
    webhook_url: str = ""
    redirect_url: str = ""
    currency: str = "EUR"
    method: str = "ideal"


@dataclass(frozen=True)
class CreatedLink:
    id: str
    url: str


@dataclass(frozen=True)
class CreatedPayment:
    id: str
    checkout_url: str


@dataclass(frozen=True)
class ProviderPayment:
    """A payment as the provider reports it now (fetched back, never taken from a webhook body)."""

    id: str
    status: str
    amount: Decimal
    currency: str = "EUR"
    description: str = ""
    method: str = ""
    paid_at: datetime | None = None
    amount_refunded: Decimal = Decimal("0.00")
    amount_charged_back: Decimal = Decimal("0.00")
    consumer_name: str = ""
    consumer_account: str = ""

    @property
    def is_paid(self) -> bool:
        return self.paid_at is not None

    @property
    def net_received(self) -> Decimal:
        """What the merchant keeps: the amount once paid, less refunds and chargebacks (never < 0)."""
        if not self.is_paid:
            return Decimal("0.00")
        return max(Decimal("0.00"), self.amount - self.amount_refunded - self.amount_charged_back)


class PaymentProvider(Protocol):
    """What core needs from a payment provider. ``account`` carries the encrypted credentials."""

    name: str

    def webhook_url(self, account: PaymentAccount) -> str: ...

    def create_payment_link(self, account: PaymentAccount, request: LinkRequest) -> CreatedLink: ...

    def create_payment(self, account: PaymentAccount, request: CheckoutRequest) -> CreatedPayment: ...

    def get_payment(self, account: PaymentAccount, payment_id: str) -> ProviderPayment: ...

    def link_payment_ids(self, account: PaymentAccount, link_id: str) -> list[str]: ...


# ---- Mollie -------------------------------------------------------------------------------

def _money(value: Any) -> Decimal:
    if not isinstance(value, dict):
        return Decimal("0.00")
    try:
        return Decimal(str(value.get("value", "0"))).quantize(Decimal("0.01"))
    except InvalidOperation:
        return Decimal("0.00")


def _when(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


def payment_from_mollie(data: dict[str, Any]) -> ProviderPayment:
    """Our view of a Mollie payment object (pure; also used by tests on recorded JSON)."""
    details = data.get("details") or {}
    return ProviderPayment(
        id=str(data.get("id", "")), status=str(data.get("status", "")),
        amount=_money(data.get("amount")), currency=(data.get("amount") or {}).get("currency", "EUR"),
        description=str(data.get("description") or ""), method=str(data.get("method") or ""),
        paid_at=_when(data.get("paidAt")), amount_refunded=_money(data.get("amountRefunded")),
        amount_charged_back=_money(data.get("amountChargedBack")),
        consumer_name=str(details.get("consumerName") or ""),
        consumer_account=str(details.get("consumerAccount") or "").replace(" ", "").upper(),
    )


class MollieProvider:
    """Mollie through mollie-api-python. ``api_endpoint`` points tests at a loopback double.

    Webhooks go to ``<public_url>/webhooks/mollie?t=<account token>``; without a public URL no
    webhook is registered (Mollie refuses unreachable ones) and payments arrive via the bank import.
    """

    name = "mollie"

    def __init__(self, box: SecretBox, *, api_endpoint: str = "", public_url: str = "",
                 redirect_url: str = "", timeout: tuple[float, float] = (2.0, 10.0)) -> None:
        self._box = box
        self._endpoint = api_endpoint
        self._public_url = public_url.rstrip("/")
        self.redirect_url = redirect_url
        self._timeout = timeout

    def webhook_url(self, account: PaymentAccount) -> str:
        return f"{self._public_url}/webhooks/mollie?t={account.webhook_token}" if self._public_url else ""

    def _client(self, account: PaymentAccount):  # type: ignore[no-untyped-def]
        from mollie.api.client import Client
        from mollie.api.error import RequestSetupError

        client = Client(api_endpoint=self._endpoint, timeout=self._timeout, retry=0)  # the job queue retries
        try:
            client.set_api_key(self._box.decrypt(account.api_key_encrypted))
        except RequestSetupError:
            raise ProviderRejectedError("the stored Mollie API key is not a Mollie key") from None
        return client

    def _call(self, what: str, fn, *args: Any, **kwargs: Any) -> Any:  # type: ignore[no-untyped-def]
        from mollie.api import error as merr

        try:
            return fn(*args, **kwargs)
        except merr.ResponseError as exc:
            status = int(exc.status or 0)
            if status == 404:
                raise UnknownPaymentError(f"{what}: not found") from None
            if status in (429,) or status >= 500:
                raise ProviderUnavailableError(f"{what}: Mollie answered {status}") from None
            raise ProviderRejectedError(f"{what}: Mollie refused ({status}): {exc}"[:300]) from None
        except merr.ResponseHandlingError as exc:
            raise ProviderUnavailableError(f"{what}: unreadable answer from Mollie"[:300]) from exc
        except merr.RequestSetupError as exc:
            raise ProviderRejectedError(f"{what}: {exc}"[:300]) from None
        except merr.RequestError as exc:
            raise ProviderUnavailableError(f"{what}: Mollie unreachable") from exc

    def create_payment_link(self, account: PaymentAccount, request: LinkRequest) -> CreatedLink:
        data: dict[str, Any] = {
            "description": request.description[:255],
            "amount": {"currency": request.currency, "value": f"{request.amount:.2f}"},
            "allowedMethods": list(request.methods) or None,
        }
        if request.webhook_url:
            data["webhookUrl"] = request.webhook_url
        if request.redirect_url:
            data["redirectUrl"] = request.redirect_url
        client = self._client(account)
        link = self._call("create payment link", client.payment_links.create, data,
                          idempotency_key=request.idempotency_key)
        url = link.payment_link
        if not link.id or not url:
            raise ProviderUnavailableError("create payment link: Mollie's answer has no link")
        return CreatedLink(id=link.id, url=url)

    def create_payment(self, account: PaymentAccount, request: CheckoutRequest) -> CreatedPayment:
        data: dict[str, Any] = {
            "description": request.description[:255],
            "amount": {"currency": request.currency, "value": f"{request.amount:.2f}"},
            "method": request.method,
            "redirectUrl": request.redirect_url or self.redirect_url or "https://www.mollie.com",
        }
        if request.webhook_url:
            data["webhookUrl"] = request.webhook_url
        client = self._client(account)
        payment = self._call("create payment", client.payments.create, data,
                             idempotency_key=request.idempotency_key)
        return CreatedPayment(id=payment.id, checkout_url=payment.checkout_url or "")

    def get_payment(self, account: PaymentAccount, payment_id: str) -> ProviderPayment:
        if not payment_id.startswith("tr_"):
            raise UnknownPaymentError("get payment: not a Mollie payment id")
        client = self._client(account)
        payment = self._call("get payment", client.payments.get, payment_id)
        return payment_from_mollie(dict(payment))

    def link_payment_ids(self, account: PaymentAccount, link_id: str) -> list[str]:
        from mollie.api.objects.payment_link import PaymentLink
        from mollie.api.resources.payments import PaymentLinkPayments

        client = self._client(account)
        page = self._call("list link payments", PaymentLinkPayments(client, PaymentLink({"id": link_id}, client)).list,
                          limit=250)
        ids: list[str] = []
        while page is not None:
            ids.extend(str(p.id) for p in page)
            page = self._call("list link payments", page.get_next) if page.has_next() else None
        return ids
