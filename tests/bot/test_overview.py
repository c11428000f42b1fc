"""/facturen and /offertes: open, overdue (the clock moves on), paid, with totals; one document with
its actions — a payment by hand, credit, duplicate, resend, and a quote accepted → invoiced → sent."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from bot.callbacks import pack
from core.models import Role
from tests.bot.seed import (
    document,
    documents,
    relay_for,
    seed_company,
    seed_contact,
    seed_document,
    seed_member,
)
from tests.conftest import NOW
from tests.mail_sink import MailSink

D = Decimal


def plain(text: str) -> str:
    return text.replace("\xa0", " ")


async def test_overview_with_overdue_after_the_clock_moves(chat, engine, clock) -> None:  # type: ignore[no-untyped-def]
    company = seed_company(engine)
    contact = seed_contact(engine, company)
    seed_document(engine, company, contact, term_days=14)                     # due 14 December
    seed_document(engine, company, contact, term_days=30)                     # due 30 December
    seed_document(engine, company, contact, sent=False)
    eva = chat(5001)
    text = plain(eva.texts(await eva.send("/facturen")))
    assert "⏰ Te laat: 0 · € 0,00 open" in text and "📬 Open: 2 · € 1.452,00 open" in text
    assert "📝 Concepten: 1" in text
    clock.now = NOW + timedelta(days=20)
    text = plain(eva.texts(await eva.send("/facturen")))
    assert "⏰ Te laat: 1 · € 726,00 open" in text and "📬 Open: 1 · € 726,00 open" in text
    labels = [label for label, _ in eva.buttons()]
    assert labels[0].startswith("⏰ 2026-0001 · Bakkerij de Vries B.V.") and labels[1].startswith("📬 2026-0002")
    card = plain(eva.texts(await eva.tap("⏰ 2026-0001")))
    assert "🧾 Factuur 2026-0001" in card and "Status: verzonden" in card
    assert "⏰ Te laat sinds 14 december 2026" in card and "📧" not in card.split("\n")[0]


async def test_mark_paid_by_hand_partly_then_all(chat, engine) -> None:  # type: ignore[no-untyped-def]
    company = seed_company(engine)
    invoice = seed_document(engine, company, seed_contact(engine, company))
    eva = chat(5001)
    await eva.send("/facturen")
    await eva.tap("2026-0001")
    assert "Openstaand: € 726,00" in plain(eva.texts(await eva.tap("Betaling registreren")))
    assert "Geen bedrag: 12,5,0" in eva.texts(await eva.send("12,5,0"))        # the question stays
    assert "€ 226,00 geboekt. Nog open op 2026-0001: € 500,00." in plain(eva.texts(await eva.send("226")))
    assert (document(engine, company, invoice).status, document(engine, company, invoice).amount_paid) == (
        "partially_paid", D("226.00"))
    await eva.send("/facturen")
    await eva.tap("2026-0001")
    await eva.tap("Betaling registreren")
    assert "€ 500,00 geboekt. 2026-0001 is betaald." in plain(eva.texts(await eva.tap("Alles: €\xa0500,00")))
    paid = document(engine, company, invoice)
    assert (paid.status, paid.amount_paid) == ("paid", D("726.00"))
    assert "✅ Betaald dit jaar: 1 · € 726,00" in plain(eva.texts(await eva.send("/facturen")))


async def test_credit_note_from_the_invoice_then_sent(chat, engine, services) -> None:  # type: ignore[no-untyped-def]
    company = seed_company(engine)
    invoice = seed_document(engine, company, seed_contact(engine, company))
    eva = chat(5001)
    await eva.send("/facturen")
    await eva.tap("2026-0001")
    card = plain(eva.texts(await eva.tap("Crediteren")))
    assert "Creditfactuur (concept)" in card and "Hoort bij 2026-0001" in card and "Totaal: € 726,00" in card
    with relay_for(services, MailSink()) as sink:
        replies = await eva.tap("Verzenden")
    assert "✅ Creditfactuur CN-2026-0001 verzonden" in eva.texts(replies)
    assert sink.messages[0]["Subject"] == "Creditfactuur CN-2026-0001 van Studio Vos Ontwerp"
    assert document(engine, company, invoice).status == "credited"
    [note] = documents(engine, company, "credit_note")
    assert (note.number, note.original_id, note.total_incl) == ("CN-2026-0001", invoice, D("726.00"))


async def test_duplicate_and_resend(chat, engine, services) -> None:  # type: ignore[no-untyped-def]
    company = seed_company(engine)
    invoice = seed_document(engine, company, seed_contact(engine, company))
    eva = chat(5001)
    await eva.send("/facturen")
    await eva.tap("2026-0001")
    card = plain(eva.texts(await eva.tap("Dupliceren")))
    assert "Een kopie als nieuw concept:" in card and "1. 8 uur Advies à € 75,00 = € 600,00" in card
    copy = [d for d in documents(engine, company) if d.id != invoice]
    assert [(d.status, d.number, d.total_incl) for d in copy] == [("draft", None, D("726.00"))]

    await eva.send("/facturen")
    await eva.tap("2026-0001")
    with relay_for(services, MailSink()) as sink:
        replies = await eva.tap("Opnieuw versturen")
    assert "✅ Factuur 2026-0001 verzonden naar administratie@bakkerijdevries.nl" in eva.texts(replies)
    assert sink.messages[0]["Subject"] == "Factuur 2026-0001 van Studio Vos Ontwerp"
    again = document(engine, company, invoice)
    assert (again.number, again.delivery, again.mail_message_id) == ("2026-0001", "mailed", sink.messages[0]["Message-ID"])


async def test_quote_accepted_then_invoiced_then_sent_in_english(chat, engine, services) -> None:  # type: ignore[no-untyped-def]
    company = seed_company(engine, language="en")
    quote = seed_document(engine, company, seed_contact(engine, company, language="en"), kind="quote",
                          discount_percent="10")
    eva = chat(5001, language="en")
    text = plain(eva.texts(await eva.send("/quotes")))
    assert "📬 Sent, awaiting an answer: 1 · €653.40" in text
    await eva.tap("OFF-2026-001")
    card = eva.texts(await eva.tap("Accepted"))
    assert "Status: accepted" in card
    assert [label for label, _ in eva.buttons()] == ["📄 PDF", "🧾 Invoice it", "📑 Duplicate"]
    replies = await eva.tap("Invoice it")
    text = eva.texts(replies)
    assert "The quote is now invoiced" in text and "Invoice (draft)" in text and "Refers to OFF-2026-001" in text
    with relay_for(services, MailSink()) as sink:
        replies = await eva.tap("Send")
    assert "✅ Invoice 2026-0001 sent to administratie@bakkerijdevries.nl" in eva.texts(replies)
    assert document(engine, company, quote).status == "invoiced"
    [invoice] = documents(engine, company, "invoice")
    assert (invoice.number, invoice.quote_id, invoice.total_incl, invoice.status) == ("2026-0001", quote, D("653.40"), "sent")
    assert sink.messages[0]["Subject"] == "Invoice 2026-0001 from Studio Vos Ontwerp"
    # a second "Invoice it" on the old card is refused: one invoice per quote
    assert "no longer possible" in eva.texts(await eva.press(pack(services.secret, eva.chat_id, "ov.inv", quote)))
    assert len(documents(engine, company, "invoice")) == 1


async def test_quotes_declined_and_expired(chat, engine) -> None:  # type: ignore[no-untyped-def]
    company = seed_company(engine)
    contact = seed_contact(engine, company)
    first = seed_document(engine, company, contact, kind="quote")
    second = seed_document(engine, company, contact, kind="quote")
    eva = chat(5001)
    await eva.send("/offertes")
    await eva.tap("OFF-2026-002")
    assert "Status: afgewezen" in eva.texts(await eva.tap("Afgewezen"))
    await eva.send("/offertes")
    await eva.tap("OFF-2026-001")
    assert "Status: verlopen" in eva.texts(await eva.tap("Verlopen"))
    assert (document(engine, company, first).status, document(engine, company, second).status) == ("expired", "declined")
    assert "📁 Afgesloten dit jaar: 2" in eva.texts(await eva.send("/offertes"))


async def test_the_accountant_reads_and_gets_the_pdf_but_changes_nothing(chat, engine, services) -> None:  # type: ignore[no-untyped-def]
    company = seed_company(engine)
    invoice = seed_document(engine, company, seed_contact(engine, company))
    seed_member(engine, company, 6001, Role.ACCOUNTANT)
    anna = chat(6001, first_name="Anna")
    assert "📬 Open: 1" in anna.texts(await anna.send("/facturen"))
    await anna.tap("2026-0001")
    assert [label for label, _ in anna.buttons()] == ["📄 PDF"]
    replies = await anna.tap("PDF")
    [call] = [c for c in replies if c.method == "sendDocument"]
    assert call.files["document"].startswith(b"%PDF-")
    for action in ("ov.pay", "ov.cred", "ov.dup", "send.re"):
        replies = await anna.press(pack(services.secret, anna.chat_id, action, invoice))
        assert "Dat mag je niet doen in dit bedrijf" in anna.texts(replies), action
    assert len(documents(engine, company)) == 1 and document(engine, company, invoice).status == "sent"
