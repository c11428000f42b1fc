"""``klerk bench payments``: how long from Mollie's webhook to the "paid" notification in the outbox.

The real pieces on loopback: Klerk's Starlette app under uvicorn, the payment worker thread woken by
the webhook, the real mollie-api-python client against the Mollie double of the test suite
(``klerk/mollie_double.py``), and a SQLite file (or ``database_url``).
Each run: the customer has paid a link; the double POSTs ``id=tr_…`` to the webhook; the clock stops
when the worker reports the job done — after the transaction holding the booking and the
``invoice_paid`` row has committed, so the figure is an upper bound for "notification committed".
"""
from __future__ import annotations

import queue
import statistics
import sys
import tempfile
import time
from datetime import datetime, UTC
from pathlib import Path

import httpx

from klerk.bench import REPO, _machine, _update_section


def bench_webhook(*, runs: int = 50, write: Path | None = None, database_url: str = "") -> dict[str, float]:
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    from cryptography.fernet import Fernet
    from sqlmodel import select

    from core import storage
    from core.companies import create_company
    from core.contacts import create_contact
    from core.document import DocumentKind
    from core.documents import create_draft
    from core.invoices import finalise_document
    from core.models import Notification
    from core.payments.accounts import connect_provider
    from core.payments.links import create_payment_link
    from core.payments.providers import MollieProvider
    from core.secrets import SecretBox
    from core.payments.worker import JobResult, PaymentServices
    from core.settings import Settings
    from klerk.web import PaymentWorker, build_web_app
    from klerk.mollie_double import LoopbackServer, MollieDouble

    warmup = 3
    total = runs + warmup
    clock = lambda: datetime.now(UTC)
    done: queue.Queue[tuple[JobResult, float]] = queue.Queue()
    with tempfile.TemporaryDirectory() as tmp:
        engine = storage.make_engine(database_url or f"sqlite:///{tmp}/klerk.sqlite3")
        storage.upgrade(engine)
        double = MollieDouble().start()
        box = SecretBox(Fernet.generate_key())
        key = "test_" + "b" * 30
        double.add_account(key)
        worker_ref: list[PaymentWorker] = []
        app = build_web_app(engine, Settings(_env_file=None, data_dir=Path(tmp)), clock=clock,
                            on_webhook=lambda: worker_ref[0].wake())
        web = LoopbackServer(app).start()
        provider = MollieProvider(box, api_endpoint=double.url, public_url=web.url)
        worker = PaymentWorker(engine, PaymentServices(provider=provider), clock=clock, poll=30.0,
                               after_job=lambda r: done.put((r, time.perf_counter())))
        worker_ref.append(worker)
        payment_ids = []
        with storage.session_scope(engine) as s:
            company = create_company(s, "Bench B.V.", street="Keizersgracht 1", postcode="1015 CJ", city="Amsterdam",
                                     kvk="12345678", vat_id="NL000099998B57", iban="NL91ABNA0417164300")
            contact = create_contact(s, company.id, "Klant B.V.", street="Dorpsstraat 1", postcode="3512 AB",
                                     city="Utrecht", vat_id="NL853746333B01", kvk="87654321")
            connect_provider(s, box, company.id, key, now=clock())
            for _ in range(total):
                today = clock().date()
                doc = create_draft(s, company.id, DocumentKind.INVOICE, contact.id, today=today, lines=[
                    {"description": "Werk", "quantity": "1", "unit_price": "100", "vat_rate": "21"}])
                finalise_document(s, company.id, doc.id, today=today, now=clock())
                create_payment_link(s, provider, company.id, doc.id, now=clock())
        for link in double.links():
            payment_ids.append(double.pay_link(link["id"]))
        worker.start()
        latency, response = [], []
        try:
            with httpx.Client(timeout=10) as client:
                for payment_id in payment_ids:
                    url = double.payment(payment_id)["webhookUrl"]
                    t0 = time.perf_counter()
                    status = client.post(url, data={"id": payment_id}).status_code
                    t_answer = time.perf_counter()
                    result, t_done = done.get(timeout=30)
                    if status != 200 or result.outcome != "booked":
                        raise RuntimeError(f"run failed: HTTP {status}, job {result.outcome}")
                    latency.append(t_done - t0)
                    response.append(t_answer - t0)
            with storage.session_scope(engine) as s:
                notes = len(s.exec(select(Notification.id).where(Notification.kind == "invoice_paid")).all())
        finally:
            worker.stop()
            web.stop()
            double.stop()
            engine.dispose()
    if notes != total:
        raise RuntimeError(f"expected {total} notifications, found {notes}")
    latency, response = latency[warmup:], response[warmup:]
    figures = {
        "median_ms": statistics.median(latency) * 1000,
        "p95_ms": sorted(latency)[max(0, int(len(latency) * 0.95) - 1)] * 1000,
        "max_ms": max(latency) * 1000,
        "response_median_ms": statistics.median(response) * 1000,
        "response_max_ms": max(response) * 1000,
    }
    backend = "PostgreSQL" if database_url.startswith("postgresql") else "SQLite (WAL, file)"
    body = f"""## Payments: Mollie webhook -> "paid" notification

Command: `klerk bench payments --runs {runs}` — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {_machine()}, {backend}.
Each run: a paid payment link; the webhook (`id=tr_…` only) is POSTed to Klerk's Starlette app (uvicorn on
127.0.0.1), which stores a job and answers; the worker thread, woken by the webhook, fetches the payment
back from the Mollie double with the real mollie-api-python client, books it and commits the
`invoice_paid` row. {runs} runs after {warmup} warm-ups, one at a time.

| measure | value |
|---|---|
| webhook received -> notification committed, median | **{figures['median_ms']:.1f} ms** |
| same, 95th percentile / max | {figures['p95_ms']:.1f} / {figures['max_ms']:.1f} ms |
| webhook answered (HTTP 200), median / max (goal < 1 s) | {figures['response_median_ms']:.1f} / {figures['response_max_ms']:.1f} ms |
"""
    print(body)
    if write is not None:
        _update_section(write, "payments-webhook", body)
        print(f"written to {write}")
    return figures
