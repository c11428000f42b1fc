"""Logs, metrics and the ops endpoints of every ``klerk serve`` process.

Logs: one handler on the root logger, ``KLERK_LOG_FORMAT=text`` (a terminal) or ``json`` (one object a
line: ``time``, ``level``, ``logger``, ``message``, ``roles``, ``thread`` and, when set with
``core.logcontext.log_context``, ``company_id``, ``job_id``, ``job_kind``, ``update_id``, ``chat_id``).

Metrics (Prometheus, text format 0.0.4 on ``/metrics``): the process-level counters live in
prometheus_client's default registry, so any layer that may import prometheus_client (bot, ingest)
defines its own counters and they show up here without wiring; ``build_registry`` adds this process's
role liveness and the gauges read from the database at scrape time (``klerk.db_metrics``).
"""
from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timezone
from typing import Any

from prometheus_client import (CONTENT_TYPE_PLAIN_0_0_4, REGISTRY, CollectorRegistry, Counter, Histogram,
                               disable_created_metrics, generate_latest)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from pythonjsonlogger.json import JsonFormatter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.logcontext import FIELDS, current_fields
from core.settings import Settings
from klerk.health import Health

# one line per Bot API poll, per migration step, per SMTP connection: noise at INFO
QUIET_LOGGERS = ("httpx", "httpcore", "alembic", "mail.log", "uvicorn.access", "apscheduler")
LOG_FORMATS = ("text", "json")
disable_created_metrics()    # no ``*_created`` series next to each counter: Prometheus does not need them

HTTP_REQUESTS = Counter("klerk_http_requests", "HTTP requests answered, by route, method and status",
                        ["route", "method", "status"])
HTTP_SECONDS = Histogram("klerk_http_request_duration_seconds", "Time to answer an HTTP request, by route",
                         ["route"], buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0))


# ---- logs ------------------------------------------------------------------------------------

class ContextFilter(logging.Filter):
    """Copies the ``log_context`` fields of the current context onto each record."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, value in current_fields().items():
            if not hasattr(record, name):
                setattr(record, name, value)
        return True


def _iso_time(record: logging.LogRecord) -> str:
    return datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds")


class TextFormatter(logging.Formatter):
    """``2026-11-30T10:00:00.123+00:00 INFO ingest.worker [worker] message job_id=7 job_kind=inbox_message``"""

    def __init__(self, roles: Sequence[str]) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s [" + ",".join(roles).replace("%", "%%") + "] %(message)s")

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        return _iso_time(record)

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        context = " ".join(f"{name}={getattr(record, name)}" for name in FIELDS if hasattr(record, name))
        if not context:
            return text
        first, newline, rest = text.partition("\n")          # after the message, before a traceback
        return f"{first} {context}{newline}{rest}"


class JsonLineFormatter(JsonFormatter):
    def __init__(self, roles: Sequence[str]) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(threadName)s %(message)s",
                         rename_fields={"asctime": "time", "levelname": "level", "name": "logger",
                                        "threadName": "thread", "exc_info": "error"},
                         static_fields={"roles": list(roles)}, json_ensure_ascii=False)

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        return _iso_time(record)


def make_log_handler(settings: Settings, role_names: Sequence[str], stream: Any = None) -> logging.Handler:
    """The handler ``configure_logging`` installs; ``ValueError`` for an unknown ``KLERK_LOG_FORMAT``."""
    if settings.log_format not in LOG_FORMATS:
        raise ValueError(f"KLERK_LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}, not {settings.log_format!r}")
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.addFilter(ContextFilter())
    handler.setFormatter(JsonLineFormatter(role_names) if settings.log_format == "json" else TextFormatter(role_names))
    handler.set_name("klerk")
    return handler


def configure_logging(settings: Settings, role_names: Sequence[str], *, stream: Any = None) -> None:
    """Route every log record of the process (and warnings, and uncaught thread errors) through one
    handler in ``KLERK_LOG_FORMAT``. ``ValueError`` for an unknown format or ``KLERK_LOG_LEVEL``."""
    level = logging.getLevelName(settings.log_level.upper())
    if not isinstance(level, int):
        raise ValueError(f"KLERK_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, not {settings.log_level!r}")
    handler = make_log_handler(settings, role_names, stream)
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == "klerk"]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.WARNING, level))
    logging.captureWarnings(True)
    threading.excepthook = _log_thread_exception


def _log_thread_exception(args: threading.ExceptHookArgs) -> None:
    if args.exc_type is SystemExit:
        return
    name = args.thread.name if args.thread is not None else "?"
    logging.getLogger("klerk").error("thread %s died", name,
                                     exc_info=(args.exc_type, args.exc_value, args.exc_traceback))  # type: ignore[arg-type]


# ---- metrics ---------------------------------------------------------------------------------

class _ProcessMetrics(Collector):
    """prometheus_client's default registry (process, Python, HTTP and the edges' counters)."""

    def collect(self) -> Iterable[Any]:
        return REGISTRY.collect()


class _RoleMetrics(Collector):
    def __init__(self, health: Health) -> None:
        self._health = health

    def collect(self) -> Iterator[GaugeMetricFamily]:
        problems = self._health.role_problems()
        family = GaugeMetricFamily("klerk_role_up", "1 when a role of this process is alive, else 0", labels=["role"])
        for role in self._health.roles:
            family.add_metric([role], 0.0 if role in problems else 1.0)
        yield family


def build_registry(health: Health, database: Collector | None = None) -> CollectorRegistry:
    """What ``/metrics`` of this process shows."""
    registry = CollectorRegistry()
    registry.register(_ProcessMetrics())
    registry.register(_RoleMetrics(health))
    if database is not None:
        registry.register(database)
    return registry


class MetricsMiddleware:
    """Counts each HTTP request by its route's path template (``unmatched`` for anything else)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, status = time.perf_counter(), 500

        async def send_counting(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_counting)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            HTTP_REQUESTS.labels(route, scope.get("method", ""), str(status)).inc()
            HTTP_SECONDS.labels(route).observe(time.perf_counter() - started)


def ops_routes(health: Health, registry: CollectorRegistry, **healthz_extra: str) -> list[Route]:
    """``GET /healthz`` (200 or 503 with the reasons) and ``GET /metrics`` for any Starlette app."""

    async def healthz(request: Request) -> Response:
        status, body = await run_in_threadpool(health.report)
        return JSONResponse({**body, **healthz_extra}, status_code=status)

    async def metrics(request: Request) -> Response:
        body = await run_in_threadpool(generate_latest, registry)
        return Response(body, headers={"Content-Type": CONTENT_TYPE_PLAIN_0_0_4})

    return [Route("/healthz", healthz, methods=["GET"]), Route("/metrics", metrics, methods=["GET"])]
