"""An invoice or quote typed in one sentence: the card (computed by core, nothing stored yet), the
questions for what could not be placed, and send / change / cancel — both languages."""
from __future__ import annotations

from decimal import Decimal

from sqlmodel import select

from core import storage
from core.models import Contact
from tests.bot.seed import (
    document,
    documents,
    relay_for,
    seed_company,
    seed_contact,
    seed_item,
)
from tests.mail_sink import MailSink

D = Decimal
BELGIAN = {"street": "Grote Markt 1", "postcode": "1000", "city": "Brussel", "country": "BE",
           "vat_id": "BE0428759497", "kvk": "", "email": "boekhouding@peeters.be"}


def plain(text: str) -> str:
    return text.replace("\xa0", " ")


def contacts(engine, company_id: int) -> list[Contact]:  # type: ignore[no-untyped-def]
    with storage.session_scope(engine) as s:
        return list(s.exec(select(Contact).where(Contact.company_id == company_id).order_by(Contact.id)))


async def test_one_sentence_invoice_card_then_send(chat, engine, services) -> None:  # type: ignore[no-untyped-def]
    company = seed_company(engine)
    customer = seed_contact(engine, company, "Bakkerij Peeters BVBA", **BELGIAN)
    eva = chat(5001)
    card = plain(eva.texts(await eva.send("factuur Peeters 8 uur advies à 75, btw verlegd, 14 dagen")))
    assert "🧾 Factuur (concept)" in card and "👤 Bakkerij Peeters BVBA" in card
    assert "1. 8 uur advies à € 75,00 = € 600,00" in card
    assert "Btw verlegd" in card and "Totaal: € 600,00" in card
    assert "Te betalen vóór 14 december 2026 (14 dagen)" in card
    assert [label for label, _ in eva.buttons()] == ["📧 Verzenden", "📎 PDF hier", "✏️ Aanpassen", "✖ Annuleren"]
    assert documents(engine, company) == []                      # the card stores nothing

    send = dict(eva.buttons())["📧 Verzenden"]
    with relay_for(services, MailSink()) as sink:
        replies = await eva.press(send)
    assert "✅ Factuur 2026-0001 verzonden naar boekhouding@peeters.be" in eva.texts(replies)
    [doc] = documents(engine, company)
    assert (doc.number, doc.status, doc.contact_id, doc.vat_treatment, doc.term_days, doc.total_incl) == (
        "2026-0001", "sent", customer, "reverse_charge", 14, D("600.00"))
    assert sink.messages[0]["To"] == "boekhouding@peeters.be"
    # the card's button is stale now: a second tap makes no second invoice and sends nothing
    with relay_for(services, MailSink()) as again:
        assert "afgesloten" in eva.texts(await eva.press(send))
    assert len(documents(engine, company)) == 1 and again.messages == []


async def test_english_sentence_excluding_vat(chat, engine, services) -> None:  # type: ignore[no-untyped-def]
    company = seed_company(engine, language="en")
    seed_contact(engine, company, "Jansen", email="jansen@example.nl", language="en")
    eva = chat(5001, language="en")
    card = eva.texts(await eva.send("invoice Jansen 2 days design at 600 ex vat"))
    assert "1. 2 day design à €600.00 = €1,200.00" in card
    assert "VAT 21%: €252.00" in card and "Total: €1,452.00" in card and "Due 30 December 2026 (30 days)" in card
    with relay_for(services, MailSink()) as sink:
        replies = await eva.tap("Send")
    assert "✅ Invoice 2026-0001 sent to jansen@example.nl (2026-0001.pdf)." in eva.texts(replies)
    assert sink.messages[0]["Subject"] == "Invoice 2026-0001 from Studio Vos Ontwerp"
    assert documents(engine, company)[0].total_incl == D("1452.00")


async def test_an_ambiguous_customer_and_a_missing_price_are_asked(chat, engine) -> None:  # type: ignore[no-untyped-def]
    company = seed_company(engine)
    seed_contact(engine, company, "Jansen Bouw")
    painters = seed_contact(engine, company, "Jansen Schilders")
    eva = chat(5001)
    replies = await eva.send("offerte Jansen: 3x workshop, 10% korting")
    assert "Welke “Jansen” bedoel je?" in eva.texts(replies)
    assert [label for label, _ in eva.buttons()] == ["Jansen Bouw", "Jansen Schilders", "➕ Nieuwe klant “Jansen”"]
    replies = await eva.tap("Jansen Schilders")
    assert "Wat is de prijs per eenheid (excl. btw) van “workshop”?" in eva.texts(replies)
    assert "Geen bedrag: 12,5,0" in eva.texts(await eva.send("12,5,0"))
    card = plain(eva.texts(await eva.send("450")))
    assert "👤 Jansen Schilders" in card and "Korting 10%: -€ 135,00" in card and "Totaal: € 1.470,15" in card
    assert "Geldig tot 30 december 2026" in card
    await eva.tap("Aanpassen")                                  # stored now, as a draft to change
    [quote] = documents(engine, company)
    assert (quote.kind, quote.status, quote.contact_id, quote.total_incl) == ("quote", "draft", painters, D("1470.15"))


