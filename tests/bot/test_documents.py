"""/factuur and /offerte through the real Application: customer → lines → card → preview → sent,
editing everything, bad input that keeps the flow where it was, and every text translated."""
from __future__ import annotations

import ast
from decimal import Decimal
from pathlib import Path

import pytest

from core.i18n import translations
from core.models import Role
from tests.bot.seed import (
    document,
    documents,
    relay_for,
    seed_company,
    seed_contact,
    seed_item,
    seed_member,
)
from tests.conftest import REPO
from tests.mail_sink import MailSink

D = Decimal


def plain(text: str) -> str:
    return text.replace("\xa0", " ")


async def test_guided_invoice_from_customer_to_sent_in_dutch(chat, engine, services) -> None:  # type: ignore[no-untyped-def]
    company = seed_company(engine)
    contact = seed_contact(engine, company)
    seed_item(engine, company)
    eva = chat(5001)
    replies = await eva.send("/factuur")
    assert "Voor welke klant?" in eva.texts(replies)
    assert "Bakkerij de Vries B.V." in [label for label, _ in eva.buttons()]
    assert "Nu de eerste regel" in eva.texts(await eva.tap("Bakkerij de Vries"))
    [draft] = documents(engine, company)
    assert (draft.status, draft.contact_id, draft.number) == ("draft", contact, None)

    replies = await eva.send("8 uur advies à 75")
    assert "Toegevoegd: advies = € 600,00. Totaal nu € 726,00 (regels: 1)" in plain(eva.texts(replies))
    replies = await eva.send("3x workshop")                      # the standard item supplies the price
    assert "Toegevoegd: Workshop = € 1.350,00" in plain(eva.texts(replies))

    await eva.tap("Korting")
    assert "Dit is geen getal: 12,5,0" in eva.texts(await eva.send("12,5,0"))   # bad input: the flow stays
    card = plain(eva.texts(await eva.send("10")))
    assert "Korting 10%: -€ 195,00" in card and "Totaal: € 2.123,55" in card
    assert "Te betalen vóór 30 december 2026 (30 dagen)" in card
    assert document(engine, company, draft.id).total_incl == D("2123.55")

    replies = await eva.tap("Voorbeeld")
    methods = [c.method for c in replies]
    assert methods[:4] == ["sendChatAction", "sendPhoto", "sendChatAction", "sendDocument"]
    assert [c.params["action"] for c in replies if c.method == "sendChatAction"] == ["upload_photo", "upload_document"]
    assert replies[1].files["photo"].startswith(b"\x89PNG") and replies[3].files["document"].startswith(b"%PDF-")
    assert document(engine, company, draft.id).number is None    # a preview gives no number

    with relay_for(services, MailSink()) as sink:
        replies = await eva.tap("Verzenden")
    assert "✅ Factuur 2026-0001 verzonden naar administratie@bakkerijdevries.nl (2026-0001.pdf)" in eva.texts(replies)
    sent = document(engine, company, draft.id)
    assert (sent.status, sent.number, sent.delivery, sent.total_incl) == ("sent", "2026-0001", "mailed", D("2123.55"))
    assert sent.mail_message_id == sink.messages[0]["Message-ID"]
    assert sink.messages[0]["Subject"] == "Factuur 2026-0001 van Studio Vos Ontwerp"
    assert list(sink.attachments()) == ["2026-0001.pdf"]


async def test_guided_quote_for_a_new_customer_in_english(chat, engine, services) -> None:  # type: ignore[no-untyped-def]
    company = seed_company(engine, language="en")
    eva = chat(5001, language="en")
    await eva.send("/quote")
    replies = await eva.send("Acme Ltd")
    assert "I do not know “Acme Ltd” yet" in eva.texts(replies)
    await eva.tap("New customer")
    assert "Not an e-mail address" in eva.texts(await eva.send("acme at example"))
    replies = await eva.send("info@acme.example")
    assert "Customer Acme Ltd added" in eva.texts(replies) and "Now the first line" in eva.texts(replies)
    replies = await eva.send("2 days design at 600")
    assert "Added: design = €1,200.00. Total now €1,452.00 (lines: 1)" in eva.texts(replies)
    card = eva.texts(await eva.tap("Done"))
    assert "Quote (draft)" in card and "Acme Ltd" in card and "Valid until 30 December 2026 (30 days)" in card
    with relay_for(services, MailSink()) as sink:
        replies = await eva.tap("Send")
    assert "✅ Quote OFF-2026-001 sent to info@acme.example (OFF-2026-001.pdf)." in eva.texts(replies)
    [quote] = documents(engine, company, "quote")
    assert (quote.status, quote.number, quote.delivery) == ("sent", "OFF-2026-001", "mailed")
    assert sink.messages[0]["Subject"] == "Quote OFF-2026-001 from Studio Vos Ontwerp"


