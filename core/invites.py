"""Invitations into a company: single use, expiring, stored only as a hash.

Owners invite staff and the accountant (``core.team``). An invitation for an *owner* exists only for
a company that has nobody in it yet: whoever hosts Klerk (a bookkeeping office for its clients)
creates the company and hands its first owner a link (``invite_first_owner``); once the company has
an owner, every other owner invitation for it is refused."""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlmodel import Session, select

from core.companies import add_member, company_members
from core.company_settings import get_setting, set_setting
from core.errors import ConflictError, NotFoundError
from core.models import Company, Invite, Membership, Person, Role

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


def invite_first_owner(session: Session, company_id: int, *, now: datetime, ttl: timedelta = DEFAULT_TTL) -> str:
    """A token for the first owner of a company that has no members yet. The company's set-up
    conversation is marked as begun, so the owner continues it in the chat (``/start``) with the name
    already filled in. ``ConflictError`` once the company has members."""
    from core.onboarding import PROGRESS_KEY, STEPS   # local: onboarding loads the PDF renderer

    _lock_company(session, company_id)
    if company_members(session, company_id):
        raise ConflictError("the company already has members: its owner invites people with /team")
    if get_setting(session, company_id, PROGRESS_KEY) is None:
        set_setting(session, company_id, PROGRESS_KEY, STEPS[0])
    return create_invite(session, company_id, Role.OWNER, created_by=None, now=now, ttl=ttl)


def _lock_company(session: Session, company_id: int) -> Company:
    company = session.exec(select(Company).where(Company.id == company_id).with_for_update()).first()
    if company is None:
        raise NotFoundError(f"company {company_id}")
    return company


def redeem_invite(session: Session, token: str, person: Person, *, now: datetime) -> Membership:
    invite = session.exec(select(Invite).where(Invite.token_hash == _hash(token)).with_for_update()).first()
    if invite is None:
        raise NotFoundError("invite")
    if invite.used_at is not None:
        raise ConflictError("invite already used")
    expires = invite.expires_at if invite.expires_at.tzinfo else invite.expires_at.replace(tzinfo=now.tzinfo)
    if expires < now:
        raise ConflictError("invite expired")
    if Role(invite.role) is Role.OWNER:
        _lock_company(session, invite.company_id)      # two owner links opened at once: one wins
        if any(role is Role.OWNER for _, role in company_members(session, invite.company_id)):
            raise ConflictError("the company has an owner already")
    invite.used_at, invite.used_by = now, person.id
    session.add(invite)
    return add_member(session, invite.company_id, person.id, Role(invite.role))
