"""The people of a company: who is in it with which role, inviting and removing them.

Only the owner manages the team. Staff work in the company but cannot invite or remove anyone; the
accountant reads. The owner invites staff or an accountant (another owner is not invited: ownership
is not handed out by a link); a company always keeps an owner, so an owner cannot remove herself.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, select

from core.companies import get_company, require_role
from core.errors import NotFoundError, ValidationError
from core.invites import DEFAULT_TTL, create_invite
from core.models import Membership, Person, Role

INVITABLE = (Role.STAFF, Role.ACCOUNTANT)


@dataclass(frozen=True)
class Member:
    membership_id: int
    person_id: int
    name: str
    role: Role


@dataclass(frozen=True)
class Invitation:
    token: str
    role: Role
    expires_at: datetime
    company_name: str


def team_members(session: Session, company_id: int, person_id: int) -> list[Member]:
    """Everyone in the company (any member may see who else is in it), owners first."""
    require_role(session, company_id, person_id)
    rows = session.exec(select(Membership, Person).join(Person, Person.id == Membership.person_id)
                        .where(Membership.company_id == company_id).order_by(Membership.id))
    order = {Role.OWNER: 0, Role.STAFF: 1, Role.ACCOUNTANT: 2}
    members = [Member(m.id, p.id, p.name, Role(m.role)) for m, p in rows]
    return sorted(members, key=lambda m: (order[m.role], m.membership_id))


def invite_member(session: Session, company_id: int, person_id: int, role: Role | str, *, now: datetime,
                  ttl: timedelta = DEFAULT_TTL) -> Invitation:
    """A single-use invitation token for staff or an accountant (owner only)."""
    require_role(session, company_id, person_id, Role.OWNER)
    try:
        wanted = Role(role)
    except ValueError:
        raise ValidationError("role", "Not one of: {choices}", choices="staff, accountant") from None
    if wanted not in INVITABLE:
        raise ValidationError("role", "Not one of: {choices}", choices="staff, accountant")
    token = create_invite(session, company_id, wanted, created_by=person_id, now=now, ttl=ttl)
    company = get_company(session, company_id)
    return Invitation(token=token, role=wanted, expires_at=now + ttl,
                      company_name=company.trade_name or company.name)


def remove_member(session: Session, company_id: int, person_id: int, membership_id: int) -> Member:
    """Remove someone from the company (owner only; never yourself, never the last owner)."""
    require_role(session, company_id, person_id, Role.OWNER)
    membership = session.get(Membership, membership_id)
    if membership is None or membership.company_id != company_id:
        raise NotFoundError(f"membership {membership_id}")
    if membership.person_id == person_id:
        raise ValidationError("member", "You cannot remove yourself from your own company.")
    person = session.get(Person, membership.person_id)
    removed = Member(membership.id, membership.person_id, person.name if person else "", Role(membership.role))
    session.delete(membership)
    session.flush()
    return removed


def get_member(session: Session, company_id: int, person_id: int, membership_id: int) -> Member:
    for member in team_members(session, company_id, person_id):
        if member.membership_id == membership_id:
            return member
    raise NotFoundError(f"membership {membership_id}")