async def test_a_standard_item_fills_the_price(chat, engine) -> None:  # type: ignore[no-untyped-def]
    company = seed_company(engine)
    seed_contact(engine, company)
    seed_item(engine, company)
    eva = chat(5001)
    card = plain(eva.texts(await eva.send("offerte Bakkerij: 3x workshop")))
    assert "1. 3 stuk Workshop à € 450,00 = € 1.350,00" in card


async def test_a_new_customer_is_shown_as_new_and_made_only_when_asked(chat, engine) -> None:  # type: ignore[no-untyped-def]
    company = seed_company(engine)
    eva = chat(5001)
    card = plain(eva.texts(await eva.send("factuur Acme 8 uur advies à 75")))
    assert "👤 Acme (nieuwe klant)" in card and "✉️ nog geen e-mailadres" in card
    assert "Nog nodig voor verzenden:" in card and "adres van de koper" in card.lower()
    assert contacts(engine, company) == []
    assert "Geannuleerd" in eva.texts(await eva.tap("Annuleren"))
    assert contacts(engine, company) == [] and documents(engine, company) == []
    await eva.send("factuur Acme 8 uur advies à 75")
    await eva.tap("Aanpassen")
    [contact] = contacts(engine, company)
    [doc] = documents(engine, company)
    assert (contact.name, contact.email, doc.contact_id, doc.status) == ("Acme", "", contact.id, "draft")


async def test_what_cannot_be_placed_is_shown_and_not_used(chat, engine) -> None:  # type: ignore[no-untyped-def]
    company = seed_company(engine)
    seed_contact(engine, company)
    eva = chat(5001)
    card = plain(eva.texts(await eva.send("factuur Bakkerij 8 uur advies à 75, 450, incl btw")))
    assert "⚠️ Dit kon ik nergens plaatsen, dus het is niet gebruikt: “450”" in card
    assert "De prijzen die je typte zijn inclusief btw" in card
    assert "1. 8 uur advies à € 61,9835 = € 495,87" in card and "Totaal: € 600,00" in card


async def test_a_line_without_description_is_asked_and_one_can_be_left_out(chat, engine) -> None:  # type: ignore[no-untyped-def]
    company = seed_company(engine)
    seed_contact(engine, company)
    eva = chat(5001)
    replies = await eva.send("factuur Bakkerij: 8 uur à 75, koffie")
    assert "Waar is regel 1 voor? (8 uur à € 75,00)" in plain(eva.texts(replies))
    replies = await eva.send("advies")
    assert "Wat is de prijs per eenheid (excl. btw) van “koffie”?" in eva.texts(replies)
    card = plain(eva.texts(await eva.tap("Laat deze regel weg")))
    assert "1. 8 uur advies à € 75,00" in card and "koffie" not in card


async def test_zin_command_only_kind_and_not_understood(chat, engine) -> None:  # type: ignore[no-untyped-def]
    company = seed_company(engine)
    seed_contact(engine, company)
    eva = chat(5001)
    assert "Dat begreep ik niet" in eva.texts(await eva.send("hoe laat is het?"))
    assert "Typ de factuur of offerte in één zin" in eva.texts(await eva.send("/zin"))
    assert "Begin met factuur, offerte" in eva.texts(await eva.send("Bakkerij 8 uur à 75"))
    assert "Totaal: € 726,00" in plain(eva.texts(await eva.send("factuur Bakkerij 8 uur advies à 75")))
    assert "Voor welke klant?" in eva.texts(await eva.send("factuur"))     # just the word: the guided flow
    assert "Totaal: € 90,75" in plain(eva.texts(await eva.send("/zin factuur Bakkerij 1 uur advies à 75")))
    assert documents(engine, company) == []


async def test_the_new_customer_email_is_asked_before_sending(chat, engine, services) -> None:  # type: ignore[no-untyped-def]
    company = seed_company(engine)
    eva = chat(5001)
    await eva.send("offerte Acme: 2 dagen workshop à 450")
    assert "“Acme” is een nieuwe klant. Wat is het e-mailadres?" in eva.texts(await eva.tap("Verzenden"))
    assert "Dit is geen e-mailadres" in eva.texts(await eva.send("acme"))
    assert contacts(engine, company) == []
    with relay_for(services, MailSink()) as sink:
        replies = await eva.send("offerte@acme.nl")
    assert "✅ Offerte OFF-2026-001 verzonden naar offerte@acme.nl" in eva.texts(replies)   # a quote needs no address
    [contact] = contacts(engine, company)
    assert (contact.name, contact.email) == ("Acme", "offerte@acme.nl")
    assert document(engine, company, documents(engine, company)[0].id).delivery == "mailed" and len(sink.messages) == 1
