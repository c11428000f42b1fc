"""What makes the crash test pass quickly and safely: a short job lease that a busy worker renews, and
``worker_concurrency`` workers in one role that stop together."""
from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone

from sqlmodel import select

import ingest.reading
from core import jobs, storage
from core.extraction import Extraction
from core.models import Job
from core.settings import Settings
from ingest.__main__ import run_worker
from ingest.worker import Worker
from tests.conftest import NOW
from tests.ingest.conftest import DOMAIN, send
from tests.ingest.mails import WEBSHOP_HTML, mail

T0 = datetime(2026, 11, 30, 10, 0, tzinfo=timezone.utc)


def test_renew_extends_only_the_own_running_job(session) -> None:  # type: ignore[no-untyped-def]
    jobs.enqueue(session, "k", {}, run_after=T0)
    job = jobs.claim(session, ("k",), worker="a", now=T0, lease=timedelta(seconds=30))
    assert job is not None
    assert jobs.renew(session, job.id, worker="a", until=T0 + timedelta(seconds=90))
    assert not jobs.renew(session, job.id, worker="b", until=T0 + timedelta(hours=1))
    session.expire_all()
    assert session.get(Job, job.id).locked_until.replace(tzinfo=timezone.utc) == T0 + timedelta(seconds=90)
    assert jobs.claim(session, ("k",), worker="b", now=T0 + timedelta(seconds=60)) is None    # still a's
    jobs.complete(session, session.get(Job, job.id), now=T0)
    session.flush()
    assert not jobs.renew(session, job.id, worker="a", until=T0 + timedelta(hours=1))


class SlowReader:
    """The real reader, slowed down: a document that takes ``seconds`` to read."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def read_attachment(self, filename: str, content: bytes, mime: str) -> Extraction:
        time.sleep(self.seconds)
        return ingest.reading.read_attachment(filename, content, mime)

    def read_html_body(self, html: str) -> Extraction:
        time.sleep(self.seconds)
        return ingest.reading.read_html_body(html)


def test_a_busy_worker_keeps_its_job_past_the_lease(engine, inbox, smtp_ingest, make_worker) -> None:  # type: ignore[no-untyped-def]
    send(smtp_ingest, mail(to=inbox.address, html=WEBSHOP_HTML), to=inbox.address)
    start = time.monotonic()
    clock = lambda: NOW + timedelta(seconds=time.monotonic() - start)  # noqa: E731 - leases need time to pass
    busy = make_worker(reader=SlowReader(2.0), lease=timedelta(seconds=0.6), clock=clock, name="busy")
    other = make_worker(lease=timedelta(seconds=0.6), clock=clock, name="other")
    thread = threading.Thread(target=busy.run_once)
    thread.start()
    time.sleep(1.2)                              # twice the lease: without renewals "other" could take it
    taken = other.run_once()
    thread.join(timeout=10)
    assert not taken
    with storage.session_scope(engine) as s:
        [job] = s.exec(select(Job).where(Job.kind == "inbox_message")).all()
    assert (job.status, job.locked_by, job.attempts) == ("done", "busy", 1)


def test_worker_concurrency_runs_that_many_workers_that_stop_together(engine, inbox, store, smtp_ingest) -> None:  # type: ignore[no-untyped-def]
    for n in range(6):
        send(smtp_ingest, mail(to=inbox.address, html=WEBSHOP_HTML.replace("90817263", f"{n}")), to=inbox.address)
    stop = threading.Event()
    settings = Settings(ingest_domain=DOMAIN, worker_concurrency=3)

    def done() -> int:
        with storage.session_scope(engine) as s:
            return len(s.exec(select(Job).where(Job.kind == "inbox_message", Job.status == "done")).all())
    def workers() -> list[threading.Thread]:
        return [t for t in threading.enumerate() if t.name.startswith("worker-")]
    runner = threading.Thread(target=run_worker, args=(settings, engine, store, stop), kwargs={"isolated": False})
    runner.start()
    deadline = time.monotonic() + 60
    while done() < 6 and time.monotonic() < deadline:
        time.sleep(0.05)
    running = len(workers())
    stop.set()
    runner.join(timeout=15)
    assert running == 3 and done() == 6
    assert not runner.is_alive() and workers() == []
