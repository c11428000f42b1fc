"""Getting paid, in the chat: the "Betaald!" message and its taps, reminders decided with one tap,
the money questions, and bank statements — through the real Application, asserting the replies and
the database."""
from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlmodel import select
from telegram import Update

from bot.app import load_turn
from bot.callbacks import pack
from bot.context import KlerkContext
from bot.delivery import deliver_due
from bot.flows.payments import import_statement_file, reminder_due
from core import storage
from core.models import Document, Job, Notification, Role
from core.payments import collection
from core.payments.booking import record_manual_payment
from core.payments.collection import rate_row_on
from core.payments.models import BankTransaction, ContactReminderMode, Payment, Reminder
from core.payments.reminders import reminder_facts, run_due_reminders
from core.payments.statements import looks_like_statement, parse_statement
from tests.bot.seed import (
    document,
    relay_for,
    seed_company,
    seed_contact,
    seed_document,
    seed_member,
)
from tests.conftest import NOW, SHARED, TODAY
from tests.mail_sink import MailSink

D = Decimal
BANK = SHARED / "einvoice" / "kit" / "bank"
SAMPLES = sorted(p for p in BANK.glob("*/*") if "LICENSE" not in p.name and "wrong" not in p.name)


def plain(text: str) -> str:
    return text.replace("\xa0", " ").replace("\u202f", " ")


def book(engine, company: int, invoice: int, amount: str) -> None:  # type: ignore[no-untyped-def]
    with storage.session_scope(engine) as s:
        record_manual_payment(s, company, invoice, amount, received_on=TODAY, now=NOW)


def sent(app, chat_id: int, before: int = 0):  # type: ignore[no-untyped-def]
    return [c for c in app.bot_data["request"].calls[before:] if c.chat_id == chat_id]


@pytest.mark.parametrize("language", ["nl", "en"])
async def test_paid_message_then_thank_you_mail(chat, engine, services, bot_app, language) -> None:  # type: ignore[no-untyped-def]
    company = seed_company(engine, language=language)
    contact = seed_contact(engine, company)
    invoice = seed_document(engine, company, contact)                     # 8 × 75 + 21 % = 726.00
    eva = chat(5001, language=language)
    book(engine, company, invoice, "226")
    before = len(bot_app.bot_data["request"].calls)
    assert await deliver_due(bot_app) == 1
    (msg,) = sent(bot_app, 5001, before)
    text = plain(msg.text)
    if language == "nl":
        assert "💶 Betaald! Bakkerij de Vries B.V. betaalde € 226,00 voor factuur 2026-0001" in text
        assert "nog open: € 500,00" in text
        labels = ["Stuur bedankje", "Factuur", "Stop herinneringen"]
    else:
        assert "💶 Paid! Bakkerij de Vries B.V. paid €226.00 for invoice 2026-0001" in text
        assert "€500.00 is still open" in text
        labels = ["Send a thank-you", "Invoice", "Stop reminders"]
    assert all(any(label in b for b, _ in msg.buttons) for label in labels)
    with relay_for(services, MailSink()) as sink:
        reply = eva.texts(await eva.tap(labels[0]))
    assert "administratie@bakkerijdevries.nl" in reply and "2026-0001" in reply
    (mail,) = sink.messages
    assert mail["To"] == "administratie@bakkerijdevries.nl" and "2026-0001" in mail["Subject"]
    assert "betaling van € 226,00" in plain(mail.get_content())              # the invoice's language
    card = eva.texts(await eva.tap(labels[1]))                         # the overview's document card
    assert "2026-0001" in card
    book(engine, company, invoice, "500")
    await deliver_due(bot_app)
    assert ("helemaal betaald" if language == "nl" else "paid in full") in eva.texts(sent(bot_app, 5001, before))
    assert document(engine, company, invoice).status == "paid"


