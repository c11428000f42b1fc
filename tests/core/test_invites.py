"""Invitations for the first owner of a company made by whoever hosts Klerk (``klerk admin company-add``)."""
from __future__ import annotations

from datetime import timedelta

import pytest

from core import storage
from core.companies import company_members, create_company, get_or_create_person, list_companies
from core.company_settings import get_setting, set_setting
from core.errors import ConflictError, NotFoundError
from core.invites import invite_first_owner, redeem_invite
from core.models import Role
from core.onboarding import current_progress
from tests.conftest import NOW


def test_the_first_owner_joins_and_continues_the_set_up(session) -> None:  # type: ignore[no-untyped-def]
    company = create_company(session, "Bakkerij Jansen")
    token = invite_first_owner(session, company.id, now=NOW)
    assert get_setting(session, company.id, "onboarding_step") == "language"
    anna = get_or_create_person(session, telegram_user_id=7001, name="Anna")
    membership = redeem_invite(session, token, anna, now=NOW + timedelta(days=1))
    assert (membership.company_id, Role(membership.role)) == (company.id, Role.OWNER)
    progress, role = current_progress(session, company.id, anna.id, today=NOW.date())
    assert (progress.step, role, progress.company["name"]) == ("language", Role.OWNER, "Bakkerij Jansen")
    assert [(p.name, r) for p, r in company_members(session, company.id)] == [("Anna", Role.OWNER)]
    assert [c.id for c in list_companies(session)] == [company.id]


def test_only_one_owner_link_wins_and_none_once_there_are_members(session) -> None:  # type: ignore[no-untyped-def]
    company = create_company(session, "Studio Vos")
    first, second = (invite_first_owner(session, company.id, now=NOW) for _ in range(2))
    redeem_invite(session, first, get_or_create_person(session, telegram_user_id=7001, name="Eva"), now=NOW)
    mallory = get_or_create_person(session, telegram_user_id=7666, name="Mallory")
    with pytest.raises(ConflictError):
        redeem_invite(session, second, mallory, now=NOW)
    with pytest.raises(ConflictError):
        invite_first_owner(session, company.id, now=NOW)
    assert [(p.name, r) for p, r in company_members(session, company.id)] == [("Eva", Role.OWNER)]
    with pytest.raises(NotFoundError):
        invite_first_owner(session, 999_999, now=NOW)


def test_a_set_up_already_done_is_not_restarted(engine) -> None:  # type: ignore[no-untyped-def]
    with storage.session_scope(engine) as s:
        company_id = create_company(s, "Kantoor").id
        invite_first_owner(s, company_id, now=NOW, ttl=timedelta(hours=1))
    with storage.session_scope(engine) as s:
        set_setting(s, company_id, "onboarding_step", "city")
        invite_first_owner(s, company_id, now=NOW)          # the first link expired: a new one
        assert get_setting(s, company_id, "onboarding_step") == "city"
