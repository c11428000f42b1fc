"""The notification outbox: write in the same transaction as the fact; the bot delivers later."""
from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, select

from core.models import Membership, Notification, Person, Role


def notify(session: Session, company_id: int, kind: str, payload: dict, *, person_id: int | None = None,
           dedupe_key: str | None = None, now: datetime | None = None) -> Notification | None:
    """Queue a message. With ``dedupe_key`` the same fact is announced once (None if already queued).
    ``now``: the moment of the fact (due for delivery from then); default the wall clock."""
    if dedupe_key is not None:
        exists = session.exec(select(Notification.id).where(Notification.dedupe_key == dedupe_key)).first()
        if exists is not None:
            return None
    note = Notification(company_id=company_id, person_id=person_id, kind=kind, payload=payload,
                        dedupe_key=dedupe_key, **({"created_at": now, "next_attempt_at": now} if now else {}))
    session.add(note)
    session.flush()
    return note


def due_notifications(session: Session, *, now: datetime, limit: int = 50) -> list[Notification]:
    return list(session.exec(select(Notification).where(
        Notification.sent_at.is_(None), Notification.next_attempt_at <= now,
    ).order_by(Notification.id).limit(limit)))


def claim_notifications(session: Session, *, now: datetime, lease: timedelta = timedelta(minutes=2),
                        limit: int = 50) -> list[Notification]:
    """Take the due notifications for delivery by this process: each is pushed ``lease`` into the
    future, so another bot process (scale-out) skips it; ``mark_sent`` / ``mark_failed`` settle it.
    A process that dies while delivering leaves its notes to come back after the lease (at least once).
    On PostgreSQL ``SKIP LOCKED`` lets processes claim side by side; SQLite's write lock serialises."""
    stmt = select(Notification).where(Notification.sent_at.is_(None), Notification.next_attempt_at <= now)
    stmt = stmt.order_by(Notification.id).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    notes = list(session.exec(stmt.execution_options(populate_existing=True)))
    for note in notes:
        note.next_attempt_at = now + lease
        session.add(note)
    session.flush()
    return notes


def recipients(session: Session, note: Notification) -> list[Person]:
    """The people a notification goes to (with a Telegram account)."""
    stmt = select(Person).join(Membership, Membership.person_id == Person.id).where(
        Membership.company_id == note.company_id, Person.telegram_user_id.is_not(None))
    if note.person_id is not None:
        stmt = stmt.where(Person.id == note.person_id)
    else:
        stmt = stmt.where(Membership.role.in_([Role.OWNER.value, Role.STAFF.value]))
    return list(session.exec(stmt.order_by(Person.id)))


def mark_sent(session: Session, note: Notification, *, now: datetime) -> None:
    note.sent_at = now
    session.add(note)


def mark_failed(session: Session, note: Notification, error: str, *, now: datetime) -> None:
    """Retry with back-off (30 s, 1 min, 2 min, ... up to an hour)."""
    note.attempts += 1
    note.last_error = error[:1000]
    note.next_attempt_at = now + timedelta(seconds=min(3600, 30 * 2 ** (note.attempts - 1)))
    session.add(note)


def pending_count(session: Session) -> int:
    return session.exec(select(sa.func.count()).select_from(Notification).where(
        Notification.sent_at.is_(None))).one()
