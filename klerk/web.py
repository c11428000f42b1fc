"""Klerk's HTTP side: the Mollie webhook and a health check (Starlette), plus the payment worker.

``POST /webhooks/mollie?t=<account token>`` with the form field ``id``: the handler stores a job
(one short transaction in a worker thread) and answers 200 at once — Mollie expects an answer
within seconds and the body proves nothing anyway. An unknown token is answered 200 as well (no
hint to a prober) and logged; a malformed request gets 400; a database failure 503, so Mollie
retries. ``PaymentWorker`` (a thread) then fetches the payment back and books it; the webhook wakes
it, so the "paid" notification is usually written well within a second.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime
from urllib.parse import parse_qs

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from core.errors import ValidationError
from core.payments.webhooks import receive_mollie_webhook
from core.payments.worker import JobResult, PaymentServices, run_payment_jobs
from core.settings import Settings
from core.storage import session_scope

log = logging.getLogger(__name__)
MAX_WEBHOOK_BYTES = 4096


def build_web_app(engine: Engine, settings: Settings, *, clock: Callable[[], datetime],
                  on_webhook: Callable[[], None] | None = None) -> Starlette:
    """The ASGI app. ``on_webhook`` is called after a webhook was stored (e.g. ``PaymentWorker.wake``)."""

    def record(token: str, payment_id: str) -> bool:
        with session_scope(engine) as session:
            return receive_mollie_webhook(session, token=token, payment_id=payment_id, now=clock()) is not None

    async def mollie_webhook(request: Request) -> Response:
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > MAX_WEBHOOK_BYTES:
            return PlainTextResponse("too large", status_code=413)
        body = await request.body()           # Mollie posts id=tr_… urlencoded; no multipart needed
        if len(body) > MAX_WEBHOOK_BYTES:
            return PlainTextResponse("too large", status_code=413)
        try:
            payment_id = (parse_qs(body.decode("ascii"), max_num_fields=10).get("id") or [""])[0].strip()
        except (UnicodeDecodeError, ValueError):
            return PlainTextResponse("bad request", status_code=400)
        try:
            queued = await run_in_threadpool(record, request.query_params.get("t", ""), payment_id)
        except ValidationError:
            return PlainTextResponse("bad request", status_code=400)
        except sa.exc.SQLAlchemyError:
            log.exception("could not store a Mollie webhook")
            return PlainTextResponse("try again", status_code=503)
        if queued and on_webhook is not None:
            on_webhook()
        return PlainTextResponse("")

    def ping() -> None:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")

    async def healthz(request: Request) -> Response:
        try:
            await run_in_threadpool(ping)
        except sa.exc.SQLAlchemyError:
            return JSONResponse({"status": "error", "database": "unreachable"}, status_code=503)
        return JSONResponse({"status": "ok", "time": clock().isoformat(),
                             "webhooks": "on" if settings.public_url else "off (no KLERK_PUBLIC_URL)"})

    return Starlette(routes=[
        Route("/webhooks/mollie", mollie_webhook, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
    ])


class PaymentWorker:
    """Runs the payment jobs in a thread: woken by each webhook, and every ``poll`` seconds anyway."""

    def __init__(self, engine: Engine, services: PaymentServices, *, clock: Callable[[], datetime],
                 poll: float = 5.0, name: str = "payments",
                 after_job: Callable[[JobResult], None] | None = None) -> None:
        self._engine, self._services, self._clock = engine, services, clock
        self._poll, self._name, self._after_job = poll, name, after_job
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name=f"klerk-{self._name}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                run_payment_jobs(self._engine, self._services, clock=self._clock, worker=self._name,
                                 after_job=self._after_job)
            except Exception:          # the edge of the worker: log and keep going (STYLE §3)
                log.exception("payment worker: a job crashed; its lease will run out and it is retried")
            self._wake.wait(self._poll)
