"""End to end: invoice -> payment link -> the customer pays (double) -> Mollie's webhook reaches the real
Starlette app on loopback -> the job fetches the payment back -> booked -> "invoice_paid" in the outbox."""
from __future__ import annotations

import logging
from decimal import Decimal
from types import SimpleNamespace

import httpx
import pytest
from sqlmodel import select

from core import storage
from core.companies import get_company
from core.documents import get_document
from core.models import Job, Notification
from core.payments.booking import record_manual_payment
from core.payments.links import create_payment_link, start_iban_check
from core.payments.models import Payment
from core.payments.providers import MollieProvider
from core.payments.worker import JobResult, PaymentServices, run_payment_jobs
from core.settings import Settings
from klerk.web import build_web_app
from tests.conftest import NOW, TODAY
from tests.mail_sink import MailSink, smtp_server
from tests.payments.conftest import OTHER_KEY, Shop
from klerk.mollie_double import LoopbackServer

D = Decimal


@pytest.fixture
def site(engine, box, mollie, tmp_path):  # type: ignore[no-untyped-def]
    """Klerk's web app on 127.0.0.1, a provider whose webhooks point at it, and a way to run the jobs."""
    app = build_web_app(engine, Settings(_env_file=None, data_dir=tmp_path), clock=lambda: NOW)
    server = LoopbackServer(app).start()
    provider = MollieProvider(box, api_endpoint=mollie.url, public_url=server.url)
    outcomes: list[str] = []

    def run() -> list[str]:
        outcomes.clear()
        run_payment_jobs(engine, PaymentServices(provider=provider), clock=lambda: NOW,
                         after_job=lambda r: outcomes.append(r.outcome))
        return list(outcomes)

    yield SimpleNamespace(url=server.url, provider=provider, run=run)
    server.stop()


def _link(engine, site, shop: Shop, invoice) -> str:  # type: ignore[no-untyped-def]
    with storage.session_scope(engine) as s:
        assert create_payment_link(s, site.provider, shop.company_id, invoice.id, now=NOW).status == "created"
    return shop.mollie.links()[-1]["id"]


def _notes(engine, kind: str) -> list[Notification]:
    with storage.session_scope(engine) as s:
        return list(s.exec(select(Notification).where(Notification.kind == kind).order_by(Notification.id)))


def test_paid_link_is_booked_once_with_a_paid_notification(engine, shop, site, mollie) -> None:  # type: ignore[no-untyped-def]
    shop.connect()
    invoice = shop.invoice()
    link_id = _link(engine, site, shop, invoice)
    payment_id = mollie.pay_link(link_id, consumer_account="NL91ABNA0417164300", consumer_name="H. de Vries")
    assert mollie.fire_webhook(payment_id) == 200
    assert site.run() == ["booked"]
    with storage.session_scope(engine) as s:
        doc = get_document(s, shop.company_id, invoice.id)
        assert (doc.status, doc.amount_paid) == ("paid", D("121.00"))
        payment = s.exec(select(Payment)).one()
        assert (payment.provider_payment_id, payment.booked, payment.source) == (payment_id, D("121.00"), "mollie")
        assert payment.received_on == TODAY
    (note,) = _notes(engine, "invoice_paid")
    assert note.company_id == shop.company_id
    assert note.payload | {"payment_id": 0} == {
        "invoice_id": invoice.id, "number": invoice.number, "contact_id": shop.contact_id,
        "contact_name": "Bakkerij de Vries B.V.", "payer_name": "H. de Vries", "payer_account": "NL91…4300",
        "amount": "121.00", "currency": "EUR", "total": "121.00", "paid_total": "121.00", "outstanding": "0.00",
        "overpaid": "0.00", "paid_in_full": True, "status": "paid", "source": "mollie", "method": "ideal",
        "payment_id": 0, "received_on": TODAY.isoformat()}
    # Mollie retries, or sends the same webhook twice: it is fetched again and books nothing
    assert mollie.fire_webhook(payment_id) == 200 and mollie.fire_webhook(payment_id) == 200
    assert site.run() == ["replay"]                        # two webhooks while queued: one fetch
    with storage.session_scope(engine) as s:
        assert get_document(s, shop.company_id, invoice.id).amount_paid == D("121.00")
    assert len(_notes(engine, "invoice_paid")) == 1


