"""/klanten, /contacts and /klant through the real Application: a new customer or supplier in a few
messages (checked KvK, btw-id and payment term), finding by part of the name, showing, editing,
categories and notes, archiving — and the accountant, who may look but not create or edit.
"""
from __future__ import annotations

from sqlmodel import select

from bot.callbacks import pack
from core import storage
from core.contacts import create_contact
from core.models import ChatState, Contact, Role
from tests.bot.test_onboarding import chat_step
from tests.bot.test_settings import join, make_company


def contacts_of(engine, company_id: int) -> list[Contact]:  # type: ignore[no-untyped-def]
    with storage.session_scope(engine) as s:
        return list(s.exec(select(Contact).where(Contact.company_id == company_id).order_by(Contact.id)))


def seed(engine, company_id: int, *names: str) -> list[int]:  # type: ignore[no-untyped-def]
    with storage.session_scope(engine) as s:
        return [create_contact(s, company_id, name, city="Utrecht").id for name in names]


async def test_new_business_customer_in_a_few_messages(chat, engine) -> None:  # type: ignore[no-untyped-def]
    company_id = make_company(engine)
    eva = chat(5001)
    assert "nog geen klanten" in eva.texts(await eva.send("/klanten"))
    assert "Naam van de nieuwe klant" in eva.texts(await eva.tap("Nieuwe klant"))
    assert "bedrijf of een particulier" in eva.texts(await eva.send("Bakkerij de Vries B.V."))
    await eva.tap("bedrijf")
    await eva.send("Dorpsstraat 1")
    assert "geen Nederlandse postcode" in eva.texts(await eva.send("35122 AB"))        # refused, asked again
    await eva.send("3512ab")
    await eva.send("Utrecht")
    await eva.tap("NL")
    assert "Dit is geen e-mailadres" in eva.texts(await eva.send("administratie at bakkerijdevries.nl"))
    assert "KvK-nummer van Bakkerij" in eva.texts(await eva.send("administratie@bakkerijdevries.nl"))
    assert "8 cijfers" in eva.texts(await eva.send("8765432🙂"))
    assert chat_step(engine, 5001) == ("contacts", "kvk")
    assert "Btw-id van Bakkerij" in eva.texts(await eva.send("87654321"))
    assert "geen geldig btw-id" in eva.texts(await eva.send("NL853746334B01"))  # wrong check digit
    assert "Betalingstermijn" in eva.texts(await eva.send("NL853746333B01"))
    assert "geen aantal dagen" in eva.texts(await eva.send("12,5,0"))
    assert "Welke btw" in eva.texts(await eva.send("14"))
    await eva.tap("Nederlandse btw")
    await eva.tap("pdf en e-factuur")
    card = eva.texts(await eva.tap("Nederlands"))
    assert "Klaar" in card and "👤 Bakkerij de Vries B.V. (klant, bedrijf)" in card
    assert "Dorpsstraat 1, 3512 AB Utrecht, NL" in card and "14 dagen" in card
    [contact] = contacts_of(engine, company_id)
    assert (contact.kind, contact.is_business, contact.postcode, contact.kvk, contact.vat_id) == (
        "customer", True, "3512 AB", "87654321", "NL853746333B01")
    assert (contact.email, contact.payment_term_days, contact.vat_treatment, contact.send_format, contact.language) == (
        "administratie@bakkerijdevries.nl", 14, "standard", "both", "nl")
    assert chat_step(engine, 5001) == ("", "")


async def test_new_consumer_in_english_skips_business_questions(chat, engine) -> None:  # type: ignore[no-untyped-def]
    company_id = make_company(engine, 5002, language="en")
    eva = chat(5002, language="en")
    await eva.send("/contacts new")
    await eva.send("Jan Jansen")
    await eva.tap("consumer")
    for _ in range(3):
        await eva.tap("Skip")                                     # street, postcode, city
    await eva.send("be")
    replies = await eva.send("jan@example.be")
    assert "Payment term" in eva.texts(replies) and "KvK" not in eva.texts(replies)
    await eva.tap("Company default")
    replies = await eva.tap("Dutch VAT")
    assert "language" in eva.texts(replies)                     # no send format for a consumer
    card = eva.texts(await eva.tap("English"))
    assert "Jan Jansen (customer, consumer)" in card and "company default (30 days)" in card
    [contact] = contacts_of(engine, company_id)
    assert (contact.is_business, contact.country, contact.email, contact.payment_term_days, contact.language) == (
        False, "BE", "jan@example.be", None, "en")


async def test_new_supplier(chat, engine) -> None:  # type: ignore[no-untyped-def]
    company_id = make_company(engine)
    eva = chat(5001)
    assert "nieuwe leverancier" in eva.texts(await eva.send("/klanten leverancier"))
    await eva.send("Drukkerij Hendriks")
    assert contacts_of(engine, company_id)[0].kind == "supplier"


