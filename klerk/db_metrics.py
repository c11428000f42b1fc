"""Gauges read from the database at scrape time: queues, the inbox, the outbox, open invoices.

Every process may serve them (they describe the installation, not the process), so a Prometheus
that scrapes several processes sees the same values from each; aggregate with ``max``.

Each scrape is one short read: its own small engine (PostgreSQL: a read-only session with a
statement, lock and connect timeout; SQLite: ``query_only`` without ``BEGIN IMMEDIATE``, so a scrape
never waits behind a writer, and cut off after the timeout). When the database does not answer the
scrape still succeeds, with ``klerk_database_up 0`` and none of the other gauges.
"""
from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timezone

import sqlalchemy as sa
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy.engine import Connection, Engine

from core.inbox.models import InboundMessage, InboxDocument, MessageStatus, ReceiptStatus
from core.models import Document, DocumentStatus, Job, Notification

log = logging.getLogger(__name__)
JOB_STATUSES = ("queued", "running", "done", "failed")
OPEN_INVOICE = (DocumentStatus.SENT.value, DocumentStatus.PARTIALLY_PAID.value)


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def read_only_engine(engine: Engine, timeout: float = 2.0) -> Engine:
    """A small engine on the same database for scrapes and health pings (see the module doc)."""
    url = engine.url
    if url.get_backend_name() == "sqlite":
        if url.database in (None, "", ":memory:"):
            return engine                                # an in-memory database has only that connection
        ro = sa.create_engine(url, connect_args={"timeout": timeout, "check_same_thread": False},
                              pool_size=2, max_overflow=0, pool_timeout=timeout)

        @sa.event.listens_for(ro, "connect")
        def _read_only(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            dbapi_connection.execute("PRAGMA query_only=ON")
        return ro
    connect_args: dict = {}
    if url.get_backend_name() == "postgresql" and url.get_driver_name() in ("psycopg", "psycopg2"):
        ms = int(timeout * 1000)
        connect_args = {"connect_timeout": max(1, math.ceil(timeout)), "application_name": "klerk-metrics",
                        "options": f"-c statement_timeout={ms} -c lock_timeout={ms} "
                                   f"-c default_transaction_read_only=on"}
    return sa.create_engine(url, pool_size=2, max_overflow=0, pool_timeout=timeout, pool_pre_ping=True,
                            connect_args=connect_args)


@dataclass
class Snapshot:
    jobs: dict[tuple[str, str], int] = field(default_factory=dict)      # (kind, status) -> count
    oldest_runnable: dict[str, float] = field(default_factory=dict)     # kind -> age in seconds
    inbound: dict[str, int] = field(default_factory=dict)               # status -> count
    documents: dict[str, int] = field(default_factory=dict)             # status -> count
    notifications_pending: int = 0
    oldest_notification: float = 0.0
    invoices_open: int = 0
    invoices_overdue: int = 0


def _age(then: datetime | None, now: datetime) -> float:
    if then is None:
        return 0.0
    if then.tzinfo is None:
        then = then.replace(tzinfo=timezone.utc)
    return max(0.0, (now - then).total_seconds())


def read_snapshot(conn: Connection, *, now: datetime, today: date) -> Snapshot:
    snap = Snapshot()
    job = Job.__table__.c  # type: ignore[attr-defined]
    for kind, status, n in conn.execute(sa.select(job.kind, job.status, sa.func.count())
                                        .group_by(job.kind, job.status)):
        snap.jobs[(kind, status)] = n
    runnable = sa.or_(sa.and_(job.status == "queued", job.run_after <= now),
                      sa.and_(job.status == "running", job.locked_until < now))   # as core.jobs.claim
    since = sa.case((job.status == "queued", job.run_after), else_=job.locked_until)
    for kind, oldest in conn.execute(sa.select(job.kind, sa.func.min(since)).where(runnable).group_by(job.kind)):
        snap.oldest_runnable[kind] = _age(oldest, now)
    for table, into in ((InboundMessage.__table__, snap.inbound), (InboxDocument.__table__, snap.documents)):  # type: ignore[attr-defined]
        for status, n in conn.execute(sa.select(table.c.status, sa.func.count()).group_by(table.c.status)):
            into[status] = n
    note = Notification.__table__.c  # type: ignore[attr-defined]
    pending, oldest = conn.execute(sa.select(sa.func.count(), sa.func.min(note.created_at))
                                   .where(note.sent_at.is_(None))).one()
    snap.notifications_pending, snap.oldest_notification = pending, _age(oldest, now)
    doc = Document.__table__.c  # type: ignore[attr-defined]
    overdue = sa.func.coalesce(sa.func.sum(sa.case((doc.due_date < today, 1), else_=0)), 0)
    snap.invoices_open, snap.invoices_overdue = conn.execute(
        sa.select(sa.func.count(), overdue).where(doc.kind == "invoice", doc.status.in_(OPEN_INVOICE))).one()
    return snap


class DatabaseCollector(Collector):
    """The gauges above, read once per scrape."""

    def __init__(self, engine: Engine, *, clock: Callable[[], datetime] = _utcnow, timeout: float = 2.0) -> None:
        self._engine = read_only_engine(engine, timeout)
        self._own_engine = self._engine is not engine
        self._clock, self._timeout = clock, timeout
        self._was_up = True

    def ping(self) -> None:
        """Raises when the database does not answer within the timeout (for ``/healthz``)."""
        with self._engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")

    def close(self) -> None:
        if self._own_engine:
            self._engine.dispose()

    def _read(self) -> Snapshot:
        now = self._clock()
        with self._engine.connect() as conn:
            if conn.dialect.name != "sqlite":
                return read_snapshot(conn, now=now, today=now.date())
            deadline = time.monotonic() + self._timeout     # SQLite has no statement timeout: interrupt
            raw = conn.connection.dbapi_connection
            raw.set_progress_handler(lambda: int(time.monotonic() > deadline), 1000)  # type: ignore[union-attr]
            try:
                return read_snapshot(conn, now=now, today=now.date())
            finally:
                raw.set_progress_handler(None, 1000)  # type: ignore[union-attr]

    def collect(self) -> Iterator[GaugeMetricFamily]:
        started = time.perf_counter()
        try:
            snap: Snapshot | None = self._read()
        except sa.exc.SQLAlchemyError as exc:
            if self._was_up:
                log.warning("metrics: the database does not answer: %s", type(exc).__name__)
            snap = None
        self._was_up = snap is not None
        yield GaugeMetricFamily("klerk_database_up", "1 when the database answered this scrape, else 0",
                                value=1.0 if snap else 0.0)
        yield GaugeMetricFamily("klerk_database_scrape_seconds", "Time spent reading these gauges",
                                value=time.perf_counter() - started)
        if snap is not None:
            yield from _families(snap)


def _families(snap: Snapshot) -> Iterator[GaugeMetricFamily]:
    jobs = GaugeMetricFamily("klerk_jobs", "Background jobs by kind and status", labels=["kind", "status"])
    kinds = sorted({kind for kind, _ in snap.jobs})
    for kind in kinds:
        for status in sorted(set(JOB_STATUSES) | {s for k, s in snap.jobs if k == kind}):
            jobs.add_metric([kind, status], snap.jobs.get((kind, status), 0))
    yield jobs
    oldest = GaugeMetricFamily("klerk_job_oldest_runnable_age_seconds",
                               "Age of the oldest job that could run now (0 when none waits), by kind",
                               labels=["kind"])
    for kind in kinds:
        oldest.add_metric([kind], snap.oldest_runnable.get(kind, 0.0))
    yield oldest
    for name, text, counts, known in (
            ("klerk_inbound_messages", "Arrivals in the receipt inbox (mail, uploads) by status",
             snap.inbound, [s.value for s in MessageStatus]),
            ("klerk_inbox_documents", "Receipts and purchase invoices in the inbox by status",
             snap.documents, [s.value for s in ReceiptStatus])):
        family = GaugeMetricFamily(name, text, labels=["status"])
        for status in sorted(set(known) | set(counts)):
            family.add_metric([status], counts.get(status, 0))
        yield family
    yield GaugeMetricFamily("klerk_notifications_pending", "Chat messages in the outbox not delivered yet",
                            value=snap.notifications_pending)
    yield GaugeMetricFamily("klerk_notification_oldest_pending_age_seconds",
                            "Age of the oldest undelivered chat message (0 when none)", value=snap.oldest_notification)
    yield GaugeMetricFamily("klerk_invoices_open", "Invoices sent and not (fully) paid", value=snap.invoices_open)
    yield GaugeMetricFamily("klerk_invoices_overdue", "Open invoices past their due date", value=snap.invoices_overdue)
