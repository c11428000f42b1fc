"""Named leases in the database: "only one copy of this runs at a time", across processes and machines.

The scheduler takes the lease ``scheduler`` before each round and renews it while it works; a second
copy (on another machine, or a restarted one) finds the lease held and skips the round. A holder
that dies (``kill -9``) stops renewing; the lease runs out and another copy takes over. One UPDATE
with a condition decides who holds it, so the rule is the same on SQLite and PostgreSQL (no
advisory lock that only PostgreSQL has, and no session that must stay open while the work runs).
"""
from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session

from core.leases.models import Lease


def acquire(session: Session, name: str, *, holder: str, now: datetime, ttl: timedelta) -> bool:
    """Take or renew ``name`` for ``holder`` until ``now + ttl``; False when another holder has it."""
    until = now + ttl
    taken = session.execute(
        sa.update(Lease)
        .where(Lease.name == name, sa.or_(Lease.holder == holder, Lease.expires_at < now))
        .values(holder=holder, expires_at=until)
    ).rowcount
    if taken:
        return True
    if session.get(Lease, name) is not None:
        return False
    try:
        with session.begin_nested():
            session.add(Lease(name=name, holder=holder, expires_at=until))
    except sa.exc.IntegrityError:       # another copy inserted it first
        return False
    return True


def release(session: Session, name: str, *, holder: str) -> None:
    session.execute(sa.delete(Lease).where(Lease.name == name, Lease.holder == holder))


def holder_of(session: Session, name: str, *, now: datetime) -> str | None:
    lease = session.get(Lease, name)
    return lease.holder if lease is not None and lease.expires_at >= now else None