async def test_stop_reminders_pauses_the_contact(chat, engine, bot_app) -> None:  # type: ignore[no-untyped-def]
    company = seed_company(engine)
    contact = seed_contact(engine, company)
    invoice = seed_document(engine, company, contact)
    eva = chat(5001)
    book(engine, company, invoice, "100")
    await deliver_due(bot_app)
    assert "Geen herinneringen meer" in eva.texts(await eva.tap("Stop herinneringen"))
    with storage.session_scope(engine) as s:
        mode = s.exec(select(ContactReminderMode).where(ContactReminderMode.contact_id == contact)).one()
        assert mode.paused is True
        assert run_due_reminders(s, today=TODAY + timedelta(days=60), now=NOW).created == []


def _overdue_reminder(engine, company: int, days_late: int = 5) -> Reminder:  # type: ignore[no-untyped-def]
    with storage.session_scope(engine) as s:
        doc = s.exec(select(Document).where(Document.company_id == company)).one()
        run = run_due_reminders(s, today=doc.due_date + timedelta(days=days_late), now=NOW)
        (reminder,) = run.created
        return reminder


async def test_reminder_approved_with_one_tap_accountant_may_not(chat, engine, services, bot_app) -> None:  # type: ignore[no-untyped-def]
    company = seed_company(engine)
    seed_document(engine, company, seed_contact(engine, company))
    seed_member(engine, company, 5002, Role.ACCOUNTANT)
    reminder = _overdue_reminder(engine, company)
    eva, anna = chat(5001), chat(5002)
    before = len(bot_app.bot_data["request"].calls)
    await deliver_due(bot_app)
    assert sent(bot_app, 5002, before) == []                              # the accountant is not asked
    (msg,) = sent(bot_app, 5001, before)
    assert "⏰ Bakkerij de Vries B.V. is 5 dagen te laat met factuur 2026-0001 (€ 726,00 open)" in plain(msg.text)
    assert [b for b, _ in msg.buttons][:4] == ["📧 Stuur herinnering", "⏭ Nu niet", "📞 Eerst bellen",
                                               "⏳ Wacht 3 dagen"]
    refused = anna.texts(await anna.press(pack(services.secret, 5002, "pay.rok", reminder.id)))
    assert "Er is niets veranderd" in refused
    with storage.session_scope(engine) as s:
        assert s.get(Reminder, reminder.id).status == "pending"
    assert "gaat nu de deur uit" in eva.texts(await eva.tap("Stuur herinnering"))
    with storage.session_scope(engine) as s:
        assert s.get(Reminder, reminder.id).status == "approved"
    assert "Dat kan niet meer" in eva.texts(await eva.tap("Nu niet"))          # decided already


async def test_reminder_call_first_skips_the_stage(chat, engine, bot_app) -> None:  # type: ignore[no-untyped-def]
    company = seed_company(engine)
    seed_document(engine, company, seed_contact(engine, company, phone="020 123 4567"))
    reminder = _overdue_reminder(engine, company)
    eva = chat(5001)
    await deliver_due(bot_app)
    assert "bel eerst Bakkerij de Vries B.V. (020 123 4567)" in eva.texts(await eva.tap("Eerst bellen"))
    with storage.session_scope(engine) as s:
        assert s.get(Reminder, reminder.id).status == "skipped"


