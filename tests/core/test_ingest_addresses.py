"""Rotating a receipt address: only an owner, and one tap retires one address."""
from __future__ import annotations

import pytest

from core.companies import add_member
from core.errors import AccessDeniedError, ConflictError
from core.inbox.addresses import company_for_token, ingest_address, rotate_ingest_address
from core.models import Person, Role
from tests.conftest import NOW


def test_only_an_owner_rotates_and_a_stale_request_retires_nothing(session, make_company) -> None:  # type: ignore[no-untyped-def]
    company = make_company()
    owner, accountant = Person(name="Eva"), Person(name="Anna")
    session.add_all([owner, accountant])
    session.flush()
    add_member(session, company.id, owner.id, Role.OWNER)
    add_member(session, company.id, accountant.id, Role.ACCOUNTANT)
    first = ingest_address(session, company.id, now=NOW)
    with pytest.raises(AccessDeniedError):
        rotate_ingest_address(session, company.id, now=NOW, person_id=accountant.id, replacing=first.id)
    assert company_for_token(session, first.token) == company.id
    second = rotate_ingest_address(session, company.id, now=NOW, person_id=owner.id, replacing=first.id)
    with pytest.raises(ConflictError):                      # the same request again (an old button)
        rotate_ingest_address(session, company.id, now=NOW, person_id=owner.id, replacing=first.id)
    assert company_for_token(session, first.token) is None
    assert company_for_token(session, second.token) == company.id
    third = rotate_ingest_address(session, company.id, now=NOW)        # the host's own tools: no person
    assert company_for_token(session, second.token) is None and company_for_token(session, third.token) == company.id
