"""The job queue hands each job to one worker; the outbox announces a fact once."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from core import storage
from core.jobs import claim, complete, enqueue, fail
from core.models import Job
from core.outbox import due_notifications, mark_failed, mark_sent, notify
from tests.conftest import NOW


def test_each_job_is_claimed_by_exactly_one_worker(engine) -> None:  # type: ignore[no-untyped-def]
    with storage.session_scope(engine) as s:
        for i in range(40):
            enqueue(s, "receipt", {"n": i}, run_after=NOW)

    def work(worker: str) -> list[int]:
        taken = []
        while True:
            with storage.session_scope(engine) as s:
                job = claim(s, ("receipt",), worker=worker, now=NOW)
                if job is None:
                    return taken
                taken.append(job.payload["n"])
                complete(s, job, now=NOW)

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(work, ["w1", "w2", "w3", "w4"]))
    flat = [n for r in results for n in r]
    assert sorted(flat) == list(range(40))


def test_a_crashed_workers_lease_runs_out_and_failures_back_off(engine) -> None:  # type: ignore[no-untyped-def]
    with storage.session_scope(engine) as s:
        enqueue(s, "mail", {}, dedupe_key="invoice-1-mail", run_after=NOW)
        assert enqueue(s, "mail", {}, dedupe_key="invoice-1-mail") is None
    with storage.session_scope(engine) as s:
        job = claim(s, ("mail",), worker="dies", now=NOW, lease=timedelta(minutes=1))
        assert job is not None                               # ... and the worker is killed here
    with storage.session_scope(engine) as s:
        assert claim(s, ("mail",), worker="other", now=NOW + timedelta(seconds=30)) is None
        job = claim(s, ("mail",), worker="other", now=NOW + timedelta(minutes=2))
        assert job is not None and job.attempts == 2
        fail(s, job, "relay down", now=NOW + timedelta(minutes=2))
    with storage.session_scope(engine) as s:
        job = s.get(Job, job.id)
        assert job.status == "queued" and job.run_after > NOW + timedelta(minutes=2)
        job.attempts = job.max_attempts - 1
        again = claim(s, ("mail",), worker="w", now=job.run_after)
        fail(s, again, "still down", now=job.run_after)
        assert again.status == "failed"


def test_outbox_dedupes_and_retries(session, make_company) -> None:  # type: ignore[no-untyped-def]
    company = make_company()
    note = notify(session, company.id, "invoice_paid", {"invoice": 1}, dedupe_key="paid-1", now=NOW)
    assert notify(session, company.id, "invoice_paid", {"invoice": 1}, dedupe_key="paid-1", now=NOW) is None
    assert due_notifications(session, now=NOW) == [note]
    mark_failed(session, note, "telegram down", now=NOW)
    assert due_notifications(session, now=NOW) == []
    assert due_notifications(session, now=NOW + timedelta(minutes=1)) == [note]
    mark_sent(session, note, now=NOW)
    assert due_notifications(session, now=NOW + timedelta(hours=2)) == []


def test_bot_processes_claim_each_notification_once_and_a_dead_ones_come_back(engine) -> None:  # type: ignore[no-untyped-def]
    """Several bot processes (webhook scale-out) deliver from one outbox: no message twice."""
    import threading

    from core import storage
    from core.companies import create_company
    from core.outbox import claim_notifications

    with storage.session_scope(engine) as s:
        company_id = create_company(s, "Studio Vos").id
        for i in range(40):
            notify(s, company_id, "invoice_paid", {"invoice": i}, now=NOW)
    taken: list[int] = []
    barrier = threading.Barrier(4)

    def bot_process() -> None:
        barrier.wait()
        while True:
            with storage.session_scope(engine) as s:
                notes = claim_notifications(s, now=NOW, limit=3)
                taken.extend(n.id for n in notes)
            if not notes:
                return

    threads = [threading.Thread(target=bot_process) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(taken) == list(range(1, 41))
    with storage.session_scope(engine) as s:              # nobody marked them sent: they come back after the lease
        assert claim_notifications(s, now=NOW + timedelta(minutes=1)) == []
        assert len(claim_notifications(s, now=NOW + timedelta(minutes=3))) == 40
