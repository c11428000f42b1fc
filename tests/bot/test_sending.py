"""Sending through a real SMTP server on loopback: the compliance check and its fixes, a refusing
relay (the number is not used), stale and forbidden buttons, the PDF into the chat, and a bounce."""
from __future__ import annotations

from bot.callbacks import pack
from bot.delivery import deliver_due
from core import storage
from core.companies import get_company, update_company
from core.contacts import get_contact
from core.models import Role
from core.outbox import notify
from core.sending import mark_bounced
from tests.bot.seed import (
    document,
    documents,
    last_number,
    relay_for,
    seed_company,
    seed_contact,
    seed_document,
    seed_member,
)
from tests.conftest import NOW
from tests.mail_sink import MailSink, RefusingSink


def plain(text: str) -> str:
    return text.replace("\xa0", " ")


def contact_of(engine, company_id: int, doc_id: int):  # type: ignore[no-untyped-def]
    with storage.session_scope(engine) as s:
        return get_contact(s, company_id, document(engine, company_id, doc_id).contact_id)


async def test_compliance_block_fix_the_customer_then_sent(chat, engine, services) -> None:  # type: ignore[no-untyped-def]
    company = seed_company(engine)
    eva = chat(5001)
    await eva.send("factuur Acme 8 uur advies à 75")
    await eva.tap("Verzenden")
    with relay_for(services, MailSink()) as sink:
        replies = await eva.send("info@acme.nl")
        text = eva.texts(replies)
        assert "Voordat ik dit kan verzenden, moet er iets worden aangevuld:" in text
        assert "Het volledige adres van de koper is verplicht" in text
        [doc] = documents(engine, company)
        assert (doc.status, doc.number) == ("draft", None)
        assert "Typ straat en huisnummer van de klant." in eva.texts(await eva.tap("Vul straat en huisnummer in"))
        assert "(ontbreekt: postcode, plaats)" in eva.texts(await eva.send("Dorpsstraat 1"))
        await eva.tap("Vul postcode in")
        assert "Dit is geen Nederlandse postcode (1234 AB): 12" in eva.texts(await eva.send("12"))       # the question stays
        assert "(ontbreekt: plaats)" in eva.texts(await eva.send("3512ab"))
        await eva.tap("Vul plaats in")
        replies = await eva.send("Utrecht")
    assert "✅ Factuur 2026-0001 verzonden naar info@acme.nl" in eva.texts(replies)
    contact = contact_of(engine, company, doc.id)
    assert (contact.street, contact.postcode, contact.city) == ("Dorpsstraat 1", "3512 AB", "Utrecht")
    sent = document(engine, company, doc.id)
    assert (sent.status, sent.number, sent.buyer_snapshot["city"]) == ("sent", "2026-0001", "Utrecht")
    assert len(sink.messages) == 1 and sink.messages[0]["To"] == "info@acme.nl"


async def test_company_details_go_through_instellingen_then_try_again(chat, engine, services) -> None:  # type: ignore[no-untyped-def]
    company = seed_company(engine, kvk="")
    seed_contact(engine, company)
    eva = chat(5001)
    await eva.send("factuur Bakkerij 8 uur advies à 75")
    with relay_for(services, MailSink()) as sink:
        text = eva.texts(await eva.tap("Verzenden"))
        assert "Het KvK-nummer van de verkoper ontbreekt" in text and "/instellingen" in text
        assert sink.messages == [] and last_number(engine, company) == 0
        with storage.session_scope(engine) as s:                  # what /instellingen does
            update_company(s, get_company(s, company), kvk="12345678")
        replies = await eva.tap("Opnieuw proberen")
    assert "✅ Factuur 2026-0001 verzonden" in eva.texts(replies) and len(sink.messages) == 1


async def test_a_refusing_relay_uses_no_number_and_says_why(chat, engine, services) -> None:  # type: ignore[no-untyped-def]
    company = seed_company(engine)
    seed_contact(engine, company, email="weg@bakkerijdevries.nl")
    eva = chat(5001)
    await eva.send("factuur Bakkerij 8 uur advies à 75")
    refusing = RefusingSink("weg@bakkerijdevries.nl")
    with relay_for(services, refusing):
        replies = await eva.tap("Verzenden")          # the sentence's card: the draft is made, then sent
        assert "De mailserver weigerde de mail (550)" in eva.texts(replies)
        replies = await eva.tap("Opnieuw proberen")
    [doc] = documents(engine, company)
    text = eva.texts(replies)
    assert "De mailserver weigerde de mail (550)" in text
    assert "Er is niets verzonden; de factuur heeft nog geen nummer en staat niet als verzonden." in text
    after = document(engine, company, doc.id)
    assert (after.status, after.number, after.mail_message_id, after.delivery, after.sent_at) == ("draft", None, "", "", None)
    assert refusing.messages == [] and last_number(engine, company) == 0

    await eva.tap("Vul e-mailadres in")
    with relay_for(services, MailSink()) as sink:
        replies = await eva.send("administratie@bakkerijdevries.nl")
    assert "✅ Factuur 2026-0001 verzonden naar administratie@bakkerijdevries.nl" in eva.texts(replies)
    assert document(engine, company, doc.id).number == "2026-0001" and len(sink.messages) == 1


