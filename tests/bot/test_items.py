"""/artikelen and /items through the real Application: create standard items step by step (a price
like 12,5,0 is refused), list, find, edit, archive; the accountant only looks.
"""
from __future__ import annotations

from decimal import Decimal

from sqlmodel import select

from bot.callbacks import pack
from core import storage
from core.contacts import create_item
from core.models import Item, Role
from tests.bot.test_onboarding import chat_step
from tests.bot.test_settings import join, make_company


def items_of(engine, company_id: int) -> list[Item]:  # type: ignore[no-untyped-def]
    with storage.session_scope(engine) as s:
        return list(s.exec(select(Item).where(Item.company_id == company_id).order_by(Item.id)))


def seed(engine, company_id: int, *names: str) -> list[int]:  # type: ignore[no-untyped-def]
    with storage.session_scope(engine) as s:
        return [create_item(s, company_id, name, unit_price="75", unit="uur").id for name in names]


async def test_new_item_in_dutch(chat, engine) -> None:  # type: ignore[no-untyped-def]
    company_id = make_company(engine)
    eva = chat(5001)
    assert "nog geen vaste artikelen" in eva.texts(await eva.send("/artikelen"))
    await eva.tap("Nieuw artikel")
    assert "Prijs van Advies per eenheid" in eva.texts(await eva.send("Advies"))
    assert "Dit is geen getal: 12,5,0" in eva.texts(await eva.send("12,5,0"))
    assert "geen getal" in eva.texts(await eva.send("vijfenzeventig"))
    assert "Te veel decimalen (hooguit 4)" in eva.texts(await eva.send("75,00001"))
    assert chat_step(engine, 5001) == ("items", "unit_price")
    assert "btw-tarief" in eva.texts(await eva.send("1.234,50"))
    await eva.tap("9 %")
    await eva.send("sessie")
    card = eva.texts(await eva.send("Strategisch advies, per sessie van 2 uur"))
    assert "📦 Advies" in card and "€\xa01.234,50 / sessie" in card and "9 %" in card
    [item] = items_of(engine, company_id)
    assert (item.name, item.unit_price, item.vat_rate, item.unit) == ("Advies", Decimal("1234.50"), Decimal(9),
                                                                      "sessie")
    assert item.description == "Strategisch advies, per sessie van 2 uur"


async def test_new_item_in_english_with_typed_rate(chat, engine) -> None:  # type: ignore[no-untyped-def]
    company_id = make_company(engine, 5002, language="en")
    eva = chat(5002, language="en")
    await eva.send("/items new")
    await eva.send("Logo design")
    await eva.send("450")
    assert "between 0 and 100" in eva.texts(await eva.send("150"))
    await eva.send("21")
    await eva.tap("piece")
    card = eva.texts(await eva.tap("Skip"))
    assert "Done" in card and "€450.00 / piece" in card.replace("\u00a0", "")
    [item] = items_of(engine, company_id)
    assert (item.unit_price, item.vat_rate, item.unit, item.description) == (Decimal(450), Decimal(21), "piece", "")


async def test_list_find_edit_and_archive(chat, engine) -> None:  # type: ignore[no-untyped-def]
    company_id = make_company(engine)
    seed(engine, company_id, "Advies", "Logo-ontwerp", "Adviesrapport")
    eva = chat(5001)
    await eva.send("/artikelen")
    assert [label for label, _ in eva.buttons()][:3] == ["Advies", "Adviesrapport", "Logo-ontwerp"]
    assert "Welke bedoel je?" in eva.texts(await eva.send("advies"))
    assert "📦 Logo-ontwerp" in eva.texts(await eva.send("logo"))
    await eva.tap("Prijs excl. btw")
    assert "geen getal" in eva.texts(await eva.send("12,5,0"))
    assert "€\xa012,50" in eva.texts(await eva.send("12,50"))
    await eva.tap("Eenheid")
    await eva.tap("stuk")
    await eva.tap("Naam")
    assert "Te lang" in eva.texts(await eva.send("L" * 250))
    await eva.send("Logo-ontwerp compleet")
    [_, logo, _] = items_of(engine, company_id)
    assert (logo.name, logo.unit_price, logo.unit) == ("Logo-ontwerp compleet", Decimal("12.50"), "stuk")
    assert "gearchiveerd" in eva.texts(await eva.tap("Archiveren"))
    assert "Geen artikel gevonden" in eva.texts(await eva.send("/artikelen logo"))
    assert items_of(engine, company_id)[1].archived is True


async def test_the_accountant_only_looks_at_items(chat, engine, services) -> None:  # type: ignore[no-untyped-def]
    company_id = make_company(engine)
    [item_id] = seed(engine, company_id, "Advies")
    join(engine, company_id, 6001, Role.ACCOUNTANT)
    bob = chat(6001, first_name="Bob")
    assert "mag je niet" in bob.texts(await bob.send("/artikelen nieuw"))
    await bob.send("/artikelen")
    assert [label for label, _ in bob.buttons()] == ["Advies"]
    assert "📦 Advies" in bob.texts(await bob.tap("Advies"))
    assert [label for label, _ in bob.buttons()] == ["◀ Alle artikelen"]
    for data in (pack(services.secret, 6001, "item.new"), pack(services.secret, 6001, "item.e", item_id, "unit_price"),
                 pack(services.secret, 6001, "item.v", item_id, "vat_rate", "0"),
                 pack(services.secret, 6001, "item.arch", item_id)):
        assert "mag je niet" in bob.texts(await bob.press(data))
    [item] = items_of(engine, company_id)
    assert (item.unit_price, item.vat_rate, item.archived) == (Decimal(75), Decimal(21), False)