async def test_change_anything_on_the_draft(chat, engine) -> None:  # type: ignore[no-untyped-def]
    company = seed_company(engine)
    seed_contact(engine, company)
    other = seed_contact(engine, company, "Jansen Bouw", email="info@jansenbouw.nl")
    eva = chat(5001)
    await eva.send("/factuur Bakkerij")
    await eva.send("8 uur advies à 75")
    await eva.send("2 uur reistijd à 40")
    [draft] = documents(engine, company)

    await eva.tap("Klaar")
    await eva.tap("Aanpassen")
    await eva.tap("Regels")
    await eva.tap("🗑 2")
    await eva.tap("✏️ 1")
    assert "Dat kon ik niet lezen" in eva.texts(await eva.send("8 uur advies à 12,5,0"))
    card = plain(eva.texts(await eva.send("6 uur advies à 80")))
    assert "1. 6 uur advies à € 80,00 = € 480,00" in card and "reistijd" not in card

    await eva.tap("Aanpassen")
    await eva.tap("Klant")
    card = eva.texts(await eva.send("Jansen"))
    assert "Jansen Bouw" in card and document(engine, company, draft.id).contact_id == other

    await eva.tap("Aanpassen")
    await eva.tap("Btw")
    card = eva.texts(await eva.tap("Vrijgesteld van btw"))
    assert "Vrijgesteld van btw (art. 11 Wet OB)" in card and document(engine, company, draft.id).total_vat == 0

    await eva.tap("Aanpassen")
    await eva.tap("Leverdatum")
    assert "Die datum bestaat niet: 31-02" in eva.texts(await eva.send("31-02"))
    assert "Geleverd op 15 december 2026" in eva.texts(await eva.send("15-12-2026"))

    await eva.tap("Aanpassen")
    await eva.tap("Termijn")
    assert "Dit is geen aantal dagen: veertien" in eva.texts(await eva.send("veertien"))
    assert "(14 dagen)" in eva.texts(await eva.send("14"))

    await eva.tap("Aanpassen")
    await eva.tap("Introtekst")
    assert "Te lang" in eva.texts(await eva.send("x" * 2500))
    await eva.send("Zoals besproken.")
    doc = document(engine, company, draft.id)
    assert (doc.intro, doc.term_days, str(doc.delivery_date), doc.vat_treatment) == (
        "Zoals besproken.", 14, "2026-12-15", "exempt")

    await eva.tap("Aanpassen")
    await eva.tap("Concept weggooien")
    assert documents(engine, company) == []


async def test_a_price_is_asked_when_it_is_missing_and_bad_amounts_keep_the_question(chat, engine) -> None:  # type: ignore[no-untyped-def]
    company = seed_company(engine)
    seed_contact(engine, company)
    eva = chat(5001)
    await eva.send("/offerte Bakkerij")
    assert "Wat is de prijs per eenheid (excl. btw) van “fotografie”?" in eva.texts(await eva.send("2 dagen fotografie"))
    assert "Geen bedrag: 12,5,0" in eva.texts(await eva.send("12,5,0"))
    assert "Geen bedrag" in eva.texts(await eva.send("31-02"))
    replies = await eva.send("1.250")
    assert "Toegevoegd: fotografie = € 2.500,00" in plain(eva.texts(replies))