def test_partial_payment_says_what_remains_and_the_link_follows_the_amount(engine, shop, site, mollie) -> None:  # type: ignore[no-untyped-def]
    shop.connect()
    invoice = shop.invoice()
    first_link = _link(engine, site, shop, invoice)
    with storage.session_scope(engine) as s:          # 21,00 arrived by bank transfer first
        record_manual_payment(s, shop.company_id, invoice.id, "21", received_on=TODAY, now=NOW)
    (partial,) = _notes(engine, "invoice_paid")
    assert (partial.payload["amount"], partial.payload["outstanding"], partial.payload["paid_in_full"]) == \
        ("21.00", "100.00", False)
    assert site.run() == ["created"]                  # a new link for what is open now
    links = mollie.links()
    assert [link["amount"]["value"] for link in links] == ["121.00", "100.00"]
    payment_id = mollie.pay_link(links[1]["id"])
    mollie.fire_webhook(payment_id)
    assert site.run() == ["booked"]
    last = _notes(engine, "invoice_paid")[-1]
    assert (last.payload["amount"], last.payload["outstanding"], last.payload["paid_in_full"]) == ("100.00", "0.00", True)
    with storage.session_scope(engine) as s:
        assert get_document(s, shop.company_id, invoice.id).status == "paid"
    assert first_link != links[1]["id"]


def test_refund_and_chargeback_take_the_money_off_again(engine, shop, site, mollie) -> None:  # type: ignore[no-untyped-def]
    shop.connect()
    invoice = shop.invoice()
    payment_id = mollie.pay_link(_link(engine, site, shop, invoice))
    mollie.fire_webhook(payment_id)
    assert site.run() == ["booked"]
    mollie.refund(payment_id, "21.00")
    mollie.fire_webhook(payment_id)
    assert site.run() == ["booked", "created"]            # open again: a fresh link for the 21,00
    with storage.session_scope(engine) as s:
        doc = get_document(s, shop.company_id, invoice.id)
        assert (doc.status, doc.amount_paid) == ("partially_paid", D("100.00"))
    mollie.chargeback(payment_id, "100.00")
    mollie.fire_webhook(payment_id)
    site.run()
    with storage.session_scope(engine) as s:
        doc = get_document(s, shop.company_id, invoice.id)
        assert (doc.status, doc.amount_paid) == ("sent", D("0.00"))
        assert s.exec(select(Payment.booked)).one() == D("0.00")
    reversed_ = _notes(engine, "payment_reversed")
    assert [(n.payload["amount"], n.payload["reason"], n.payload["outstanding"]) for n in reversed_] == [
        ("21.00", "refunded", "21.00"), ("100.00", "charged_back", "121.00")]


def test_a_webhook_for_another_companys_payment_changes_nothing(engine, box, mollie, site, caplog) -> None:  # type: ignore[no-untyped-def]
    ours, theirs = Shop(engine, box, mollie), Shop(engine, box, mollie, name="Ander Bureau")
    our_account, their_account = ours.connect(), theirs.connect(OTHER_KEY)
    our_invoice, their_invoice = ours.invoice(), theirs.invoice("200")
    _link(engine, site, ours, our_invoice)
    their_payment = mollie.pay_link(_link(engine, site, theirs, their_invoice))
    caplog.set_level(logging.WARNING, logger="core.payments")
    # a forged (or misrouted) webhook: their payment id on our webhook URL
    url = f"{site.url}/webhooks/mollie?t={our_account.webhook_token}"
    assert mollie.fire_webhook(their_payment, webhook_url=url) == 200
    assert site.run() == ["unknown"]
    with storage.session_scope(engine) as s:
        assert get_document(s, ours.company_id, our_invoice.id).status == "sent"
        assert get_document(s, theirs.company_id, their_invoice.id).status == "sent"
        assert s.exec(select(Payment)).all() == []
    assert _notes(engine, "invoice_paid") == []
    assert "unknown to company" in caplog.text and their_payment not in caplog.text
    # an id nobody knows
    assert httpx.post(url, data={"id": "tr_doesnotexist"}).status_code == 200
    assert site.run() == ["unknown"]
    # the real webhook, on their URL, books theirs
    assert mollie.fire_webhook(their_payment) == 200 and their_account.webhook_token in their_invoice_url(mollie)
    assert site.run() == ["booked"]
    (note,) = _notes(engine, "invoice_paid")
    assert note.company_id == theirs.company_id and note.payload["amount"] == "242.00"


