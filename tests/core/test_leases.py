"""Named leases and the scheduler that runs under one: one copy works, a dead copy is replaced."""
from __future__ import annotations

import threading
from datetime import date, datetime, timedelta, timezone

from cryptography.fernet import Fernet
from sqlmodel import select

from core import leases, storage
from core.payments.models import Reminder
from core.secrets import SecretBox
from klerk.scheduler import Scheduler
from tests.payments.conftest import Shop

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=timezone.utc)
TTL = timedelta(seconds=60)


def test_lease_is_held_renewed_and_taken_over_after_it_runs_out(engine) -> None:  # type: ignore[no-untyped-def]
    with storage.session_scope(engine) as s:
        assert leases.acquire(s, "job", holder="a", now=T0, ttl=TTL)
    with storage.session_scope(engine) as s:
        assert not leases.acquire(s, "job", holder="b", now=T0 + timedelta(seconds=30), ttl=TTL)
        assert leases.acquire(s, "job", holder="a", now=T0 + timedelta(seconds=50), ttl=TTL)     # renewed
    with storage.session_scope(engine) as s:
        assert not leases.acquire(s, "job", holder="b", now=T0 + timedelta(seconds=100), ttl=TTL)
        assert leases.holder_of(s, "job", now=T0 + timedelta(seconds=100)) == "a"
        assert leases.acquire(s, "job", holder="b", now=T0 + timedelta(seconds=111), ttl=TTL)    # a went quiet
    with storage.session_scope(engine) as s:
        assert not leases.acquire(s, "job", holder="a", now=T0 + timedelta(seconds=112), ttl=TTL)
        leases.release(s, "job", holder="a")                  # not a's to release: nothing happens
        assert leases.holder_of(s, "job", now=T0 + timedelta(seconds=112)) == "b"
        leases.release(s, "job", holder="b")
        assert leases.holder_of(s, "job", now=T0 + timedelta(seconds=112)) is None


def test_many_copies_at_once_exactly_one_gets_the_lease(engine) -> None:  # type: ignore[no-untyped-def]
    for attempt in range(3):                       # a fresh name (insert race) and an expired one (update race)
        name = "race" if attempt else "fresh"
        now = T0 + timedelta(minutes=10 * attempt)
        winners: list[str] = []
        barrier = threading.Barrier(8)

        def contend(holder: str) -> None:
            barrier.wait()
            with storage.session_scope(engine) as s:
                if leases.acquire(s, name, holder=holder, now=now, ttl=TTL):
                    winners.append(holder)

        threads = [threading.Thread(target=contend, args=(f"copy-{i}-{attempt}",)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(winners) == 1, winners


def test_two_schedulers_one_round_each_interval_and_takeover(engine) -> None:  # type: ignore[no-untyped-def]
    shop = Shop(engine, SecretBox(Fernet.generate_key()), None)
    shop.invoice(today=date(2026, 11, 1), term_days=14)                 # due 15-11, overdue on 7-12
    now = [T0]
    a = Scheduler(engine, interval=600, lease=timedelta(seconds=120), clock=lambda: now[0], holder="machine-a")
    b = Scheduler(engine, interval=600, lease=timedelta(seconds=120), clock=lambda: now[0], holder="machine-b")
    assert a.tick == 40
    assert a.tick_once() is True and b.tick_once() is False
    with storage.session_scope(engine) as s:
        assert len(s.exec(select(Reminder)).all()) == 1
    now[0] += timedelta(seconds=40)
    assert a.tick_once() is False and b.tick_once() is False           # a renews; no round before the interval
    now[0] += timedelta(seconds=200)                                   # a died: no renewal for > 120 s
    assert b.tick_once() is True and b.holding
    assert a.tick_once() is False and not a.holding
    with storage.session_scope(engine) as s:
        assert len(s.exec(select(Reminder)).all()) == 1                # the round is idempotent, too


def test_a_scheduler_that_stops_hands_the_lease_back(engine) -> None:  # type: ignore[no-untyped-def]
    stop = threading.Event()
    a = Scheduler(engine, interval=0.05, lease=TTL, clock=lambda: datetime.now(timezone.utc), holder="a")
    thread = threading.Thread(target=a.run, args=(stop,))
    thread.start()
    for _ in range(100):
        if a.last_round is not None:
            break
        stop.wait(0.05)
    stop.set()
    thread.join(10)
    assert a.last_round is not None and not thread.is_alive()
    with storage.session_scope(engine) as s:
        assert leases.holder_of(s, "scheduler", now=datetime.now(timezone.utc)) is None