async def test_find_by_part_of_the_name_and_show(chat, engine) -> None:  # type: ignore[no-untyped-def]
    company_id = make_company(engine)
    seed(engine, company_id, "Bakkerij de Vries B.V.", "Bakker Bart", "Garage Jansen")
    eva = chat(5001)
    replies = await eva.send("/klanten")
    assert [label for label, _ in eva.buttons()][:3] == ["Bakker Bart · Utrecht", "Bakkerij de Vries B.V. · Utrecht",
                                                          "Garage Jansen · Utrecht"]
    assert "Typ een deel van een naam" in eva.texts(replies)
    assert "Welke bedoel je?" in eva.texts(await eva.send("bakk"))
    assert {"Bakker Bart · Utrecht", "Bakkerij de Vries B.V. · Utrecht"} <= {label for label, _ in eva.buttons()}
    assert "Geen relatie gevonden bij “pizza”" in eva.texts(await eva.send("pizza"))
    card = eva.texts(await eva.send("JANS"))                    # one match: the card at once
    assert "👤 Garage Jansen" in card
    assert "👤 Bakkerij de Vries B.V." in eva.texts(await eva.send("/klant vries"))
    await eva.send("/klant bak")
    assert "👤 Bakker Bart" in eva.texts(await eva.tap("Bakker Bart"))


async def test_edit_any_field_categories_and_notes(chat, engine) -> None:  # type: ignore[no-untyped-def]
    company_id = make_company(engine)
    [contact_id] = seed(engine, company_id, "Bakkerij de Vries B.V.")
    eva = chat(5001)
    await eva.send("/klant vries")
    await eva.tap("Wijzigen")
    assert "E-mailadres" in [label for label, _ in eva.buttons()]
    await eva.tap("E-mailadres")
    assert "Dit is geen e-mailadres" in eva.texts(await eva.send("boekhouding@@devries"))
    assert chat_step(engine, 5001) == ("contacts", "edit")
    assert "Opgeslagen" in eva.texts(await eva.send("boekhouding@devries.nl"))
    await eva.tap("Wijzigen")
    await eva.tap("Btw-behandeling")
    card = eva.texts(await eva.tap("btw verlegd"))
    assert "EU-bedrijf, btw verlegd" in card
    await eva.tap("Categorieën")
    await eva.send("bakkers, vaste klant")
    await eva.tap("Notities")
    assert "te lang (hooguit 4000 tekens)" in eva.texts(await eva.send("n" * 4001))
    await eva.send("Betaalt altijd op tijd. Contact: Anna.")
    await eva.tap("Wijzigen")
    await eva.tap("Betalingstermijn")
    assert "geen aantal dagen" in eva.texts(await eva.send("veertien"))
    await eva.send("45")
    [contact] = contacts_of(engine, company_id)
    assert contact.id == contact_id
    assert (contact.email, contact.vat_treatment, contact.categories, contact.payment_term_days) == (
        "boekhouding@devries.nl", "reverse_charge", "bakkers, vaste klant", 45)
    assert contact.notes == "Betaalt altijd op tijd. Contact: Anna."
    await eva.tap("Wijzigen")
    await eva.tap("Plaats")
    await eva.tap("Leegmaken")
    assert contacts_of(engine, company_id)[0].city == ""


async def test_archived_contacts_are_no_longer_found(chat, engine) -> None:  # type: ignore[no-untyped-def]
    company_id = make_company(engine)
    seed(engine, company_id, "Garage Jansen")
    eva = chat(5001)
    await eva.send("/klant jansen")
    assert "gearchiveerd" in eva.texts(await eva.tap("Archiveren"))
    assert "Geen relatie gevonden" in eva.texts(await eva.send("/klant jansen"))
    assert contacts_of(engine, company_id)[0].archived is True


async def test_the_accountant_cannot_create_or_edit_contacts(chat, engine, services) -> None:  # type: ignore[no-untyped-def]
    company_id = make_company(engine)
    [contact_id] = seed(engine, company_id, "Garage Jansen")
    join(engine, company_id, 6001, Role.ACCOUNTANT)
    bob = chat(6001, first_name="Bob")
    assert "mag je niet" in bob.texts(await bob.send("/klanten nieuw"))
    assert chat_step(engine, 6001) == ("", "")
    await bob.send("/klanten")
    assert not any("Nieuwe klant" in label for label, _ in bob.buttons())
    card = bob.texts(await bob.send("/klant jansen"))            # looking is fine
    assert "👤 Garage Jansen" in card
    assert [label for label, _ in bob.buttons()] == ["◀ Alle relaties"]
    for data in (pack(services.secret, 6001, "con.new", "c"), pack(services.secret, 6001, "con.edit", contact_id),
                 pack(services.secret, 6001, "con.e", contact_id, "email"),
                 pack(services.secret, 6001, "con.v", contact_id, "city", ""),
                 pack(services.secret, 6001, "con.arch", contact_id)):
        assert "mag je niet" in bob.texts(await bob.press(data))
    # even typed into a step of the contacts flow (e.g. a stale state), core refuses the change
    with storage.session_scope(engine) as s:
        state = s.get(ChatState, (6001, 6001))
        state.flow, state.step, state.data = "contacts", "edit", {"contact_id": contact_id, "field": "city"}
        s.add(state)
    assert "mag je niet" in bob.texts(await bob.send("Rotterdam"))
    [contact] = contacts_of(engine, company_id)
    assert (contact.name, contact.city, contact.email, contact.archived) == ("Garage Jansen", "Utrecht", "", False)