async def test_reminder_wait_three_days_then_approve(chat, engine, clock, bot_app) -> None:  # type: ignore[no-untyped-def]
    company = seed_company(engine)
    seed_document(engine, company, seed_contact(engine, company))
    reminder = _overdue_reminder(engine, company)
    clock.now = NOW + timedelta(days=35)                               # the day the invoice is 5 days late
    eva = chat(5001)
    await deliver_due(bot_app)
    assert "Over 3 dagen vraag ik het opnieuw" in eva.texts(await eva.tap("Wacht 3 dagen"))
    with storage.session_scope(engine) as s:
        assert s.get(Reminder, reminder.id).status == "pending"
        assert s.exec(select(Job).where(Job.kind == "reminder_mail")).all() == []
    start = clock.now
    clock.now = start + timedelta(days=3) - timedelta(minutes=1)
    assert await deliver_due(bot_app) == 0                                      # not before
    clock.now = start + timedelta(days=3)
    before = len(bot_app.bot_data["request"].calls)
    assert await deliver_due(bot_app) == 1
    (msg,) = sent(bot_app, 5001, before)
    assert "8 dagen te laat met factuur 2026-0001" in plain(msg.text)            # the facts of that day
    assert "gaat nu de deur uit" in eva.texts(await eva.tap("Stuur herinnering"))
    with storage.session_scope(engine) as s:
        assert s.get(Reminder, reminder.id).status == "approved"
    clock.now = start + timedelta(days=30)
    assert await deliver_due(bot_app) == 0


async def test_reminder_paid_during_the_wait_is_not_asked_again(chat, engine, clock, bot_app) -> None:  # type: ignore[no-untyped-def]
    company = seed_company(engine)
    invoice = seed_document(engine, company, seed_contact(engine, company))
    reminder = _overdue_reminder(engine, company)
    clock.now = NOW + timedelta(days=35)
    eva = chat(5001)
    before = len(bot_app.bot_data["request"].calls)
    await deliver_due(bot_app)
    (question,) = sent(bot_app, 5001, before)
    wait = dict(question.buttons)["⏳ Wacht 3 dagen"]
    await eva.press(wait)
    book(engine, company, invoice, "726")                                       # paid meanwhile
    assert await deliver_due(bot_app) == 1                                      # the "Betaald!" message
    clock.now = clock.now + timedelta(days=3)
    before = len(bot_app.bot_data["request"].calls)
    assert await deliver_due(bot_app) == 0 and sent(bot_app, 5001, before) == []
    with storage.session_scope(engine) as s:
        assert s.get(Reminder, reminder.id).status == "cancelled"
    assert "Dat kan niet meer" in eva.texts(await eva.press(wait))             # the old question's button


async def test_overview_with_chart(chat, engine) -> None:  # type: ignore[no-untyped-def]
    company = seed_company(engine)
    contact = seed_contact(engine, company)
    seed_document(engine, company, contact)
    paid = seed_document(engine, company, contact)
    book(engine, company, paid, "726")
    calls = await chat(5001).send("/overzicht")
    text = plain(calls[0].text)
    assert "📬 Open: 1 facturen · € 726,00" in text and "💶 Ontvangen deze maand: € 726,00" in text
    assert "💶 Ontvangen dit jaar: € 726,00" in text
    (photo,) = [c for c in calls if c.method == "sendPhoto"]
    assert photo.files["photo"].startswith(b"\x89PNG")


async def test_vat_return_with_csv_readable_by_the_accountant(chat, engine) -> None:  # type: ignore[no-untyped-def]
    company = seed_company(engine)
    seed_document(engine, company, seed_contact(engine, company))
    be = seed_contact(engine, company, "Brouwerij Gent BV", country="BE", vat_id="BE0123456749",
                      postcode="9000", city="Gent")
    seed_document(engine, company, be, lines=[{"description": "Advies", "quantity": "1", "unit_price": "1000",
                                               "vat_rate": "0"}], vat_treatment="reverse_charge")
    seed_member(engine, company, 5002, Role.ACCOUNTANT)
    calls = await chat(5002).send("/btw 2026-Q4")
    text = plain(calls[0].text)
    assert "🧾 Btw-aangifte 2026-Q4" in text
    assert re.search(r"1a .*omzet € 600, btw € 126", text)
    assert re.search(r"3b .*omzet € 1000", text) and "BE0123456749 (BE): € 1.000,00" in text
    assert "5b" in text and "1e" in text
    (doc,) = [c for c in calls if c.method == "sendDocument"]
    csv_text = doc.files["document"].decode("utf-8-sig")
    assert csv_text.startswith("Kwartaal;2026-Q4") or "2026-Q4" in csv_text.splitlines()[0]
    assert "1a;" in csv_text and "BE0123456749" in csv_text
    assert "📈 Omzet 2026" in plain((await chat(5002).send("/kor"))[0].text)


