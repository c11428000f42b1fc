"""/help, /cancel, languages, invitations and the isolation attacks, through the real Application."""
from __future__ import annotations

from datetime import timedelta

from bot.callbacks import pack
from core import storage
from core.companies import add_member, create_company, get_or_create_person
from core.invites import create_invite
from core.models import Membership, Role
from sqlmodel import select
from tests.conftest import NOW, SELLER


def _company(engine, name: str, owner_tg: int) -> int:  # type: ignore[no-untyped-def]
    with storage.session_scope(engine) as s:
        person = get_or_create_person(s, telegram_user_id=owner_tg, name="Eva")
        company = create_company(s, name, owner=person, **{**SELLER, "trade_name": ""})
        return company.id


def _invite(engine, company_id: int, role: Role, *, ttl=timedelta(days=7)) -> str:  # type: ignore[no-untyped-def]
    with storage.session_scope(engine) as s:
        return create_invite(s, company_id, role, created_by=None, now=NOW, ttl=ttl)


async def test_help_for_a_newcomer_and_set_commands(chat, bot_app) -> None:  # type: ignore[no-untyped-def]
    eva = chat(5001)
    replies = await eva.send("/help")
    assert "/start" in eva.texts(replies)
    methods = [c.method for c in bot_app.bot_data["request"].calls]
    assert methods.count("setMyCommands") == 3          # nl, en and the default


async def test_cancel_without_a_flow_and_unknown_command(chat) -> None:  # type: ignore[no-untyped-def]
    eva = chat(5001)
    assert "niets te stoppen" in eva.texts(await eva.send("/cancel")).lower()
    assert "/help" in eva.texts(await eva.send("/bestaatniet"))


async def test_language_switch_to_english_sticks(chat) -> None:  # type: ignore[no-untyped-def]
    eva = chat(5001)
    await eva.send("/taal")
    assert "English" in eva.texts(await eva.tap("English"))
    assert "start with /start" in eva.texts(await eva.send("/help")).lower()


async def test_invite_link_is_single_use(chat, engine) -> None:  # type: ignore[no-untyped-def]
    company_id = _company(engine, "Studio Vos", 5001)
    token = _invite(engine, company_id, Role.ACCOUNTANT)
    bob = chat(6001, first_name="Bob")
    assert "Studio Vos" in bob.texts(await bob.send(f"/start {token}"))
    carol = chat(6002, first_name="Carol")
    assert "niet geldig" in carol.texts(await carol.send(f"/start {token}"))
    with storage.session_scope(engine) as s:
        roles = [m.role for m in s.exec(select(Membership).where(Membership.company_id == company_id))]
    assert sorted(roles) == ["accountant", "owner"]


async def test_expired_invite_is_refused(chat, engine, clock) -> None:  # type: ignore[no-untyped-def]
    company_id = _company(engine, "Studio Vos", 5001)
    token = _invite(engine, company_id, Role.STAFF, ttl=timedelta(hours=1))
    clock.now = NOW + timedelta(hours=2)
    bob = chat(6001)
    assert "niet geldig" in bob.texts(await bob.send(f"/start {token}"))


async def test_forged_and_foreign_buttons_change_nothing(chat, engine, services) -> None:  # type: ignore[no-untyped-def]
    mine = _company(engine, "Mine", 5001)
    theirs = _company(engine, "Theirs", 5002)
    eva = chat(5001)
    forged = "start.company|%d|AAAAAAA" % theirs
    assert "niet (meer) geldig" in eva.texts(await eva.press(forged))
    # data signed for another chat (replayed from Mallory's chat) fails as well
    replayed = pack(services.secret, 5002, "start.company", theirs)
    assert "niet (meer) geldig" in eva.texts(await eva.press(replayed))
    # a correctly signed button for a company she is not a member of: refused by core
    signed = pack(services.secret, 5001, "start.company", theirs)
    assert "mag je niet" in eva.texts(await eva.press(signed))
    with storage.session_scope(engine) as s:
        assert [m.company_id for m in s.exec(select(Membership).where(Membership.person_id == 1))] == [mine]


async def test_switching_between_companies(chat, engine) -> None:  # type: ignore[no-untyped-def]
    first = _company(engine, "Eerste", 5001)
    second = _company(engine, "Tweede", 5009)
    with storage.session_scope(engine) as s:
        eva = get_or_create_person(s, telegram_user_id=5001)
        add_member(s, second, eva.id, Role.STAFF)
    driver = chat(5001)
    await driver.send("/bedrijf")
    assert "Tweede" in driver.texts(await driver.tap("Tweede"))
    await driver.send("/bedrijf")
    assert any(label.startswith("✅ Tweede") for label, _ in driver.buttons())
    assert first
