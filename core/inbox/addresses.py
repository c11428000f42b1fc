"""Ingest addresses: ``bon-<token>@<domain>``, one active per company, unguessable, rotatable.

The token carries 160 random bits (base32, lower case). Rotating retires the old address at once:
mail to it is refused (550) from then on, which is the point of rotating a leaked address.
"""
from __future__ import annotations

import base64
import re
import secrets
from datetime import datetime

from sqlmodel import Session, select

from core.companies import require_role
from core.errors import ConflictError, NotFoundError
from core.inbox.models import IngestAddress
from core.models import Company, Role

PREFIX = "bon-"
_TOKEN = re.compile(r"^[a-z2-7]{32}$")


def new_token() -> str:
    return base64.b32encode(secrets.token_bytes(20)).decode("ascii").lower().rstrip("=")


def address_of(address: IngestAddress, domain: str) -> str:
    return f"{PREFIX}{address.token}@{domain.lower()}"


def token_from_address(address: str, domain: str) -> str | None:
    """The token of ``bon-<token>@<domain>`` (case-insensitive), or None for any other address."""
    local, at, host = (address or "").strip().strip("<>").rpartition("@")
    if not at or host.lower().rstrip(".") != domain.lower() or not local.lower().startswith(PREFIX):
        return None
    token = local[len(PREFIX):].lower()
    return token if _TOKEN.match(token) else None


def ingest_address(session: Session, company_id: int, *, now: datetime) -> IngestAddress:
    """The company's active address; made on first use."""
    if session.get(Company, company_id) is None:
        raise NotFoundError("no such company")
    current = session.exec(select(IngestAddress).where(
        IngestAddress.company_id == company_id, IngestAddress.active.is_(True))).first()
    if current is not None:
        return current
    address = IngestAddress(company_id=company_id, token=new_token(), created_at=now)
    session.add(address)
    session.flush()
    return address


def rotate_ingest_address(session: Session, company_id: int, *, now: datetime, person_id: int | None = None,
                          replacing: int | None = None) -> IngestAddress:
    """Retire the active address (mail to it is refused from now on) and make a new one.
    ``person_id``: who asks — only an owner may (None: the host's own tools). ``replacing``: the id of
    the address the owner saw; if that one was replaced meanwhile (an old button tapped again), a
    ``ConflictError`` — one tap retires one address, never the new one as well."""
    if person_id is not None:
        require_role(session, company_id, person_id, Role.OWNER)
    active = list(session.exec(select(IngestAddress).where(
        IngestAddress.company_id == company_id, IngestAddress.active.is_(True)).with_for_update()))
    if replacing is not None and replacing not in [a.id for a in active]:
        raise ConflictError(f"address {replacing} of company {company_id} was already replaced")
    for old in active:
        old.active, old.retired_at = False, now
        session.add(old)
    session.flush()
    return ingest_address(session, company_id, now=now)


def company_for_token(session: Session, token: str) -> int | None:
    """The company an active token belongs to (None: unknown or retired)."""
    return session.exec(select(IngestAddress.company_id).where(
        IngestAddress.token == token, IngestAddress.active.is_(True))).first()


def is_ingest_address(address: str, domain: str) -> bool:
    """Any address of the ingest form (active or not): never send automatic replies there."""
    return token_from_address(address, domain) is not None
