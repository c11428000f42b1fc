"""A Mollie API double on 127.0.0.1, for the real mollie-api-python client.

It behaves like Mollie's v2 API for what Klerk uses: create/get payment links, list a link's
payments, create/get payments — with Mollie's ids (``pl_``, ``tr_``), HAL ``_links``, ``paidAt``
(the client's ``is_paid()`` looks at it), ``details.consumerAccount``, amounts as strings, the
error body ``{"status", "title", "detail"}``, 401 for an unknown key, 404 for an id that does not
exist *in the caller's account*, 422 for missing fields, and Idempotency-Key replays.

The test side plays the customer and Mollie's back office: ``pay_link``, ``pay``, ``refund``,
``chargeback``, ``fire_webhook`` (POSTs ``id=tr_…`` to the webhook URL like Mollie does), and
``down`` (every call answers 503).
"""
from __future__ import annotations

import json
import secrets
import socket
import string
import threading
import time
from collections.abc import Callable
from datetime import datetime, UTC
from decimal import Decimal

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

HAL = "application/hal+json"
DOCS = {"href": "https://docs.mollie.com/reference/v2/payments-api/get-payment", "type": "text/html"}


def _id(prefix: str) -> str:
    return prefix + "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(10))


def _amount(value: Decimal | str, currency: str = "EUR") -> dict:
    return {"value": f"{Decimal(value):.2f}", "currency": currency}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LoopbackServer:
    """Any ASGI app served by uvicorn on 127.0.0.1 in a thread (the double, or Klerk's web app)."""

    def __init__(self, app) -> None:  # type: ignore[no-untyped-def]
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def start(self) -> LoopbackServer:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the loopback server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(5)


