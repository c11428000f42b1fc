"""Logs, metrics and health of a Klerk process, in-process: real database, real HTTP on loopback."""
from __future__ import annotations

import asyncio
import io
import json
import logging
import socket
import threading
import time
from datetime import date, timedelta

import httpx
import pytest
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families
from typer.testing import CliRunner

from core.inbox.models import InboundMessage, InboxDocument
from core.jobs import enqueue
from core.logcontext import log_context
from core.models import Document, Job
from core.outbox import notify
from core.settings import Settings
from klerk.cli import app as cli
from klerk.db_metrics import DatabaseCollector
from klerk.health import Health, Heartbeat
from klerk.observability import build_registry, make_log_handler
from klerk.serve import RoleStop
from klerk.web import HttpServer, build_ops_app
from tests.conftest import NOW


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# ---- database gauges -------------------------------------------------------------------------

def test_database_gauges_count_queues_inbox_outbox_and_invoices(engine, session, make_company,  # type: ignore[no-untyped-def]
                                                                make_contact) -> None:
    s = session
    company = make_company()
    contact = make_contact(company)
    enqueue(s, "inbox_message", {}, run_after=NOW - timedelta(seconds=90))      # runnable for 90 s
    enqueue(s, "inbox_message", {}, run_after=NOW + timedelta(hours=1))         # not due yet
    enqueue(s, "receipt_reply", {}, run_after=NOW - timedelta(seconds=5))
    s.add(Job(kind="receipt_reply", status="running", run_after=NOW - timedelta(hours=1),
              locked_until=NOW - timedelta(seconds=300)))                       # a dead worker's job
    s.add(Job(kind="payment", status="done", run_after=NOW - timedelta(days=1)))
    arrival = InboundMessage(company_id=company.id, source="smtp", status="processed")
    s.add(arrival)
    s.add(InboundMessage(company_id=company.id, source="smtp", status="pending"))
    s.flush()
    for position, status in enumerate(("received", "received", "checked")):
        s.add(InboxDocument(company_id=company.id, inbound_id=arrival.id, position=position, status=status))
    notify(s, company.id, "receipt_received", {})
    for status, due in (("sent", NOW.date() - timedelta(days=3)), ("partially_paid", NOW.date() + timedelta(days=9)),
                        ("paid", NOW.date() - timedelta(days=30)), ("draft", None)):
        s.add(Document(company_id=company.id, contact_id=contact.id, kind="invoice", status=status, due_date=due))
    s.add(Document(company_id=company.id, contact_id=contact.id, kind="quote", status="sent",
                   due_date=date(2020, 1, 1)))
    s.commit()
    collector = DatabaseCollector(engine, clock=lambda: NOW)
    try:
        registry = build_registry(Health(("worker",), collector.ping), collector)
        value = registry.get_sample_value
        assert value("klerk_database_up") == 1
        assert value("klerk_jobs", {"kind": "inbox_message", "status": "queued"}) == 2
        assert value("klerk_jobs", {"kind": "inbox_message", "status": "failed"}) == 0
        assert value("klerk_jobs", {"kind": "receipt_reply", "status": "running"}) == 1
        assert value("klerk_jobs", {"kind": "payment", "status": "done"}) == 1
        assert value("klerk_job_oldest_runnable_age_seconds", {"kind": "inbox_message"}) == pytest.approx(90)
        assert value("klerk_job_oldest_runnable_age_seconds", {"kind": "receipt_reply"}) == pytest.approx(300)
        assert value("klerk_job_oldest_runnable_age_seconds", {"kind": "payment"}) == 0
        assert value("klerk_inbound_messages", {"status": "pending"}) == 1
        assert value("klerk_inbound_messages", {"status": "failed"}) == 0
        assert value("klerk_inbox_documents", {"status": "received"}) == 2
        assert value("klerk_inbox_documents", {"status": "checked"}) == 1
        assert value("klerk_notifications_pending") == 1
        assert value("klerk_invoices_open") == 2 and value("klerk_invoices_overdue") == 1
        assert value("klerk_role_up", {"role": "worker"}) == 1
    finally:
        collector.close()


