"""The scheduler's lease and round: reminders, quote nudges and KOR warnings, by one copy at a time.

Any number of copies may run (one per machine, say, for redundancy). The copy that holds the lease
``scheduler`` in the database does the rounds and renews the lease well before it runs out; the
others only try to take it. A copy that dies stops renewing, and another takes over once the lease
has run out. The round itself is idempotent, so a copy that loses its lease halfway (paused for
longer than the lease) does no harm either.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.engine import Engine

from core import leases, storage
from core.payments.reminders import SchedulerRun, run_due_reminders

LEASE = "scheduler"


def hold(engine: Engine, *, holder: str, now: datetime, ttl: timedelta) -> bool:
    """Take or renew the scheduler lease; False when another copy holds it."""
    with storage.session_scope(engine) as session:
        return leases.acquire(session, LEASE, holder=holder, now=now, ttl=ttl)


def scheduled_round(engine: Engine, *, now: datetime) -> SchedulerRun:
    with storage.session_scope(engine) as session:
        return run_due_reminders(session, today=now.date(), now=now)


def step_down(engine: Engine, *, holder: str) -> None:
    """Give the lease back (on a clean stop), so another copy need not wait for it to run out."""
    with storage.session_scope(engine) as session:
        leases.release(session, LEASE, holder=holder)
