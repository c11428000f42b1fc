"""Klerk's HTTP side: the Mollie webhook and a health check (Starlette), plus the payment worker.

``POST /webhooks/mollie?t=<account token>`` with the form field ``id``: the handler stores a job
(one short transaction in a worker thread) and answers 200 at once — Mollie expects an answer
within seconds and the body proves nothing anyway. An unknown token is answered 200 as well (no
hint to a prober) and logged; a malformed request gets 400; a database failure 503, so Mollie
retries. ``PaymentWorker`` (a thread) then fetches the payment back and books it; the webhook wakes
it, so the "paid" notification is usually written well within a second.

The same app answers ``/healthz`` and ``/metrics`` (``klerk.observability``); ``HttpServer`` runs any
of these apps on uvicorn in a thread and drains the requests in hand when stopped.
"""
from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable
from datetime import datetime
from urllib.parse import parse_qs

import sqlalchemy as sa
from prometheus_client import CollectorRegistry
from sqlalchemy.engine import Engine
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from core.errors import ValidationError
from core.payments.webhooks import receive_mollie_webhook
from core.payments.worker import JobResult, PaymentServices, run_payment_jobs
from core.settings import Settings
from core.storage import session_scope
from klerk.health import Health, Heartbeat
from klerk.observability import MetricsMiddleware, build_registry, ops_routes

log = logging.getLogger(__name__)
MAX_WEBHOOK_BYTES = 4096


def build_web_app(engine: Engine, settings: Settings, *, clock: Callable[[], datetime],
                  on_webhook: Callable[[], None] | None = None, health: Health | None = None,
                  registry: CollectorRegistry | None = None, telegram: Route | None = None) -> Starlette:
    """The ASGI app. ``on_webhook`` is called after a webhook was stored (e.g. ``PaymentWorker.wake``).
    ``health`` and ``registry`` are the process's (``klerk serve``); without them ``/healthz`` checks
    the database and ``/metrics`` shows the process metrics only. ``telegram``: the bot's webhook
    route (``klerk.runtime.telegram_webhook``) when the bot runs in webhook mode."""

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

    health = health or Health(("web",), ping)
    registry = registry or build_registry(health)
    webhooks = "on" if settings.public_url else "off (no KLERK_PUBLIC_URL)"
    return Starlette(routes=[Route("/webhooks/mollie", mollie_webhook, methods=["POST"]),
                             *([telegram] if telegram is not None else []),
                             *ops_routes(health, registry, webhooks=webhooks)],
                     middleware=[Middleware(MetricsMiddleware)])


def build_ops_app(health: Health, registry: CollectorRegistry) -> Starlette:
    """``/healthz`` and ``/metrics`` alone: what a process without the web role serves."""
    return Starlette(routes=ops_routes(health, registry), middleware=[Middleware(MetricsMiddleware)])


class HttpServer:
    """An ASGI app on uvicorn in a thread. ``start()`` binds first, so a port in use is an ``OSError``
    in the caller; ``stop()`` stops accepting and lets the requests in hand finish (``drain`` s)."""

    def __init__(self, app: Starlette, host: str, port: int, *, drain: float = 10.0) -> None:
        import uvicorn

        self.host, self.port = host, port
        self._server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_config=None, log_level="warning",
                                                     lifespan="off", timeout_graceful_shutdown=drain))
        self._thread: threading.Thread | None = None

    def start(self, timeout: float = 10.0) -> HttpServer:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self.port))
        except OSError as exc:
            sock.close()
            raise OSError(exc.errno, f"cannot listen for HTTP on {self.host}:{self.port}: {exc.strerror}") from None
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]}, name="klerk-http",
                                        daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started and self._thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)
        if not self._server.started:
            raise RuntimeError(f"the HTTP server on {self.host}:{self.port} did not start")
        return self

    def check(self) -> str | None:
        """For ``Health``: ``None`` while serving."""
        return None if self._thread is not None and self._thread.is_alive() else "the HTTP server stopped"

    def stop(self, timeout: float = 15.0) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)


class PaymentWorker:
    """Runs the payment jobs in a thread: woken by each webhook, and every ``poll`` seconds anyway."""

    def __init__(self, engine: Engine, services: PaymentServices, *, clock: Callable[[], datetime],
                 poll: float = 5.0, name: str = "payments",
                 after_job: Callable[[JobResult], None] | None = None) -> None:
        self._engine, self._services, self._clock = engine, services, clock
        self._poll, self._name, self._after_job = poll, name, after_job
        self.heartbeat = Heartbeat("the payment worker", max_busy=900.0)
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

    def check(self) -> str | None:
        """For ``Health``: ``None`` while the loop runs and is not stuck in one round."""
        if self._thread is None or not self._thread.is_alive():
            return "the payment worker stopped"
        return self.heartbeat.check()

    def _job_done(self, result: JobResult) -> None:
        self.heartbeat.beat()
        if self._after_job is not None:
            self._after_job(result)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            self.heartbeat.beat()
            try:
                run_payment_jobs(self._engine, self._services, clock=self._clock, worker=self._name,
                                 after_job=self._job_done)
            except Exception:          # the edge of the worker: log and keep going (STYLE §3)
                log.exception("payment worker: a job crashed; its lease will run out and it is retried")
            with self.heartbeat.waiting():
                self._wake.wait(self._poll)