class MollieDouble:
    def __init__(self, clock: Callable[[], datetime] | None = None) -> None:
        """``clock``: Mollie's time (``createdAt``, ``paidAt``); tests pin it to their own day."""
        self._clock = clock or (lambda: datetime.now(UTC))
        self._http: LoopbackServer | None = None
        self.url = ""
        self.down = False
        self.calls: list[tuple[str, str]] = []
        self._keys: dict[str, str] = {}                  # api key -> profile id
        self._links: dict[str, dict] = {}
        self._payments: dict[str, dict] = {}
        self._owner: dict[str, str] = {}                 # object id -> api key
        self._replays: dict[tuple[str, str], dict] = {}
        self._lock = threading.Lock()

    # ---- lifecycle ------------------------------------------------------------------------
    def start(self) -> MollieDouble:
        app = Starlette(routes=[
            Route("/v2/payment-links", self._create_link, methods=["POST"]),
            Route("/v2/payment-links/{id}", self._get_link, methods=["GET"]),
            Route("/v2/payment-links/{id}/payments", self._link_payments, methods=["GET"]),
            Route("/v2/payments", self._create_payment, methods=["POST"]),
            Route("/v2/payments/{id}", self._get_payment, methods=["GET"]),
        ])
        self._http = LoopbackServer(app)
        self.url = self._http.url
        self._http.start()
        return self

    def stop(self) -> None:
        if self._http is not None:
            self._http.stop()

    # ---- the test's side (customer, back office) ------------------------------------------
    def add_account(self, api_key: str) -> str:
        profile = _id("pfl_")
        with self._lock:
            self._keys[api_key] = profile
        return profile

    def links(self) -> list[dict]:
        with self._lock:
            return [json.loads(json.dumps(link)) for link in self._links.values()]

    def payment(self, payment_id: str) -> dict:
        with self._lock:
            return json.loads(json.dumps(self._payments[payment_id]))

    def pay_link(self, link_id: str, *, consumer_account: str = "NL91ABNA0417164300",
                 consumer_name: str = "Bakkerij de Vries B.V.", amount: str | None = None) -> str:
        """The customer opens the link and pays with iDEAL: a new paid payment on the link."""
        with self._lock:
            link = self._links[link_id]
            if link["paidAt"] is not None and not link.get("reusable"):
                raise ValueError("this payment link is already paid")
            key = self._owner[link_id]
            payment = self._new_payment(key, {
                "amount": _amount(amount, link["amount"]["currency"]) if amount else link["amount"],
                "description": link["description"], "redirectUrl": link.get("redirectUrl"),
                "webhookUrl": link.get("webhookUrl"), "method": "ideal"})
            self._mark_paid(payment, consumer_account, consumer_name)
            link["paidAt"] = payment["paidAt"]
            link["_payments"].append(payment["id"])
            return payment["id"]

    def pay(self, payment_id: str, *, consumer_account: str, consumer_name: str = "S. de Vos") -> None:
        with self._lock:
            self._mark_paid(self._payments[payment_id], consumer_account, consumer_name)

    def fail(self, payment_id: str) -> None:
        with self._lock:
            payment = self._payments[payment_id]
            payment["status"], payment["failedAt"] = "failed", self._now()

    def refund(self, payment_id: str, amount: str) -> None:
        with self._lock:
            payment = self._payments[payment_id]
            refunded = Decimal(payment["amountRefunded"]["value"]) + Decimal(amount)
            payment["amountRefunded"] = _amount(refunded)
            payment["amountRemaining"] = _amount(Decimal(payment["amount"]["value"]) - refunded)
            payment["_links"]["refunds"] = {"href": f"{self.url}/v2/payments/{payment_id}/refunds", "type": HAL}

    def chargeback(self, payment_id: str, amount: str) -> None:
        with self._lock:
            payment = self._payments[payment_id]
            payment["amountChargedBack"] = _amount(amount)
            payment["_links"]["chargebacks"] = {"href": f"{self.url}/v2/payments/{payment_id}/chargebacks",
                                                "type": HAL}

    def fire_webhook(self, payment_id: str, *, webhook_url: str | None = None) -> int:
        """What Mollie does after a status change: POST id=tr_… (nothing else) to the webhook URL."""
        with self._lock:
            url = webhook_url or self._payments[payment_id].get("webhookUrl")
        if not url:
            raise ValueError("the payment has no webhook URL")
        return httpx.post(url, data={"id": payment_id}, timeout=10).status_code

    # ---- the API ----------------------------------------------------------------------------
    def _error(self, status: int, title: str, detail: str, field: str | None = None) -> Response:
        body = {"status": status, "title": title, "detail": detail, "_links": {"documentation": DOCS}}
        if field:
            body["field"] = field
        return JSONResponse(body, status_code=status, media_type=HAL)

    def _auth(self, request: Request) -> str | Response:
        self.calls.append((request.method, request.url.path))
        if self.down:
            return self._error(503, "Service Unavailable", "The service is temporarily unavailable.")
        auth = request.headers.get("authorization", "")
        key = auth.removeprefix("Bearer ").strip()
        if key not in self._keys:
            return self._error(401, "Unauthorized Request", "Missing authentication, or failed to authenticate")
        return key

    async def _body(self, request: Request) -> dict:
        raw = await request.body()
        return json.loads(raw) if raw else {}

    def _replayed(self, key: str, request: Request) -> Response | None:
        idem = request.headers.get("idempotency-key", "")
        if idem and (key, idem) in self._replays:
            return JSONResponse(self._replays[(key, idem)], status_code=201, media_type=HAL,
                                headers={"Idempotent-Replayed": "true"})
        return None

    def _remember(self, key: str, request: Request, body: dict) -> None:
        idem = request.headers.get("idempotency-key", "")
        if idem:
            self._replays[(key, idem)] = body

    def _valid_amount(self, data: dict) -> bool:
        amount = data.get("amount")
        try:
            return isinstance(amount, dict) and Decimal(amount["value"]) > 0 and \
                len(amount["value"].split(".")[-1]) == 2 and len(amount.get("currency", "")) == 3
        except (KeyError, ArithmeticError, AttributeError):
            return False

    async def _create_link(self, request: Request) -> Response:
        key = self._auth(request)
        if isinstance(key, Response):
            return key
        data = await self._body(request)
        with self._lock:
            replay = self._replayed(key, request)
            if replay is not None:
                return replay
            if not data.get("description"):
                return self._error(422, "Unprocessable Entity", "The description is invalid", "description")
            if not self._valid_amount(data):
                return self._error(422, "Unprocessable Entity", "The amount contains an invalid value", "amount")
            link_id = _id("pl_")
            link = {
                "resource": "payment-link", "id": link_id, "mode": "test", "description": data["description"],
                "amount": data["amount"], "archived": False, "redirectUrl": data.get("redirectUrl"),
                "webhookUrl": data.get("webhookUrl"), "profileId": self._keys[key], "createdAt": self._now(),
                "paidAt": None, "expiresAt": data.get("expiresAt"), "reusable": bool(data.get("reusable")),
                "allowedMethods": data.get("allowedMethods"), "sequenceType": "oneoff", "customerId": None,
                "_links": {
                    "self": {"href": f"{self.url}/v2/payment-links/{link_id}", "type": HAL},
                    "paymentLink": {"href": f"{self.url}/payment/{link_id[3:]}", "type": "text/html"},
                    "documentation": DOCS,
                },
                "_payments": [],
            }
            self._links[link_id], self._owner[link_id] = link, key
            body = self._public(link)
            self._remember(key, request, body)
        return JSONResponse(body, status_code=201, media_type=HAL)

    def _public(self, obj: dict) -> dict:
        return {k: v for k, v in obj.items() if not k.startswith("_") or k == "_links"}

    def _owned(self, key: str, object_id: str, table: dict) -> dict | None:
        obj = table.get(object_id)
        return obj if obj is not None and self._owner.get(object_id) == key else None

    async def _get_link(self, request: Request) -> Response:
        key = self._auth(request)
        if isinstance(key, Response):
            return key
        link_id = request.path_params["id"]
        with self._lock:
            link = self._owned(key, link_id, self._links)
            if link is None:
                return self._error(404, "Not Found", f"No payment link exists with token {link_id}.")
            return JSONResponse(self._public(link), media_type=HAL)

    async def _link_payments(self, request: Request) -> Response:
        key = self._auth(request)
        if isinstance(key, Response):
            return key
        link_id = request.path_params["id"]
        with self._lock:
            link = self._owned(key, link_id, self._links)
            if link is None:
                return self._error(404, "Not Found", f"No payment link exists with token {link_id}.")
            limit = min(250, int(request.query_params.get("limit", "50")))
            items = [self._payments[p] for p in reversed(link["_payments"])][:limit]
            body = {"count": len(items), "_embedded": {"payments": items}, "_links": {
                "self": {"href": f"{self.url}/v2/payment-links/{link_id}/payments", "type": HAL},
                "previous": None, "next": None, "documentation": DOCS}}
            return JSONResponse(body, media_type=HAL)

    async def _create_payment(self, request: Request) -> Response:
        key = self._auth(request)
        if isinstance(key, Response):
            return key
        data = await self._body(request)
        with self._lock:
            replay = self._replayed(key, request)
            if replay is not None:
                return replay
            if not data.get("description"):
                return self._error(422, "Unprocessable Entity", "The description is invalid", "description")
            if not self._valid_amount(data):
                return self._error(422, "Unprocessable Entity", "The amount contains an invalid value", "amount")
            if not data.get("redirectUrl"):
                return self._error(422, "Unprocessable Entity", "The redirect URL is missing", "redirectUrl")
            payment = self._new_payment(key, data)
            body = dict(payment)
            self._remember(key, request, body)
        return JSONResponse(body, status_code=201, media_type=HAL)

    async def _get_payment(self, request: Request) -> Response:
        key = self._auth(request)
        if isinstance(key, Response):
            return key
        payment_id = request.path_params["id"]
        with self._lock:
            payment = self._owned(key, payment_id, self._payments)
            if payment is None:
                return self._error(404, "Not Found", f"No payment exists with token {payment_id}.")
            return JSONResponse(payment, media_type=HAL)

    # ---- state ------------------------------------------------------------------------------
    def _new_payment(self, key: str, data: dict) -> dict:
        payment_id = _id("tr_")
        payment = {
            "resource": "payment", "id": payment_id, "mode": "test", "createdAt": self._now(),
            "amount": data["amount"], "description": data["description"], "method": data.get("method"),
            "metadata": data.get("metadata"), "status": "open", "isCancelable": False,
            "expiresAt": self._now(), "profileId": self._keys[key], "sequenceType": "oneoff",
            "redirectUrl": data.get("redirectUrl"), "webhookUrl": data.get("webhookUrl"),
            "amountRefunded": _amount(0, data["amount"]["currency"]),
            "amountRemaining": data["amount"],
            "_links": {
                "self": {"href": f"{self.url}/v2/payments/{payment_id}", "type": HAL},
                "checkout": {"href": f"{self.url}/checkout/select-issuer/ideal/{payment_id[3:]}", "type": "text/html"},
                "dashboard": {"href": f"{self.url}/dashboard/payments/{payment_id}", "type": "text/html"},
                "documentation": DOCS,
            },
        }
        self._payments[payment_id], self._owner[payment_id] = payment, key
        return payment

    def _now(self) -> str:
        return self._clock().astimezone(UTC).replace(microsecond=0).isoformat()

    def _mark_paid(self, payment: dict, consumer_account: str, consumer_name: str) -> None:
        payment["status"], payment["paidAt"], payment["isCancelable"] = "paid", self._now(), False
        payment["details"] = {"consumerName": consumer_name, "consumerAccount": consumer_account,
                              "consumerBic": "ABNANL2A"}
        payment["settlementAmount"] = payment["amount"]
        payment["_links"].pop("checkout", None)
