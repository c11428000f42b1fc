"""/team through the real Application: the owner invites staff and the accountant with a single-use
deep link (redeemed by /start in another chat), lists and removes members; staff and the accountant
cannot manage the team; the accountant cannot create or edit contacts.
"""
from __future__ import annotations

import re

from sqlmodel import select

from bot.callbacks import pack
from core import storage
from core.models import Contact, Invite, Membership, Person, Role
from tests.bot.harness import BOT_USERNAME
from tests.bot.test_settings import join, make_company

LINK = re.compile(r"https://t\.me/(\w+)\?start=(inv_[A-Za-z0-9_-]+)")


def members(engine, company_id: int) -> dict[str, str]:  # type: ignore[no-untyped-def]
    with storage.session_scope(engine) as s:
        rows = s.exec(select(Membership, Person).join(Person, Person.id == Membership.person_id)
                      .where(Membership.company_id == company_id))
        return {person.name: str(getattr(m.role, "value", m.role)) for m, person in rows}


def invites(engine, company_id: int) -> int:  # type: ignore[no-untyped-def]
    with storage.session_scope(engine) as s:
        return len(list(s.exec(select(Invite).where(Invite.company_id == company_id))))


async def test_owner_invites_the_accountant_and_a_colleague(chat, engine) -> None:  # type: ignore[no-untyped-def]
    company_id = make_company(engine)
    eva = chat(5001)
    replies = await eva.send("/team")
    assert "Eva: eigenaar (jij)" in eva.texts(replies)
    replies = await eva.tap("Nodig de boekhouder uit")
    text = eva.texts(replies)
    bot_name, token = LINK.search(text).groups()
    assert bot_name == BOT_USERNAME and "als boekhouder" in text and "7 december 2026" in text
    assert len(f"https://t.me/{bot_name}?start={token}") < 100 and len(token) <= 64

    anna = chat(6001, first_name="Anna")
    assert "Welkom! Je werkt nu in Studio Vos als boekhouder" in anna.texts(await anna.send(f"/start {token}"))
    mallory = chat(6666, first_name="Mallory")
    assert "niet geldig" in mallory.texts(await mallory.send(f"/start {token}"))     # single use

    await eva.send("/team")
    _, staff_token = LINK.search(eva.texts(await eva.tap("Nodig een collega uit"))).groups()
    carol = chat(6002, first_name="Carol")
    assert "als medewerker" in carol.texts(await carol.send(f"/start {staff_token}"))
    team = eva.texts(await eva.send("/team"))
    assert "Anna: boekhouder" in team and "Carol: medewerker" in team
    assert members(engine, company_id) == {"Eva": "owner", "Anna": "accountant", "Carol": "staff"}
    assert "Mallory" not in members(engine, company_id)


async def test_team_in_english(chat, engine) -> None:  # type: ignore[no-untyped-def]
    company_id = make_company(engine, 5002, language="en")
    join(engine, company_id, 6003, Role.STAFF, name="Dirk")
    eva = chat(5002, language="en")
    team = eva.texts(await eva.send("/team"))
    assert "Who works in this company" in team and "Eva: owner (you)" in team and "Dirk: staff" in team
    text = eva.texts(await eva.tap("Invite the accountant"))
    assert "Send this link to your accountant" in text and "7 December 2026" in text
    assert LINK.search(text)


async def test_staff_and_accountant_cannot_manage_the_team(chat, engine, services) -> None:  # type: ignore[no-untyped-def]
    company_id = make_company(engine)
    join(engine, company_id, 6001, Role.ACCOUNTANT, name="Anna")
    join(engine, company_id, 6002, Role.STAFF, name="Carol")
    for user_id in (6001, 6002):
        person = chat(user_id)
        text = person.texts(await person.send("/team"))
        assert "Eva: eigenaar" in text and "Alleen de eigenaar" in text
        assert person.buttons() == []
        for data in (pack(services.secret, user_id, "team.inv", "staff"),
                     pack(services.secret, user_id, "team.inv", "owner"),
                     pack(services.secret, user_id, "team.rmy", 1)):
            assert "mag je niet" in person.texts(await person.press(data))
    assert invites(engine, company_id) == 0
    assert members(engine, company_id) == {"Eva": "owner", "Anna": "accountant", "Carol": "staff"}


async def test_owner_removes_a_member_but_not_herself(chat, engine, services) -> None:  # type: ignore[no-untyped-def]
    company_id = make_company(engine)
    join(engine, company_id, 6002, Role.STAFF, name="Carol")
    eva = chat(5001)
    await eva.send("/team")
    assert "Carol (medewerker) uit het bedrijf verwijderen" in eva.texts(await eva.tap("Carol verwijderen"))
    assert "Carol is verwijderd" in eva.texts(await eva.tap("Ja, verwijderen"))
    assert members(engine, company_id) == {"Eva": "owner"}
    carol = chat(6002, first_name="Carol")
    assert "Vertel me eerst over je bedrijf" in carol.texts(await carol.send("/klanten"))

    with storage.session_scope(engine) as s:
        own = s.exec(select(Membership).where(Membership.company_id == company_id)).one().id
    assert "jezelf niet" in eva.texts(await eva.press(pack(services.secret, 5001, "team.rmy", own)))
    # an owner cannot invite another owner either, even with a signed button
    assert "Kies uit" in eva.texts(await eva.press(pack(services.secret, 5001, "team.inv", "owner")))
    assert members(engine, company_id) == {"Eva": "owner"} and invites(engine, company_id) == 0


async def test_an_invited_accountant_cannot_create_or_edit_contacts(chat, engine, services) -> None:  # type: ignore[no-untyped-def]
    make_company(engine)
    eva = chat(5001)
    await eva.send("/klanten nieuw")
    await eva.send("Garage Jansen")
    await eva.send("/team")
    _, token = LINK.search(eva.texts(await eva.tap("Nodig de boekhouder uit"))).groups()
    anna = chat(6001, first_name="Anna")
    await anna.send(f"/start {token}")
    assert "mag je niet" in anna.texts(await anna.send("/klanten nieuw"))
    assert "👤 Garage Jansen" in anna.texts(await anna.send("/klant garage"))
    with storage.session_scope(engine) as s:
        contact_id = s.exec(select(Contact)).one().id
    assert "mag je niet" in anna.texts(await anna.press(pack(services.secret, 6001, "con.v", contact_id, "name", "X")))
    with storage.session_scope(engine) as s:
        assert [c.name for c in s.exec(select(Contact))] == ["Garage Jansen"]
