"""Invitations into a company: single use, expiring, stored only as a hash."""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlmodel import Session, select

from core.companies import add_member
from core.errors import ConflictError, NotFoundError
from core.models import Invite, Membership, Person, Role

DEFAULT_TTL = timedelta(days=7)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_invite(session: Session, company_id: int, role: Role, *, created_by: int | None, now: datetime,
                  ttl: timedelta = DEFAULT_TTL) -> str:
    """A new token (URL-safe, 128 bits); only its hash is stored."""
    token = "inv_" + secrets.token_urlsafe(16)
    session.add(Invite(company_id=company_id, role=role, token_hash=_hash(token), created_by=created_by,
                       expires_at=now + ttl))
    session.flush()
    return token


def redeem_invite(session: Session, token: str, person: Person, *, now: datetime) -> Membership:
    invite = session.exec(select(Invite).where(Invite.token_hash == _hash(token)).with_for_update()).first()
    if invite is None:
        raise NotFoundError("invite")
    if invite.used_at is not None:
        raise ConflictError("invite already used")
    expires = invite.expires_at if invite.expires_at.tzinfo else invite.expires_at.replace(tzinfo=now.tzinfo)
    if expires < now:
        raise ConflictError("invite expired")
    invite.used_at, invite.used_by = now, person.id
    session.add(invite)
    return add_member(session, invite.company_id, person.id, Role(invite.role))