async def test_kor_warning_at_80_percent(chat, engine) -> None:  # type: ignore[no-untyped-def]
    company = seed_company(engine, kor=True)
    contact = seed_contact(engine, company)
    seed_document(engine, company, contact, lines=[{"description": "Advies", "quantity": "1",
                                                    "unit_price": "17000", "vat_rate": "0"}], vat_treatment="kor")
    text = plain((await chat(5001).send("/kor"))[0].text)
    assert "📈 Omzet 2026: € 17.000,00 van de KOR-grens van € 20.000,00 (85 %)" in text
    assert "boven 80 % van de grens" in text


def _upload_update(app, user_id: int, filename: str) -> Update:  # type: ignore[no-untyped-def]
    return Update.de_json({"update_id": 1, "message": {
        "message_id": 1, "date": 0, "chat": {"id": user_id, "type": "private"},
        "from": {"id": user_id, "is_bot": False, "first_name": "Eva", "language_code": "nl"},
        "document": {"file_id": "f1", "file_unique_id": "f1", "file_name": filename}}}, app.bot)


async def upload(app, services, user_id: int, filename: str, content: bytes):  # type: ignore[no-untyped-def]
    """What the default file handler does with a statement: hand it to ``import_statement_file``."""
    update = _upload_update(app, user_id, filename)
    context = KlerkContext.from_update(update, app)
    turn = await load_turn(update, context)
    before = len(app.bot_data["request"].calls)
    await import_statement_file(turn, filename, content)
    return sent(app, user_id, before)


def _invoice_open_for(engine, company: int, contact: int, amount: Decimal, reference: str = "") -> int:  # type: ignore[no-untyped-def]
    """An invoice with exactly ``amount`` still open (paid in part by hand), optionally with the
    payment reference the bank line quotes."""
    invoice = seed_document(engine, company, contact, lines=[{"description": "Werk", "quantity": "1",
                                                              "unit_price": str(amount + 100), "vat_rate": "21"}])
    with storage.session_scope(engine) as s:
        doc = s.get(Document, invoice)
        if reference:
            doc.payment_reference = reference
            s.add(doc)
        total = doc.total_incl
    book(engine, company, invoice, str(total - amount))
    return invoice


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
async def test_statement_upload_books_asks_and_nudges(chat, engine, services, bot_app, path) -> None:  # type: ignore[no-untyped-def]
    content = path.read_bytes()
    assert looks_like_statement(path.name, content)
    company = seed_company(engine)
    contact = seed_contact(engine, company)
    lines = [line for st in parse_statement(content) for line in st.lines]
    credits = [line for line in lines if line.direction == "credit" and line.currency == "EUR"]
    token = re.findall(r"(?<![0-9A-Za-z])[A-Za-z0-9]{6,}(?![0-9A-Za-z])", credits[0].remittance) if credits else []
    sure = _invoice_open_for(engine, company, contact, credits[0].amount, token[0]) if token else None
    ask = credits[1 if token else 0] if len(credits) > (1 if token else 0) else None
    asked = _invoice_open_for(engine, company, contact, ask.amount) if ask else None
    await deliver_due(bot_app)                                              # the partial payments by hand
    eva = chat(5001)
    calls = await upload(bot_app, services, 5001, path.name, content)
    report = plain(calls[0].text)
    assert f"{len(lines)} nieuwe regels, 0 al bekend" in report
    with storage.session_scope(engine) as s:
        rows = s.exec(select(BankTransaction).where(BankTransaction.company_id == company)).all()
        assert len(rows) == len(lines)
        if sure:
            assert s.get(Document, sure).status == "paid"
            assert "1 betalingen geboekt" in report
    if sure:
        before = len(bot_app.bot_data["request"].calls)
        await deliver_due(bot_app)
        assert "💶 Betaald!" in eva.texts(sent(bot_app, 5001, before))
    if asked:
        amount = f"{ask.amount:,.2f}".replace(",", " ").replace(".", ",").replace(" ", ".")
        question = next(c for c in calls if "Welke factuur is dit?" in c.text and f"€ {amount} van" in plain(c.text))
        label = next(b for b, _ in question.buttons if b.startswith("Dit is factuur"))
        assert "Negeer" in question.buttons[-1][0]
        assert "geboekt op de factuur" in eva.texts(await eva.press(dict(question.buttons)[label]))
        assert document(engine, company, asked).status == "paid"
    debits = [c for c in calls if "stuur de factuur of bon door" in c.text]
    assert len(debits) == min(10, len([line for line in lines if line.direction == "debit"]))
    if debits:
        assert "geen betaling van een factuur" in eva.texts(await eva.press(debits[0].buttons[0][1]))
    with storage.session_scope(engine) as s:
        payments = len(s.exec(select(Payment)).all())
        notes = len(s.exec(select(Notification).where(Notification.kind == "invoice_paid")).all())
    again = await upload(bot_app, services, 5001, path.name, content)       # replayed: nothing twice
    assert f"0 nieuwe regels, {len(lines)} al bekend" in plain(again[0].text)
    assert not any("Welke factuur" in c.text for c in again)
    with storage.session_scope(engine) as s:
        assert len(s.exec(select(Payment)).all()) == payments
        assert len(s.exec(select(Notification).where(Notification.kind == "invoice_paid")).all()) == notes
        assert len(s.exec(select(BankTransaction)).all()) == len(lines)


