"""Reminders: the schedule, a simulated week with a restart and downtime in the middle, the owner's tap,
automatic mode, the statutory texts, and payments cancelling what is pending."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, UTC
from decimal import Decimal

import pytest
from sqlmodel import select

from core import storage
from core.company_settings import set_setting
from core.document import DocumentKind
from core.documents import create_draft, get_document
from core.errors import ConflictError
from core.invoices import finalise_document
from core.models import Company, Contact, Document, Job, Notification
from core.payments.booking import record_manual_payment
from core.payments.letters import reminder_letter
from core.payments.models import Reminder
from core.outbox import due_notifications
from core.payments.reminders import (Schedule, StageRecord, approve_reminder, next_stage, postpone_reminder,
                                     reminder_facts, run_due_reminders, set_reminder_mode, skip_reminder)
from core.payments.worker import PaymentServices, run_payment_jobs
from tests.payments.conftest import Shop

D = Decimal
DAY0 = date(2026, 12, 1)                     # a Tuesday
SCHEDULE = Schedule(3, 14, 28, 7)


def at(day: date) -> datetime:
    return datetime.combine(day, time(9, 0), tzinfo=UTC)


# ---- the schedule (pure) --------------------------------------------------------------------

def test_first_stage_waits_for_its_day() -> None:
    due = date(2026, 11, 1)
    assert next_stage(due_date=due, today=due + timedelta(days=2), schedule=SCHEDULE, history=[]) is None
    assert next_stage(due_date=due, today=due + timedelta(days=3), schedule=SCHEDULE, history=[]) == 1


def test_after_downtime_only_the_next_stage_comes_and_the_rest_keeps_its_distance() -> None:
    due = date(2026, 1, 1)
    today = due + timedelta(days=60)                                   # every offset has passed
    assert next_stage(due_date=due, today=today, schedule=SCHEDULE, history=[]) == 1
    sent1 = [StageRecord(1, "sent", today)]
    assert next_stage(due_date=due, today=today, schedule=SCHEDULE, history=sent1) is None
    assert next_stage(due_date=due, today=today + timedelta(days=7), schedule=SCHEDULE, history=sent1) == 2
    sent2 = sent1 + [StageRecord(2, "sent", today + timedelta(days=7))]
    assert next_stage(due_date=due, today=today + timedelta(days=14), schedule=SCHEDULE, history=sent2) == 3
    done = sent2 + [StageRecord(3, "sent", today + timedelta(days=14))]
    assert next_stage(due_date=due, today=today + timedelta(days=99), schedule=SCHEDULE, history=done) is None


def test_nothing_new_while_the_owner_has_not_decided() -> None:
    due = date(2026, 1, 1)
    pending = [StageRecord(1, "pending", due + timedelta(days=3))]
    assert next_stage(due_date=due, today=due + timedelta(days=40), schedule=SCHEDULE, history=pending) is None
    skipped = [StageRecord(1, "skipped", due + timedelta(days=3))]
    assert next_stage(due_date=due, today=due + timedelta(days=14), schedule=SCHEDULE, history=skipped) == 2


def test_final_facts_for_a_consumer_and_a_business() -> None:
    consumer = reminder_facts(stage=3, is_business=False, open_amount=D("2500.00"), due_date=date(2026, 10, 1),
                              today=DAY0)
    assert (consumer.collection_costs, consumer.deadline, consumer.interest) == (D("375.00"), date(2026, 12, 15), D(0))
    kor = reminder_facts(stage=3, is_business=False, open_amount=D("100"), due_date=date(2026, 10, 1), today=DAY0,
                         creditor_deducts_vat=False)
    assert kor.collection_costs == D("48.40")                         # EUR 40 + 21 % VAT it cannot deduct
    business = reminder_facts(stage=3, is_business=True, open_amount=D("1000.00"), due_date=date(2025, 12, 31),
                              today=date(2026, 12, 31))
    assert (business.compensation, business.collection_costs, business.deadline) == (D("40.00"), D(0), None)
    assert business.interest == D("101.50")                           # 10.15 % for a year (⚠ table)
    first = reminder_facts(stage=1, is_business=False, open_amount=D("121"), due_date=date(2026, 11, 27), today=DAY0)
    assert (first.days_overdue, first.collection_costs, first.deadline) == (4, D(0), None)


# ---- the letters (pure) ---------------------------------------------------------------------

def _parties(*, language: str = "nl", is_business: bool = False):  # type: ignore[no-untyped-def]
    company = Company(id=1, name="Studio Vos", trade_name="Studio Vos Ontwerp", iban="NL91ABNA0417164300")
    contact = Contact(id=2, company_id=1, name="Jan Jansen", email="jan@example.nl", is_business=is_business)
    doc = Document(id=3, company_id=1, kind="invoice", contact_id=2, number="2026-0007", language=language,
                   issue_date=date(2026, 9, 1), due_date=date(2026, 10, 1), payment_reference="2026-0007",
                   total_incl=D("2500.00"), payment_link="https://pay.example/x")
    return company, contact, doc


def test_the_consumers_last_letter_is_the_statutory_14_day_letter() -> None:
    company, contact, doc = _parties()
    facts = reminder_facts(stage=3, is_business=False, open_amount=D("2500.00"), due_date=doc.due_date, today=DAY0)
    letter = reminder_letter(facts=facts, doc=doc, company=company, contact=contact)
    text = letter.text.replace("\xa0", " ")               # babel keeps "€ 375,00" together
    assert letter.subject == "Laatste herinnering: factuur 2026-0007"
    assert "binnen veertien dagen vanaf de dag nadat deze brief bij u is bezorgd" in text
    assert "uiterlijk op 15 december 2026" in text and "€ 375,00" in text and "€ 2.500,00" in text
    assert "NL91ABNA0417164300" in text and "https://pay.example/x" in text
    assert text.rstrip().endswith("Studio Vos Ontwerp")


def test_a_custom_text_keeps_the_statutory_paragraph() -> None:
    company, contact, doc = _parties(language="en")
    facts = reminder_facts(stage=3, is_business=False, open_amount=D("2500.00"), due_date=doc.due_date, today=DAY0)
    letter = reminder_letter(facts=facts, doc=doc, company=company, contact=contact,
                             custom_text="Hi {contact}, please pay {outstanding} for {number}. {unknown}")
    assert letter.text.startswith("Hi Jan Jansen, please pay €2,500.00 for 2026-0007. {unknown}")
    assert "fourteen days from the day after this letter was delivered" in letter.text
    assert "15 December 2026" in letter.text and "€375.00" in letter.text


def test_the_business_demand_names_interest_and_compensation() -> None:
    company, contact, doc = _parties(is_business=True)
    facts = reminder_facts(stage=3, is_business=True, open_amount=D("2500.00"), due_date=doc.due_date, today=DAY0)
    text = reminder_letter(facts=facts, doc=doc, company=company, contact=contact).text.replace("\xa0", " ")
    assert "wettelijke handelsrente" in text and "€ 40,00" in text
    assert "veertien dagen" not in text


# ---- the scheduler on the database ----------------------------------------------------------

def _reminders(engine) -> list[tuple[int, int, str]]:  # type: ignore[no-untyped-def]
    with storage.session_scope(engine) as s:
        return [(r.document_id, r.stage, r.status) for r in s.exec(select(Reminder).order_by(Reminder.id))]


def _notes(engine, kind: str) -> list[Notification]:  # type: ignore[no-untyped-def]
    with storage.session_scope(engine) as s:
        return list(s.exec(select(Notification).where(Notification.kind == kind).order_by(Notification.id)))


def test_a_simulated_week_with_a_restart_and_downtime(engine, box) -> None:  # type: ignore[no-untyped-def]
    shop = Shop(engine, box, None)
    consumer = shop.contact("Jan Jansen", is_business=False, vat_id="", kvk="", email="jan@example.nl")
    # due 3 days before DAY0 | due 15 days before | due in 2 days | due 40 days before (all offsets passed)
    a = shop.invoice(today=DAY0 - timedelta(days=33), term_days=30)
    b = shop.invoice(today=DAY0 - timedelta(days=45), term_days=30, contact_id=consumer)
    c = shop.invoice(today=DAY0 - timedelta(days=28), term_days=30)
    d = shop.invoice(today=DAY0 - timedelta(days=70), term_days=30)
    created: dict[date, list[tuple[int, int]]] = {}

    def run_day(eng, day: date) -> None:  # type: ignore[no-untyped-def]
        for _ in range(3):                     # the scheduler may run more often than daily
            with storage.session_scope(eng) as s:
                run = run_due_reminders(s, today=day, now=at(day))
                created.setdefault(day, []).extend((r.document_id, r.stage) for r in run.created)

    for i in range(3):                                          # days 0-2 on the first process
        run_day(engine, DAY0 + timedelta(days=i))
        if i == 1:                                              # the owner skips A's friendly reminder
            with storage.session_scope(engine) as s:
                reminder = s.exec(select(Reminder).where(Reminder.document_id == a.id)).one()
                skip_reminder(s, shop.company_id, reminder.id, now=at(DAY0 + timedelta(days=1)))
        if i == 2:                                              # B is paid: its pending reminder is cancelled
            with storage.session_scope(engine) as s:
                record_manual_payment(s, shop.company_id, b.id, "121", received_on=DAY0, now=at(DAY0))
    # "restart": a new engine on the same database; days 3 and 4 the machine was down
    url = engine.url.render_as_string(hide_password=False)
    engine.dispose()
    second = storage.make_engine(url)
    try:
        for i in (5, 6):
            run_day(second, DAY0 + timedelta(days=i))
        assert created == {
            DAY0: [(a.id, 1), (b.id, 1), (d.id, 1)],                   # d: one catch-up, not one per missed day
            DAY0 + timedelta(days=1): [], DAY0 + timedelta(days=2): [],
            DAY0 + timedelta(days=5): [(c.id, 1)],                     # due +3, caught up after the downtime
            DAY0 + timedelta(days=6): [],
        }
        assert _reminders(second) == [(a.id, 1, "skipped"), (b.id, 1, "cancelled"), (d.id, 1, "pending"),
                                      (c.id, 1, "pending")]
        due = _notes(second, "reminder_due")
        assert [(n.payload["invoice_id"], n.payload["stage"]) for n in due] == [(a.id, 1), (b.id, 1), (d.id, 1), (c.id, 1)]
        assert due[1].payload["is_business"] is False and due[1].payload["outstanding"] == "121.00"
        assert due[2].payload["days_overdue"] == 40
        # A: skipped on day 1; its second stage is due at +14 (DAY0+11), not within this week
        with storage.session_scope(second) as s:
            run = run_due_reminders(s, today=DAY0 + timedelta(days=11), now=at(DAY0 + timedelta(days=11)))
            assert [(r.document_id, r.stage) for r in run.created] == [(a.id, 2)]
    finally:
        second.dispose()


def test_approve_sends_once_and_automatic_contacts_need_no_tap(engine, box, mail_sink) -> None:  # type: ignore[no-untyped-def]
    shop = Shop(engine, box, None)
    auto = shop.contact("Auto B.V.", email="auto@example.nl")
    manual_invoice = shop.invoice(today=DAY0 - timedelta(days=33), term_days=30)
    auto_invoice = shop.invoice(today=DAY0 - timedelta(days=33), term_days=30, contact_id=auto)
    with storage.session_scope(engine) as s:
        set_reminder_mode(s, shop.company_id, auto, automatic=True, now=at(DAY0))
        run = run_due_reminders(s, today=DAY0, now=at(DAY0))
        assert [(r.document_id, r.status) for r in run.created] == [(manual_invoice.id, "pending"),
                                                                     (auto_invoice.id, "approved")]
    services = PaymentServices(relay=mail_sink.relay())
    assert run_payment_jobs(engine, services, clock=lambda: at(DAY0)) == 1          # the automatic one
    assert [m["To"] for m in mail_sink.messages] == ["auto@example.nl"]
    (pending,) = _notes(engine, "reminder_due")
    assert pending.payload["invoice_id"] == manual_invoice.id
    with storage.session_scope(engine) as s:
        approve_reminder(s, shop.company_id, pending.payload["reminder_id"], now=at(DAY0))
    assert run_payment_jobs(engine, services, clock=lambda: at(DAY0)) == 1
    mail = mail_sink.messages[-1]
    assert mail["Subject"] == f"Herinnering: factuur {manual_invoice.number}"
    assert mail["To"] == "administratie@bakkerijdevries.nl"
    assert "NL91ABNA0417164300" in mail.get_content()
    with storage.session_scope(engine) as s:
        with pytest.raises(ConflictError):
            approve_reminder(s, shop.company_id, pending.payload["reminder_id"], now=at(DAY0))
    assert run_payment_jobs(engine, services, clock=lambda: at(DAY0 + timedelta(days=1))) == 0
    assert len(mail_sink.messages) == 2
    assert [r[2] for r in _reminders(engine)] == ["sent", "sent"]
    assert len(_notes(engine, "reminder_sent")) == 2


def test_a_temporary_mail_failure_is_retried_and_a_missing_address_is_reported(engine, box, mail_sink) -> None:  # type: ignore[no-untyped-def]
    shop = Shop(engine, box, None)
    nomail = shop.contact("Zonder Mail", email="")
    shop.invoice(today=DAY0 - timedelta(days=33), term_days=30)
    shop.invoice(today=DAY0 - timedelta(days=33), term_days=30, contact_id=nomail)
    with storage.session_scope(engine) as s:
        set_reminder_mode(s, shop.company_id, shop.contact_id, automatic=True, now=at(DAY0))
        set_reminder_mode(s, shop.company_id, nomail, automatic=True, now=at(DAY0))
        run_due_reminders(s, today=DAY0, now=at(DAY0))
    mail_sink.refuse_with = "451 4.3.0 try again later"
    services = PaymentServices(relay=mail_sink.relay())
    assert run_payment_jobs(engine, services, clock=lambda: at(DAY0)) == 2
    assert [r[2] for r in _reminders(engine)] == ["approved", "failed"]
    (failed,) = _notes(engine, "reminder_failed")
    assert failed.payload["contact_name"] == "Zonder Mail" and "no e-mail" in failed.payload["error"]
    mail_sink.refuse_with = None
    assert run_payment_jobs(engine, services, clock=lambda: at(DAY0) + timedelta(minutes=5)) == 1
    assert [r[2] for r in _reminders(engine)] == ["sent", "failed"] and len(mail_sink.messages) == 1


def test_a_payment_cancels_an_approved_reminder_before_it_is_mailed(engine, box, mail_sink) -> None:  # type: ignore[no-untyped-def]
    shop = Shop(engine, box, None)
    invoice = shop.invoice(today=DAY0 - timedelta(days=33), term_days=30)
    with storage.session_scope(engine) as s:
        set_reminder_mode(s, shop.company_id, shop.contact_id, automatic=True, now=at(DAY0))
        run_due_reminders(s, today=DAY0, now=at(DAY0))
        record_manual_payment(s, shop.company_id, invoice.id, "121.00", received_on=DAY0, now=at(DAY0))
    run_payment_jobs(engine, PaymentServices(relay=mail_sink.relay()), clock=lambda: at(DAY0))
    assert mail_sink.messages == [] and _reminders(engine) == [(invoice.id, 1, "cancelled")]


def test_company_schedule_and_texts_come_from_the_company_settings(engine, box, mail_sink) -> None:  # type: ignore[no-untyped-def]
    shop = Shop(engine, box, None)
    shop.invoice(today=DAY0 - timedelta(days=31), term_days=30)            # 1 day overdue
    with storage.session_scope(engine) as s:
        set_setting(s, shop.company_id, "reminder_days", "1,10,20", now=at(DAY0))
        set_setting(s, shop.company_id, "reminder_text_1_nl", "Beste {contact}, nog {outstanding} open.", now=at(DAY0))
        set_reminder_mode(s, shop.company_id, shop.contact_id, automatic=True, now=at(DAY0))
        assert len(run_due_reminders(s, today=DAY0, now=at(DAY0)).created) == 1
    run_payment_jobs(engine, PaymentServices(relay=mail_sink.relay()), clock=lambda: at(DAY0))
    assert mail_sink.messages[0].get_content().replace("\xa0", " ").startswith(
        "Beste Bakkerij de Vries B.V., nog € 121,00 open.")


def test_quotes_about_to_expire_get_one_nudge(engine, box) -> None:  # type: ignore[no-untyped-def]
    shop = Shop(engine, box, None)
    with storage.session_scope(engine) as s:
        quote = create_draft(s, shop.company_id, DocumentKind.QUOTE, shop.contact_id, today=DAY0 - timedelta(days=28),
                             lines=[{"description": "Logo", "quantity": "1", "unit_price": "500"}])
        finalise_document(s, shop.company_id, quote.id, today=DAY0 - timedelta(days=28), now=at(DAY0))
    for i in range(4):
        with storage.session_scope(engine) as s:
            run_due_reminders(s, today=DAY0 + timedelta(days=i), now=at(DAY0))
    (nudge,) = _notes(engine, "quote_expiring")
    assert nudge.payload["quote_id"] == quote.id and nudge.payload["days_left"] == 2
    with storage.session_scope(engine) as s:
        assert get_document(s, shop.company_id, quote.id).status == "sent"
        assert s.exec(select(Job)).all() == []


# ---- "wait 3 days" --------------------------------------------------------------------------

def _questions_due(engine, now: datetime) -> list[Notification]:  # type: ignore[no-untyped-def]
    with storage.session_scope(engine) as s:
        return [n for n in due_notifications(s, now=now) if n.kind == "reminder_due"]


def _deliver(engine, now: datetime) -> None:  # type: ignore[no-untyped-def]
    with storage.session_scope(engine) as s:
        for note in due_notifications(s, now=now):
            note.sent_at = now
            s.add(note)


def test_postpone_keeps_the_reminder_pending_and_asks_again_after_three_days(engine, box, mail_sink) -> None:  # type: ignore[no-untyped-def]
    shop = Shop(engine, box, None)
    invoice = shop.invoice(today=DAY0 - timedelta(days=33), term_days=30)          # 3 days late on DAY0
    with storage.session_scope(engine) as s:
        (reminder,) = run_due_reminders(s, today=DAY0, now=at(DAY0)).created
    _deliver(engine, at(DAY0))                                                     # the first question
    with storage.session_scope(engine) as s:
        note = postpone_reminder(s, shop.company_id, reminder.id, now=at(DAY0))
        assert note.next_attempt_at == at(DAY0 + timedelta(days=3))
        assert s.get(Reminder, reminder.id).status == "pending"
    assert _questions_due(engine, at(DAY0 + timedelta(days=3)) - timedelta(seconds=1)) == []
    for day in (1, 2):                                 # the scheduler meanwhile: nothing new, nothing sent
        with storage.session_scope(engine) as s:
            assert run_due_reminders(s, today=DAY0 + timedelta(days=day), now=at(DAY0 + timedelta(days=day))).created == []
    (again,) = _questions_due(engine, at(DAY0 + timedelta(days=3)))
    assert again.payload["reminder_id"] == reminder.id and again.payload["days_overdue"] == 6
    assert again.payload["postponed"] is True
    with storage.session_scope(engine) as s:
        approve_reminder(s, shop.company_id, reminder.id, now=at(DAY0 + timedelta(days=3)))
    assert run_payment_jobs(engine, PaymentServices(relay=mail_sink.relay()),
                            clock=lambda: at(DAY0 + timedelta(days=3))) == 1
    assert [m["Subject"] for m in mail_sink.messages] == [f"Herinnering: factuur {invoice.number}"]
    assert _reminders(engine) == [(invoice.id, 1, "sent")]
    with storage.session_scope(engine) as s:
        with pytest.raises(ConflictError):                                           # sent: no more waiting
            postpone_reminder(s, shop.company_id, reminder.id, now=at(DAY0 + timedelta(days=3)))


def test_a_payment_during_the_wait_withdraws_the_question(engine, box) -> None:  # type: ignore[no-untyped-def]
    shop = Shop(engine, box, None)
    invoice = shop.invoice(today=DAY0 - timedelta(days=33), term_days=30)
    with storage.session_scope(engine) as s:
        (reminder,) = run_due_reminders(s, today=DAY0, now=at(DAY0)).created
    _deliver(engine, at(DAY0))
    with storage.session_scope(engine) as s:
        postpone_reminder(s, shop.company_id, reminder.id, now=at(DAY0))
        postpone_reminder(s, shop.company_id, reminder.id, days=4, now=at(DAY0))       # a second tap replaces it
    assert [n.next_attempt_at for n in _notes(engine, "reminder_due") if n.sent_at is None] == \
        [at(DAY0 + timedelta(days=4))]
    with storage.session_scope(engine) as s:
        record_manual_payment(s, shop.company_id, invoice.id, "121.00", received_on=DAY0, now=at(DAY0 + timedelta(days=1)))
    assert _questions_due(engine, at(DAY0 + timedelta(days=10))) == []
    assert _reminders(engine) == [(invoice.id, 1, "cancelled")]
    with storage.session_scope(engine) as s:
        with pytest.raises(ConflictError):
            postpone_reminder(s, shop.company_id, reminder.id, now=at(DAY0 + timedelta(days=2)))


def test_a_reminder_left_sending_is_told_to_the_owner_once_and_never_sent_again(engine, box) -> None:  # type: ignore[no-untyped-def]
    import bot.flows  # noqa: F401  (registers the renderers)
    from bot.delivery import RENDERERS
    from core.payments.models import Reminder as ReminderRow

    shop = Shop(engine, box, None)
    invoice = shop.invoice(today=DAY0 - timedelta(days=33), term_days=30)
    with storage.session_scope(engine) as s:
        (reminder,) = run_due_reminders(s, today=DAY0, now=at(DAY0)).created
        approve_reminder(s, shop.company_id, reminder.id, now=at(DAY0))
    with storage.session_scope(engine) as s:            # what a crash after "sending" was committed leaves
        row = s.get(ReminderRow, reminder.id)
        row.status, row.sending_at = "sending", at(DAY0)
        s.add(row)
    with storage.session_scope(engine) as s:
        assert run_due_reminders(s, today=DAY0, now=at(DAY0) + timedelta(minutes=30)).uncertain == 0
    with storage.session_scope(engine) as s:
        assert run_due_reminders(s, today=DAY0, now=at(DAY0) + timedelta(hours=2)).uncertain == 1
    with storage.session_scope(engine) as s:
        assert run_due_reminders(s, today=DAY0 + timedelta(days=1), now=at(DAY0 + timedelta(days=1))).uncertain == 0
        assert s.get(ReminderRow, reminder.id).status == "failed"
    (note,) = _notes(engine, "reminder_failed")
    assert note.payload["uncertain"] is True and note.payload["number"] == invoice.number
    text = RENDERERS["reminder_failed"](note.payload, "nl").text
    assert f"Ik weet niet of de herinnering voor factuur {invoice.number}" in text and "Vraag het je klant" in text
    assert "went out" in RENDERERS["reminder_failed"](note.payload, "en").text