async def test_a_stale_send_button_pressed_twice_sends_one_mail(chat, engine, services) -> None:  # type: ignore[no-untyped-def]
    company = seed_company(engine)
    seed_contact(engine, company)
    eva = chat(5001)
    await eva.send("/factuur Bakkerij")
    await eva.send("8 uur advies à 75")
    await eva.tap("Klaar")
    send = dict(eva.buttons())["📧 Verzenden"]
    with relay_for(services, MailSink()) as sink:
        first = eva.texts(await eva.press(send))
        second = eva.texts(await eva.press(send))
    assert "verzonden" in first and "Dat kan niet meer" in second
    assert len(sink.messages) == 1 and last_number(engine, company) == 1
    assert [d.number for d in documents(engine, company)] == ["2026-0001"]


async def test_an_accountant_pressing_send_is_refused(chat, engine, services) -> None:  # type: ignore[no-untyped-def]
    company = seed_company(engine)
    contact = seed_contact(engine, company)
    draft = seed_document(engine, company, contact, sent=False)
    seed_member(engine, company, 6001, Role.ACCOUNTANT)
    anna = chat(6001, first_name="Anna")
    with relay_for(services, MailSink()) as sink:
        for action in ("send.mail", "send.chat"):
            replies = await anna.press(pack(services.secret, anna.chat_id, action, draft))
            assert "Dat mag je niet doen in dit bedrijf" in anna.texts(replies)
    assert sink.messages == [] and document(engine, company, draft).status == "draft"
    assert [c.method for c in replies if c.method == "sendDocument"] == []


async def test_pdf_here_makes_the_number_final_and_sends_the_file(chat, engine, services) -> None:  # type: ignore[no-untyped-def]
    company = seed_company(engine)
    seed_contact(engine, company, email="")
    eva = chat(5001)
    await eva.send("/factuur Bakkerij")
    await eva.send("8 uur advies à 75")
    await eva.tap("Klaar")
    replies = await eva.tap("PDF hier")
    [call] = [c for c in replies if c.method == "sendDocument"]
    assert call.files["document"].startswith(b"%PDF-") and "Factuur 2026-0001 is definitief" in call.text
    [doc] = documents(engine, company)
    assert (doc.status, doc.number, doc.delivery) == ("sent", "2026-0001", "chat")


async def test_without_a_mail_server_the_chat_offers_the_pdf(chat, engine) -> None:  # type: ignore[no-untyped-def]
    company = seed_company(engine)
    seed_contact(engine, company)
    eva = chat(5001)
    await eva.send("factuur Bakkerij 1 uur advies à 75")
    replies = await eva.tap("Verzenden")
    assert "Er is geen server voor uitgaande mail ingesteld" in eva.texts(replies)
    assert [label for label, _ in eva.buttons()] == ["📎 PDF hier"]
    assert documents(engine, company)[0].status == "draft"


async def test_a_bounce_is_reported_and_the_invoice_resent(chat, engine, services, bot_app) -> None:  # type: ignore[no-untyped-def]
    company = seed_company(engine)
    seed_contact(engine, company, email="oud@bakkerijdevries.nl")
    eva = chat(5001)
    await eva.send("factuur Bakkerij 8 uur advies à 75")
    with relay_for(services, MailSink()) as sink:
        await eva.tap("Verzenden")
    [doc] = documents(engine, company)
    with storage.session_scope(engine) as s:                     # what the ingest does with the DSN
        bounced = mark_bounced(s, company, sink.messages[0]["Message-ID"], "550 5.1.1 user unknown")
        notify(s, company, "invoice_bounced", {"document_id": bounced.id, "number": bounced.number,
                                               "recipient": "oud@bakkerijdevries.nl", "reason": "550 5.1.1 user unknown"}, now=NOW)
    assert document(engine, company, doc.id).delivery == "bounced"
    before = len(bot_app.bot_data["request"].calls)
    assert await deliver_due(bot_app) == 1
    [note] = [c for c in bot_app.bot_data["request"].calls[before:] if c.method == "sendMessage"]
    assert note.chat_id == 5001
    assert "⚠️ Factuur 2026-0001 is niet aangekomen bij oud@bakkerijdevries.nl: 550 5.1.1 user unknown" in note.text
    card = eva.texts(await eva.tap("Details"))
    assert "⚠️ de e-mail kwam niet aan: 550 5.1.1 user unknown" in card

    await eva.press(dict(note.buttons)["✏️ Nieuw e-mailadres en opnieuw versturen"])
    with relay_for(services, MailSink()) as again:
        replies = await eva.send("administratie@bakkerijdevries.nl")
    assert "✅ Factuur 2026-0001 verzonden naar administratie@bakkerijdevries.nl" in eva.texts(replies)
    after = document(engine, company, doc.id)
    assert (after.delivery, after.number, after.mail_message_id) == ("mailed", "2026-0001", again.messages[0]["Message-ID"])


async def test_a_bounce_without_a_document_is_still_told(chat, engine, bot_app) -> None:  # type: ignore[no-untyped-def]
    company = seed_company(engine, language="en")
    chat(5001, language="en")
    with storage.session_scope(engine) as s:
        notify(s, company, "invoice_bounced", {"message_id": "<x@klerk.test>", "recipient": "x@example.com",
                                               "reason": "mailbox full"}, now=NOW)
    before = len(bot_app.bot_data["request"].calls)
    assert await deliver_due(bot_app) == 1
    [note] = [c for c in bot_app.bot_data["request"].calls[before:] if c.method == "sendMessage"]
    assert "An e-mail did not arrive at x@example.com: mailbox full" in note.text and note.buttons == []
