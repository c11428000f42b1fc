"""A small job queue in the database: ``enqueue`` in the transaction that creates the work, ``claim``
in a worker. On PostgreSQL ``FOR UPDATE SKIP LOCKED`` lets any number of workers on any number of
machines take different jobs; on SQLite, ``BEGIN IMMEDIATE`` serialises the claim. A claim is a
lease: a worker killed with ``kill -9`` leaves a running job whose lease runs out, and the job is
taken again (so job handlers must be idempotent). A worker that is still busy ``renew``s its lease,
so the lease can be short (a crashed worker's jobs come back soon) whatever a job takes.
"""
from __future__ import annotations

import traceback
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, select

from core.models import Job


def enqueue(session: Session, kind: str, payload: dict, *, company_id: int | None = None,
            dedupe_key: str | None = None, run_after: datetime | None = None,
            max_attempts: int = 5) -> Job | None:
    if dedupe_key is not None:
        if session.exec(select(Job.id).where(Job.dedupe_key == dedupe_key)).first() is not None:
            return None
    job = Job(kind=kind, payload=payload, company_id=company_id, dedupe_key=dedupe_key,
              max_attempts=max_attempts, **({"run_after": run_after} if run_after else {}))
    session.add(job)
    session.flush()
    return job


def claim(session: Session, kinds: tuple[str, ...], *, worker: str, now: datetime,
          lease: timedelta = timedelta(minutes=5)) -> Job | None:
    """Take the oldest runnable job of ``kinds`` (queued and due, or running with an expired lease)."""
    runnable = sa.or_(
        sa.and_(Job.status == "queued", Job.run_after <= now),
        sa.and_(Job.status == "running", Job.locked_until < now),
    )
    stmt = select(Job).where(Job.kind.in_(kinds), runnable).order_by(Job.run_after, Job.id).limit(1)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    job = session.exec(stmt.execution_options(populate_existing=True)).first()
    if job is None:
        return None
    job.status, job.locked_by, job.locked_until = "running", worker, now + lease
    job.attempts += 1
    session.add(job)
    session.flush()
    return job


def renew(session: Session, job_id: int, *, worker: str, until: datetime) -> bool:
    """Extend the lease of a job ``worker`` is still running; False when it is no longer its job (the
    lease ran out and another worker took it, or it finished)."""
    result = session.execute(sa.update(Job).where(Job.id == job_id, Job.status == "running",
                                                  Job.locked_by == worker).values(locked_until=until))
    return result.rowcount == 1


def complete(session: Session, job: Job, *, now: datetime) -> None:
    job.status, job.finished_at, job.locked_until = "done", now, None
    session.add(job)


def fail(session: Session, job: Job, error: BaseException | str, *, now: datetime) -> None:
    """Record the error; retry with back-off until ``max_attempts``, then ``failed``."""
    text = error if isinstance(error, str) else "".join(traceback.format_exception(error))
    job.last_error = text[-4000:]
    job.locked_until = None
    if job.attempts >= job.max_attempts:
        job.status, job.finished_at = "failed", now
    else:
        job.status = "queued"
        job.run_after = now + timedelta(seconds=min(3600, 5 * 4 ** (job.attempts - 1)))
    session.add(job)


def counts(session: Session) -> dict[str, int]:
    rows = session.exec(select(Job.status, sa.func.count()).group_by(Job.status)).all()
    return {status: n for status, n in rows}