def test_a_scrape_answers_when_the_database_does_not() -> None:
    down = sa.create_engine(f"postgresql+psycopg://klerk:klerk@127.0.0.1:{free_port()}/klerk")
    collector = DatabaseCollector(down, timeout=1.0)
    health = Health(("smtp",), collector.ping)
    started = time.monotonic()
    registry = build_registry(health, collector)
    assert registry.get_sample_value("klerk_database_up") == 0
    assert registry.get_sample_value("klerk_jobs", {"kind": "inbox_message", "status": "queued"}) is None
    status, body = health.report()
    assert status == 503 and body["database"].startswith("unreachable") and body["status"] == "error"
    assert time.monotonic() - started < 5
    collector.close()


def test_a_scrape_never_waits_long_behind_a_writer(engine) -> None:  # type: ignore[no-untyped-def]
    collector = DatabaseCollector(engine, clock=lambda: NOW, timeout=0.5)
    registry = build_registry(Health((), collector.ping), collector)
    try:
        with engine.begin() as writer:       # SQLite: BEGIN IMMEDIATE; PostgreSQL: the strongest table lock
            if engine.dialect.name == "postgresql":
                writer.exec_driver_sql("LOCK TABLE job IN ACCESS EXCLUSIVE MODE")
            writer.execute(sa.insert(Job.__table__).values(kind="inbox_message", payload={}, status="queued",  # type: ignore[attr-defined]
                                                           attempts=0, max_attempts=5, run_after=NOW, locked_by="",
                                                           last_error="", created_at=NOW))
            started = time.monotonic()
            up = registry.get_sample_value("klerk_database_up")
            elapsed = time.monotonic() - started
        if engine.dialect.name == "sqlite":   # WAL: the reader sees the last commit and does not wait
            assert up == 1 and elapsed < 0.5
            assert registry.get_sample_value("klerk_jobs", {"kind": "inbox_message", "status": "queued"}) == 1
        else:                                 # lock_timeout: the scrape gives up and says so
            assert up == 0 and elapsed < 3
            assert registry.get_sample_value("klerk_jobs", {"kind": "inbox_message", "status": "queued"}) == 1
    finally:
        collector.close()


# ---- liveness --------------------------------------------------------------------------------

def test_a_heartbeat_goes_stale_when_busy_too_long_but_not_while_waiting() -> None:
    clock = FakeClock()
    beat = Heartbeat("the worker role", max_busy=60, clock=clock)
    assert beat.check() is None                                   # no loop has reported yet
    beat.beat()
    clock.now += 61
    assert "busy for 61 s" in (beat.check() or "")
    beat.beat()
    assert beat.check() is None
    entered, release = threading.Event(), threading.Event()

    def idle_loop() -> None:
        with beat.waiting():
            entered.set()
            release.wait(10)

    other = threading.Thread(target=idle_loop)
    other.start()
    entered.wait(5)
    clock.now += 120                                             # this thread is busy, the other waits
    assert "MainThread" in (beat.check() or "")
    beat.beat()
    assert beat.check() is None                                  # waiting for work is not being stuck
    release.set()
    other.join()


def test_a_role_stop_is_the_heartbeat_of_the_loop_that_reads_it() -> None:
    clock, shared = FakeClock(), threading.Event()
    stop = RoleStop(shared, Heartbeat("the scheduler role", max_busy=10, clock=clock))
    assert not stop.is_set()
    clock.now += 11
    assert stop.heartbeat.check() is not None
    assert not stop.wait(0.01) and stop.heartbeat.check() is None
    stop.set()
    assert shared.is_set() and stop.is_set() and stop.wait(0)


# ---- logs --------------------------------------------------------------------------------------

def _capture(log_format: str) -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    logger = logging.getLogger(f"tests.observability.{log_format}")
    logger.handlers[:] = [make_log_handler(Settings(_env_file=None, log_format=log_format), ("worker",), stream)]
    logger.propagate, logger.level = False, logging.INFO
    return logger, stream