def their_invoice_url(mollie) -> str:  # type: ignore[no-untyped-def]
    return mollie.links()[-1]["webhookUrl"]


def test_the_endpoint_answers_fast_and_refuses_junk(engine, shop, site) -> None:  # type: ignore[no-untyped-def]
    account = shop.connect()
    url = f"{site.url}/webhooks/mollie"
    assert httpx.post(url + "?t=unknown-token", data={"id": "tr_abcdefghij"}).status_code == 200
    assert httpx.post(url + f"?t={account.webhook_token}", data={"id": "'; drop table job"}).status_code == 400
    assert httpx.post(url + f"?t={account.webhook_token}", data={}).status_code == 400
    assert httpx.post(url, content=b"id=" + b"x" * 10000,
                      headers={"content-type": "application/x-www-form-urlencoded"}).status_code == 413
    assert httpx.get(url).status_code == 405
    with storage.session_scope(engine) as s:
        assert s.exec(select(Job)).all() == []
    health = httpx.get(f"{site.url}/healthz")
    assert health.status_code == 200 and health.json()["status"] == "ok"


def test_iban_check_verifies_the_company_account(engine, shop, site, mollie) -> None:  # type: ignore[no-untyped-def]
    shop.connect()
    with storage.session_scope(engine) as s:
        check = start_iban_check(s, site.provider, shop.company_id, now=NOW, redirect_url="https://t.me/klerkbot")
    payment = mollie.payment(check.payment_id)
    assert payment["amount"] == {"value": "0.01", "currency": "EUR"} and check.checkout_url.startswith(mollie.url)
    mollie.fire_webhook(check.payment_id)                  # opened, not paid yet
    assert site.run() == ["not_paid"]
    mollie.pay(check.payment_id, consumer_account="NL91ABNA0417164300", consumer_name="S. de Vos")
    mollie.fire_webhook(check.payment_id)
    assert site.run() == ["verified"]
    with storage.session_scope(engine) as s:
        assert get_company(s, shop.company_id).iban_verified_at is not None
    (note,) = _notes(engine, "iban_verified")
    assert note.payload == {"company_iban": "NL91…4300", "paying_account": "NL91…4300", "paying_name": "S. de Vos"}
    mollie.fire_webhook(check.payment_id)
    assert site.run() == ["done"]


def test_iban_check_from_another_account_is_a_mismatch(engine, shop, site, mollie) -> None:  # type: ignore[no-untyped-def]
    shop.connect()
    with storage.session_scope(engine) as s:
        check = start_iban_check(s, site.provider, shop.company_id, now=NOW)
    mollie.pay(check.payment_id, consumer_account="NL20INGB0001234567")
    mollie.fire_webhook(check.payment_id)
    assert site.run() == ["mismatch"]
    with storage.session_scope(engine) as s:
        assert get_company(s, shop.company_id).iban_verified_at is None
    (note,) = _notes(engine, "iban_mismatch")
    assert note.payload["paying_account"] == "NL20…4567"


def test_job_result_reports_each_job(engine, shop, site, mollie) -> None:  # type: ignore[no-untyped-def]
    shop.connect()
    invoice = shop.invoice()
    payment_id = mollie.pay_link(_link(engine, site, shop, invoice))
    mollie.fire_webhook(payment_id)
    seen: list[JobResult] = []
    run_payment_jobs(engine, PaymentServices(provider=site.provider), clock=lambda: NOW, after_job=seen.append)
    assert [(r.kind, r.outcome) for r in seen] == [("mollie_webhook", "booked")]


def test_two_workers_on_the_same_payment_book_it_once(engine, shop, site, mollie) -> None:  # type: ignore[no-untyped-def]
    from concurrent.futures import ThreadPoolExecutor

    from core.payments.webhooks import process_mollie_webhook

    shop.connect()
    invoices = [shop.invoice() for _ in range(3)]
    payments = [mollie.pay_link(_link(engine, site, shop, invoice)) for invoice in invoices]
    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(lambda pid: process_mollie_webhook(engine, site.provider, company_id=shop.company_id,
                                                                   payment_id=pid, now=NOW), payments * 2))
    assert sorted(results) == ["booked"] * 3 + ["replay"] * 3
    with storage.session_scope(engine) as s:
        assert [get_document(s, shop.company_id, i.id).amount_paid for i in invoices] == [D("121.00")] * 3
    assert len(_notes(engine, "invoice_paid")) == 3