async def test_accountant_cannot_import_statements(engine, services, bot_app) -> None:  # type: ignore[no-untyped-def]
    from core.errors import AccessDeniedError

    company = seed_company(engine)
    seed_member(engine, company, 5002, Role.ACCOUNTANT)
    with pytest.raises(AccessDeniedError):
        await upload(bot_app, services, 5002, "ing.sta", (BANK / "mt940" / "ing.sta").read_bytes())
    with storage.session_scope(engine) as s:
        assert s.exec(select(BankTransaction)).all() == []


def test_a_final_business_reminder_names_the_rate_it_used_and_the_chat_warns_while_unconfirmed() -> None:
    facts = reminder_facts(stage=3, is_business=True, open_amount=Decimal("1000.00"), due_date=date(2025, 5, 1),
                           today=date(2025, 8, 1))
    assert (facts.interest_rate, facts.interest_rate_since) == (Decimal("10.15"), date(2025, 7, 1))
    assert rate_row_on(date(2018, 12, 31)) is None
    assert rate_row_on(date(2025, 6, 30)) == (date(2025, 1, 1), Decimal("11.15"))
    payload = {**facts.as_payload(), "contact_name": "Jansen Bouw", "number": "2025-0042", "reminder_id": 1,
               "invoice_id": 1, "has_email": True}
    text = reminder_due(payload, "nl").text
    assert "wettelijke handelsrente" in text
    warning = "De rente is 10,15% per jaar (het percentage vanaf 1 juli 2025)"
    assert (warning in text) is (not collection.RATES_CONFIRMED)
    assert warning not in reminder_due({**payload, "interest_rates_confirmed": True}, "nl").text
    consumer = reminder_facts(stage=3, is_business=False, open_amount=Decimal("1000.00"), due_date=date(2025, 5, 1),
                              today=date(2025, 8, 1))
    assert consumer.interest_rate_since is None and "De rente is" not in reminder_due(
        {**consumer.as_payload(), "reminder_id": 1, "invoice_id": 1, "has_email": True}, "nl").text