async def test_json_lines_carry_the_context_of_their_own_task() -> None:
    logger, stream = _capture("json")

    async def update(chat_id: int) -> None:
        with log_context(update_id=chat_id * 10, chat_id=chat_id):
            await asyncio.sleep(0.01)
            await asyncio.to_thread(logger.info, "handled %s", "update")

    with log_context(company_id=3):
        await asyncio.gather(update(1), update(2))
    logger.warning("outside")
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        logger.exception("job failed")
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert len(lines) == 4
    handled = sorted((line for line in lines[:2]), key=lambda line: line["chat_id"])
    assert [(h["chat_id"], h["update_id"], h["company_id"]) for h in handled] == [(1, 10, 3), (2, 20, 3)]
    for line in lines:
        assert {"time", "level", "logger", "message", "roles", "thread"} <= line.keys()
        assert line["roles"] == ["worker"] and line["time"].endswith("+00:00")
    assert lines[0]["message"] == "handled update" and lines[0]["level"] == "INFO"
    assert "chat_id" not in lines[2] and lines[2]["level"] == "WARNING"
    assert "RuntimeError: boom" in lines[3]["error"]


def test_text_lines_show_roles_and_context() -> None:
    logger, stream = _capture("text")
    with log_context(job_id=7, job_kind="inbox_message", company_id=None):
        logger.info("reading %d parts", 2)
    (line,) = stream.getvalue().splitlines()
    assert " INFO tests.observability.text [worker] reading 2 parts job_id=7 job_kind=inbox_message" in line
    assert "company_id" not in line


def test_unknown_log_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="KLERK_LOG_FORMAT"):
        make_log_handler(Settings(_env_file=None, log_format="xml"), ("web",))
    with pytest.raises(TypeError, match="unknown log field"):
        with log_context(email="eva@example.nl"):
            pass


# ---- /healthz, /metrics, klerk healthcheck -------------------------------------------------------

def _samples(text: str, name: str) -> dict[tuple, float]:
    return {tuple(sorted(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples if s.name == name}


def test_the_ops_server_answers_health_and_metrics(engine) -> None:  # type: ignore[no-untyped-def]
    problems: dict[str, str | None] = {"smtp": None}
    collector = DatabaseCollector(engine, clock=lambda: NOW)
    health = Health(("smtp",), collector.ping)
    health.add_check("smtp", lambda: problems["smtp"])
    server = HttpServer(build_ops_app(health, build_registry(health, collector)), "127.0.0.1", free_port()).start()
    base = f"http://127.0.0.1:{server.port}"
    try:
        ok = httpx.get(f"{base}/healthz")
        assert ok.status_code == 200 and ok.json() == {"status": "ok", "roles": ["smtp"], "database": "ok"}
        assert httpx.get(f"{base}/nothing-here").status_code == 404
        metrics = httpx.get(f"{base}/metrics")
        assert metrics.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
        requests = _samples(metrics.text, "klerk_http_requests_total")
        assert requests[(("method", "GET"), ("route", "/healthz"), ("status", "200"))] >= 1
        assert requests[(("method", "GET"), ("route", "unmatched"), ("status", "404"))] >= 1
        assert _samples(metrics.text, "klerk_role_up") == {(("role", "smtp"),): 1.0}
        assert _samples(metrics.text, "klerk_database_up") == {(): 1.0}
        assert "process_resident_memory_bytes" in metrics.text

        problems["smtp"] = "SMTP on 127.0.0.1:2525 does not answer (ConnectionRefusedError)"
        bad = httpx.get(f"{base}/healthz")
        assert bad.status_code == 503 and bad.json()["problems"] == {"smtp": problems["smtp"]}
        assert _samples(httpx.get(f"{base}/metrics").text, "klerk_role_up") == {(("role", "smtp"),): 0.0}
        runner = CliRunner()
        failed = runner.invoke(cli, ["healthcheck", "--url", f"{base}/healthz"])
        assert failed.exit_code == 1 and "HTTP 503" in failed.output and "does not answer" in failed.output
        problems["smtp"] = None
        passed = runner.invoke(cli, ["healthcheck", "--url", f"{base}/healthz"])
        assert passed.exit_code == 0 and '"status":"ok"' in passed.output
        health.stopping = True
        assert httpx.get(f"{base}/healthz").json()["problems"] == {"process": "stopping"}

        with pytest.raises(OSError, match=f"cannot listen for HTTP on 127.0.0.1:{server.port}"):
            HttpServer(build_ops_app(health, build_registry(health)), "127.0.0.1", server.port).start()
    finally:
        server.stop()
        collector.close()
    nobody = CliRunner().invoke(cli, ["healthcheck", "--url", f"{base}/healthz"])
    assert nobody.exit_code == 1 and "no answer" in nobody.output