async def test_very_long_text_gets_an_answer_and_the_flow_stays(chat, engine) -> None:  # type: ignore[no-untyped-def]
    company = seed_company(engine)
    seed_contact(engine, company)
    eva = chat(5001)
    await eva.send("/factuur Bakkerij")
    assert "te lang" in eva.texts(await eva.send("a" * 5000)).lower()
    assert "Te lang" in eva.texts(await eva.send("1 " + "a" * 2500 + " à 75"))
    assert "Toegevoegd" in eva.texts(await eva.send("1 uur advies à 75"))


async def test_save_as_draft_and_find_it_again(chat, engine) -> None:  # type: ignore[no-untyped-def]
    company = seed_company(engine)
    seed_contact(engine, company)
    eva = chat(5001)
    await eva.send("/factuur Bakkerij")
    await eva.send("1 uur advies à 75")
    await eva.tap("Klaar")
    assert "Bewaard als concept" in eva.texts(await eva.tap("Bewaar als concept"))
    assert "Er was niets te stoppen" in eva.texts(await eva.send("/cancel"))
    overview = plain(eva.texts(await eva.send("/facturen")))
    assert "📝 Concepten: 1" in overview
    card = plain(eva.texts(await eva.tap("concept · Bakkerij")))
    assert "Factuur (concept)" in card and "Totaal: € 90,75" in card


async def test_an_accountant_cannot_start_or_change_documents(chat, engine) -> None:  # type: ignore[no-untyped-def]
    company = seed_company(engine)
    seed_contact(engine, company)
    seed_member(engine, company, 6001, Role.ACCOUNTANT)
    eva, anna = chat(5001), chat(6001, first_name="Anna")
    await eva.send("/factuur Bakkerij")
    await eva.send("1 uur advies à 75")
    [draft] = documents(engine, company)
    assert "mag je niet" in anna.texts(await anna.send("/factuur"))
    assert "mag je niet" in anna.texts(await anna.send("factuur Bakkerij 1 uur advies à 75"))
    forged = eva.buttons()                       # Eva's "Klaar" button, replayed by Anna: a foreign chat
    assert "niet (meer) geldig" in anna.texts(await anna.press(forged[0][1]))
    assert len(documents(engine, company)) == 1 and document(engine, company, draft.id).total_incl == D("90.75")


# ---- every text the document flows say has a Dutch translation -----------------------------------

FILES = ["bot/flows/documents.py", "bot/flows/sending.py", "bot/flows/overview.py", "bot/flows/sentence.py",
         "core/sending.py", "core/drafts.py", "core/sentence.py"]
POSITION = {"N_": 0, "translate": 1, "translate_for": 1, "ValidationError": 1, "Finding": 2}


def _msgids(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name == "t":
            first = node.args[0] if node.args else None
            index = 0 if isinstance(first, ast.Constant) and isinstance(first.value, str) else 1
        elif name in POSITION:
            index = POSITION[name]
        else:
            continue
        if len(node.args) > index and isinstance(node.args[index], ast.Constant) and isinstance(node.args[index].value, str):
            found.append(node.args[index].value)
    return found


@pytest.mark.parametrize("name", FILES)
def test_every_msgid_has_a_dutch_translation(name: str) -> None:
    ids = _msgids(REPO / name)
    catalogue = translations("nl")._catalog
    assert ids, name
    assert [m for m in ids if m not in catalogue] == []


async def test_old_buttons_of_a_sent_invoice_change_nothing(chat, engine, services) -> None:  # type: ignore[no-untyped-def]
    company = seed_company(engine)
    seed_contact(engine, company)
    seed_contact(engine, company, "Jansen Bouw")
    eva = chat(5001)
    await eva.send("/factuur")
    customers = dict(eva.buttons())
    await eva.press(customers["Bakkerij de Vries B.V."])
    await eva.send("1 uur advies à 75")
    done = dict(eva.buttons())["✅ Klaar"]
    await eva.press(done)
    with relay_for(services, MailSink()):
        await eva.tap("Verzenden")
    [doc] = documents(engine, company)
    assert "afgesloten" in eva.texts(await eva.press(customers["Jansen Bouw"]))
    card = eva.texts(await eva.press(done))
    assert "Factuur 2026-0001" in card and [label for label, _ in eva.buttons()] == ["🔎 Details"]
    after = document(engine, company, doc.id)
    assert (after.contact_id, after.number, after.total_incl) == (doc.contact_id, "2026-0001", D("90.75"))