def test_a_booking_racing_an_uncommitted_one_waits_and_books_nothing(engine, shop) -> None:  # type: ignore[no-untyped-def]
    import threading

    from core.payments.booking import Received, apply_payment

    invoice = shop.invoice()
    received = Received(source="mollie", provider_payment_id="tr_race000001", amount=D("121.00"), net=D("121.00"))
    outcome: list = []
    first = storage.session_scope(engine)
    s1 = first.__enter__()
    assert apply_payment(s1, shop.company_id, invoice.id, received, now=NOW).delta == D("121.00")   # not committed

    def second() -> None:
        with storage.session_scope(engine) as s2:
            outcome.append(apply_payment(s2, shop.company_id, invoice.id, received, now=NOW).delta)

    thread = threading.Thread(target=second)
    thread.start()
    thread.join(0.5)
    assert thread.is_alive() and outcome == []            # waits for the first transaction
    first.__exit__(None, None, None)                      # commit
    thread.join(10)
    assert outcome == [D("0.00")]
    with storage.session_scope(engine) as s:
        assert get_document(s, shop.company_id, invoice.id).amount_paid == D("121.00")
    assert len(_notes(engine, "invoice_paid")) == 1


def test_the_worker_thread_is_woken_by_the_webhook(engine, shop, box, mollie, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import time

    from klerk.web import PaymentWorker

    clock = lambda: NOW
    workers: list[PaymentWorker] = []
    app = build_web_app(engine, Settings(_env_file=None, data_dir=tmp_path, public_url="https://x.example"),
                        clock=clock, on_webhook=lambda: workers[0].wake())
    server = LoopbackServer(app).start()
    provider = MollieProvider(box, api_endpoint=mollie.url, public_url=server.url)
    worker = PaymentWorker(engine, PaymentServices(provider=provider), clock=clock, poll=60.0)
    workers.append(worker)
    worker.start()
    try:
        shop.connect()
        invoice = shop.invoice()
        with storage.session_scope(engine) as s:
            create_payment_link(s, provider, shop.company_id, invoice.id, now=NOW)
        payment_id = mollie.pay_link(mollie.links()[0]["id"])
        started = time.monotonic()
        assert mollie.fire_webhook(payment_id) == 200
        while not _notes(engine, "invoice_paid") and time.monotonic() - started < 10:
            time.sleep(0.01)
        assert time.monotonic() - started < 5 and len(_notes(engine, "invoice_paid")) == 1
        assert httpx.get(f"{server.url}/healthz").json()["webhooks"] == "on"
    finally:
        worker.stop()
        server.stop()


def test_without_webhooks_polling_books_the_same_way(engine, shop, box, mollie) -> None:  # type: ignore[no-untyped-def]
    from core.payments.booking import invoice_payments
    from core.payments.webhooks import poll_iban_check, poll_payment_links

    provider = MollieProvider(box, api_endpoint=mollie.url)          # no public URL: no webhooks
    shop.connect()
    invoice = shop.invoice()
    with storage.session_scope(engine) as s:
        create_payment_link(s, provider, shop.company_id, invoice.id, now=NOW)
        check = start_iban_check(s, provider, shop.company_id, now=NOW, redirect_url="https://t.me/klerkbot")
    assert mollie.links()[0]["webhookUrl"] is None
    assert poll_payment_links(engine, provider, now=NOW) == []
    payment_id = mollie.pay_link(mollie.links()[0]["id"])
    assert poll_payment_links(engine, provider, now=NOW) == ["booked"]
    assert poll_payment_links(engine, provider, now=NOW) == []              # the link is done
    with storage.session_scope(engine) as s:
        (payment,) = invoice_payments(s, shop.company_id, invoice.id)
        assert payment.provider_payment_id == payment_id
    assert poll_iban_check(engine, provider, shop.company_id, now=NOW) == "not_paid"
    mollie.pay(check.payment_id, consumer_account="NL91ABNA0417164300")
    assert poll_iban_check(engine, provider, shop.company_id, now=NOW) == "verified"


def test_money_for_an_invoice_already_paid_is_reported_not_booked(engine, shop, site, mollie) -> None:  # type: ignore[no-untyped-def]
    shop.connect()
    invoice = shop.invoice()
    link_id = _link(engine, site, shop, invoice)
    with storage.session_scope(engine) as s:          # paid by bank transfer meanwhile
        record_manual_payment(s, shop.company_id, invoice.id, "121", received_on=TODAY, now=NOW)
    payment_id = mollie.pay_link(link_id)             # ... and the customer also paid the link
    mollie.fire_webhook(payment_id)
    assert site.run() == ["unapplied"]
    mollie.fire_webhook(payment_id)
    assert site.run() == ["unapplied"]
    with storage.session_scope(engine) as s:
        assert get_document(s, shop.company_id, invoice.id).amount_paid == D("121.00")
    (note,) = _notes(engine, "payment_unapplied")
    assert (note.payload["amount"], note.payload["status"], note.payload["source"]) == ("121.00", "paid", "mollie")
    assert len(_notes(engine, "invoice_paid")) == 1                      # only the bank transfer


# ---- the owner's "payment_mail" -------------------------------------------------------------

def _set(engine, company_id: int, key: str, value: str) -> None:  # type: ignore[no-untyped-def]
    from core.company_settings import set_setting

    with storage.session_scope(engine) as s:
        set_setting(s, company_id, key, value, now=NOW)


def _jobs(engine, kind: str) -> list[Job]:  # type: ignore[no-untyped-def]
    with storage.session_scope(engine) as s:
        return list(s.exec(select(Job).where(Job.kind == kind)))


def test_payment_mail_goes_once_to_the_company_when_the_owner_wants_it(engine, shop, site, mollie) -> None:  # type: ignore[no-untyped-def]
    shop.connect()
    _set(engine, shop.company_id, "payment_mail", "on")
    invoice = shop.invoice("1000")                                         # 1.210,00 to pay
    link_id = _link(engine, site, shop, invoice)
    payment_id = mollie.pay_link(link_id, consumer_name="H. de Vries")
    sink = MailSink()
    with smtp_server(sink) as relay:
        services = PaymentServices(provider=site.provider, relay=relay)
        mollie.fire_webhook(payment_id)
        run_payment_jobs(engine, services, clock=lambda: NOW)              # books, then mails
        mollie.fire_webhook(payment_id)                                    # a replayed webhook
        run_payment_jobs(engine, services, clock=lambda: NOW)
    (mail,) = sink.messages
    assert sink.envelopes[0][1] == ["facturen@studiovos.nl"]
    body = mail.get_content().replace("\xa0", " ")
    assert mail["Subject"] == f"Betaald: factuur {invoice.number} van Bakkerij de Vries B.V."
    assert f"Betaald: factuur {invoice.number} van Bakkerij de Vries B.V. — € 1.210,00 ontvangen, nog open € 0,00" in body
    assert [j.status for j in _jobs(engine, "payment_mail")] == ["done"]


def test_payment_mail_in_english_and_not_when_the_setting_is_off(engine, box, mollie) -> None:  # type: ignore[no-untyped-def]
    off = Shop(engine, box, mollie, name="Uit B.V.")
    with storage.session_scope(engine) as s:
        record_manual_payment(s, off.company_id, off.invoice().id, "121", received_on=TODAY, now=NOW)
    assert _jobs(engine, "payment_mail") == []
    english = Shop(engine, box, mollie, name="Acme Ltd", language="en")
    _set(engine, english.company_id, "payment_mail", "on")
    invoice = english.invoice()
    with storage.session_scope(engine) as s:
        record_manual_payment(s, english.company_id, invoice.id, "21", received_on=TODAY, now=NOW)
    sink = MailSink()
    with smtp_server(sink) as relay:
        assert run_payment_jobs(engine, PaymentServices(relay=relay), clock=lambda: NOW) == 1
    (mail,) = sink.messages
    assert f"Paid: invoice {invoice.number} from Bakkerij de Vries B.V. — €21.00 received, €100.00 still open." \
        in mail.get_content()
