"""Payment links on sent invoices through the real Mollie client and the double; failing softly."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlmodel import select

from core import storage
from core.models import Job, Notification
from core.documents import get_document
from core.payments.accounts import connect_provider
from core.payments.links import create_payment_link
from core.payments.models import PaymentRequest
from core.payments.worker import PaymentServices, run_payment_jobs
from tests.conftest import NOW
from tests.payments.conftest import TEST_KEY


def test_a_sent_invoice_gets_a_payment_link_once(session, make_company, make_contact, make_invoice, connect,
                                                 provider, mollie) -> None:  # type: ignore[no-untyped-def]
    company = make_company()
    account = connect(company)
    invoice = make_invoice(company, make_contact(company))
    outcome = create_payment_link(session, provider, company.id, invoice.id, now=NOW)
    assert outcome.status == "created" and outcome.url.startswith(mollie.url + "/payment/")
    assert invoice.payment_link == outcome.url
    (link,) = mollie.links()
    assert link["amount"] == {"value": "121.00", "currency": "EUR"} and link["allowedMethods"] == ["ideal"]
    assert link["description"] == f"Factuur {invoice.number} Studio Vos Ontwerp"
    assert link["webhookUrl"] == f"https://klerk.example/webhooks/mollie?t={account.webhook_token}"
    request = session.exec(select(PaymentRequest)).one()
    assert (request.provider_ref, request.document_id, request.amount) == (link["id"], invoice.id, Decimal("121.00"))
    again = create_payment_link(session, provider, company.id, invoice.id, now=NOW)
    assert (again.status, again.url, len(mollie.links())) == ("exists", outcome.url, 1)


def test_no_provider_no_link(session, make_company, make_contact, make_invoice, provider, mollie) -> None:  # type: ignore[no-untyped-def]
    company = make_company()
    invoice = make_invoice(company, make_contact(company))
    assert create_payment_link(session, provider, company.id, invoice.id, now=NOW).status == "not_configured"
    assert invoice.payment_link == "" and mollie.calls == []


def test_provider_down_the_invoice_still_goes_and_a_job_retries(engine, shop, provider, mollie) -> None:  # type: ignore[no-untyped-def]
    shop.connect()
    invoice = shop.invoice()
    mollie.down = True
    with storage.session_scope(engine) as s:
        assert create_payment_link(s, provider, shop.company_id, invoice.id, now=NOW).status == "retrying"
    with storage.session_scope(engine) as s:
        (note,) = s.exec(select(Notification).where(Notification.kind == "payment_link_failed")).all()
        assert note.payload["retrying"] is True and note.payload["number"] == invoice.number
        (job,) = s.exec(select(Job).where(Job.kind == "payment_link")).all()
        assert job.run_after > NOW
    services = PaymentServices(provider=provider)
    assert run_payment_jobs(engine, services, clock=lambda: NOW) == 0                          # not due yet
    assert run_payment_jobs(engine, services, clock=lambda: NOW + timedelta(minutes=2)) == 1   # still down
    mollie.down = False
    assert run_payment_jobs(engine, services, clock=lambda: NOW + timedelta(hours=2)) == 1
    with storage.session_scope(engine) as s:
        doc = get_document(s, shop.company_id, invoice.id)
        assert doc.payment_link.startswith(mollie.url) and len(mollie.links()) == 1
        assert s.exec(select(Job.status).where(Job.kind == "payment_link")).all() == ["done"]
        assert len(s.exec(select(Notification).where(Notification.kind == "payment_link_failed")).all()) == 1


def test_a_refused_link_fails_softly(session, make_company, make_contact, make_invoice, provider, mollie, box) -> None:  # type: ignore[no-untyped-def]
    company = make_company()
    connect_provider(session, box, company.id, TEST_KEY, now=NOW)      # a key Mollie does not know
    invoice = make_invoice(company, make_contact(company))
    assert create_payment_link(session, provider, company.id, invoice.id, now=NOW).status == "failed"
    (note,) = session.exec(select(Notification).where(Notification.kind == "payment_link_failed")).all()
    assert note.payload["retrying"] is False and "401" in note.payload["error"]
    assert session.exec(select(Job)).all() == []
