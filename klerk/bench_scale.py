"""``klerk bench scale``: the chat's overview queries on a large PostgreSQL, and 64 concurrent sends.

1. Load: one company is made through core's own services (``create_company``, ``create_contact``,
   ``create_draft`` with lines, ``finalise_document``, ``record_payment``, the quote outcomes and
   ``invoice_from_quote``), dated over the last ~13 months, so its rows are exactly what the chat
   makes: numbered invoices with frozen parties and totals, open, overdue, partially paid, paid and
   draft, and quotes in every state. The database then copies that company's rows to the other
   companies with one ``INSERT … SELECT … generate_series`` per table and batch (ids shifted, the
   same numbers per company, counters included), and ``ANALYZE``.
2. Overviews: what ``/facturen`` and ``/offertes`` run (``core.overview.invoice_overview`` and
   ``quote_overview``), each in its own unit of work as the bot's ``Services.db`` opens it, for
   random companies; p50/p95/p99 (goal p95 ≤ 20 ms).
3. Sends: 64 threads each send one draft invoice of the same company through ``core.sending.
   send_by_mail`` (finalise, PDF, mail to an aiosmtpd sink on 127.0.0.1, commit); numbers per second,
   and the company's numbers of the year must be 1..N with no gap and no duplicate.
"""
from __future__ import annotations

import os
import random
import re
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import select

from klerk.bench import _machine, _update_section

SELLER = dict(trade_name="Studio Bench", street="Keizersgracht 123", postcode="1015 CJ", city="Amsterdam",
              kvk="12345678", vat_id="NL000099998B57", iban="NL91ABNA0417164300", email="facturen@bench.example")
BUYER = dict(street="Dorpsstraat 1", postcode="3512 AB", city="Utrecht", vat_id="NL853746333B01", kvk="87654321")
WORK = [("Ontwerp huisstijl", "uur", "85", "21"), ("Advies", "uur", "95", "21"), ("Drukwerk", "stuk", "0.45", "21"),
        ("Workshop", "dag", "650", "21"), ("Boeken", "stuk", "24.95", "9"), ("Reiskosten", "km", "0.23", "21")]
SENDER = "facturen@bench.klerk.test"


def _utc(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 10, 0, tzinfo=timezone.utc)


def _lines(rng: random.Random) -> list[dict[str, str]]:
    return [{"description": d, "unit": u, "unit_price": p, "vat_rate": r, "quantity": str(rng.randint(1, 40))}
            for d, u, p, r in rng.sample(WORK, rng.randint(1, 3))]


# ---- 1. the template company, made by core ---------------------------------------------------------

def make_template(engine: Engine, *, invoices: int, quotes: int, contacts: int, today: date, seed: int = 7) -> int:
    """One company made through core's services; returns its id."""
    from core import storage
    from core.companies import create_company
    from core.contacts import create_contact
    from core.document import DocumentKind
    from core.documents import create_draft
    from core.invoices import finalise_document, invoice_from_quote, record_payment, set_quote_outcome

    rng = random.Random(seed)
    quote_outcomes = ["draft", "sent", "accept", "decline", "expire", "invoiced"]
    drafts = max(1, invoices // 20)
    with storage.session_scope(engine) as s:
        company = create_company(s, "Studio Bench 1", **SELLER)
        cid = company.id
        people = [create_contact(s, cid, f"Klant {k} B.V.", email=f"klant{k}@example.nl", **BUYER).id
                  for k in range(contacts)]
        from_quotes: list[tuple[date, int]] = []
        for q in range(quotes):
            day = today - timedelta(days=400 - q * 380 // max(1, quotes))
            outcome = quote_outcomes[q % len(quote_outcomes)]
            doc = create_draft(s, cid, DocumentKind.QUOTE, rng.choice(people), today=day, lines=_lines(rng))
            if outcome == "draft":
                continue
            finalise_document(s, cid, doc.id, today=day, now=_utc(day))
            if outcome in ("accept", "decline", "expire"):
                set_quote_outcome(s, cid, doc.id, outcome, now=_utc(day + timedelta(days=5)))
            elif outcome == "invoiced":
                set_quote_outcome(s, cid, doc.id, "accept", now=_utc(day + timedelta(days=5)))
                made = invoice_from_quote(s, cid, doc.id, today=day + timedelta(days=7), now=_utc(day))
                from_quotes.append((day + timedelta(days=7), made.id))
        fresh = invoices - drafts - len(from_quotes)
        plan: list[tuple[date, int | None]] = [(today - timedelta(days=400 * (fresh - i) // fresh), None)
                                               for i in range(fresh)]
        for i, (day, ready) in enumerate(sorted(plan + from_quotes, key=lambda p: p[0])):
            doc_id = ready or create_draft(s, cid, DocumentKind.INVOICE, rng.choice(people), today=day,
                                           lines=_lines(rng)).id
            doc = finalise_document(s, cid, doc_id, today=day, now=_utc(day))
            age = (today - day).days
            if age > 30 and i % 9 == 4:
                continue                                            # overdue
            if i % 11 == 6:
                record_payment(s, cid, doc.id, (doc.total_incl / 2).quantize(Decimal("0.01")),
                               now=_utc(day + timedelta(days=10)))  # partially paid (open or overdue)
            elif age > 30:
                record_payment(s, cid, doc.id, doc.total_incl, now=_utc(day + timedelta(days=rng.randint(3, 29))))
        for _ in range(drafts):
            create_draft(s, cid, DocumentKind.INVOICE, rng.choice(people), today=today, lines=_lines(rng))
    return cid


# ---- 1b. copies of it, made by the database ---------------------------------------------------------

SHIFTS = {   # table -> column -> the table whose id span shifts it ("company": the company id itself)
    "company": {"id": "company"},
    "contact": {"id": "contact", "company_id": "company"},
    "document": {"id": "document", "company_id": "company", "contact_id": "contact",
                 "original_id": "document", "quote_id": "document"},
    "documentline": {"id": "documentline", "document_id": "document", "company_id": "company"},
    "numbercounter": {"company_id": "company"},
}


def _spans(conn: sa.Connection, company_id: int) -> dict[str, tuple[int, int]]:
    spans = {"company": (company_id, 1)}
    for table in ("contact", "document", "documentline"):
        lo, hi = conn.exec_driver_sql(f'SELECT min(id), max(id) FROM "{table}" WHERE company_id = %s',
                                      (company_id,)).one()
        spans[table] = (lo, hi - lo + 1)
    return spans


def replicate(engine: Engine, company_id: int, companies: int, *, batch: int = 500,
              progress: Callable[[str], None] = print) -> None:
    """Copy the template company's rows to companies 2..``companies`` (ids after the template's)."""
    columns = {t: [c["name"] for c in sa.inspect(engine).get_columns(t)] for t in SHIFTS}
    with engine.connect() as conn:
        spans = _spans(conn, company_id)
        for table, (lo, span) in spans.items():
            top = conn.exec_driver_sql(f'SELECT max(id) FROM "{table}"').scalar_one()
            if top != lo + span - 1:
                raise RuntimeError(f"the {table} table holds rows after the template: use an empty database")
    for first in range(2, companies + 1, batch):
        last = min(companies, first + batch - 1)
        with engine.begin() as conn:
            for table, shifts in SHIFTS.items():
                exprs = []
                for col in columns[table]:
                    if col in shifts:
                        exprs.append(f'"{col}" + (g - 1) * {spans[shifts[col]][1]}')
                    elif table == "company" and col == "name":
                        exprs.append("'Studio Bench ' || g")
                    else:
                        exprs.append(f'"{col}"')
                names = ", ".join(f'"{c}"' for c in columns[table])
                key = "id" if table == "company" else "company_id"
                order = "id, g" if "id" in columns[table] else "g"   # a company's rows spread over pages,
                conn.exec_driver_sql(                                  # as rows written over months are
                    f'INSERT INTO "{table}" ({names}) SELECT {", ".join(exprs)} FROM "{table}", '
                    f'generate_series({first}, {last}) AS g WHERE "{key}" = {company_id} ORDER BY {order}')
        progress(f"  companies 1..{last} loaded")
    with engine.begin() as conn:
        for table in ("company", "contact", "document", "documentline"):
            conn.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                                 f'(SELECT max(id) FROM "{table}"))')
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in SHIFTS:
            conn.exec_driver_sql(f'VACUUM ANALYZE "{table}"')


# ---- 2. the overview queries ----------------------------------------------------------------------

def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def time_overviews(engine: Engine, company_ids: list[int], *, calls: int, today: date,
                   seed: int = 11) -> dict[str, dict[str, float]]:
    """Milliseconds per call (a unit of work each, as the bot runs them) for random companies."""
    from core import storage
    from core.overview import invoice_overview, quote_overview

    rng = random.Random(seed)
    out: dict[str, dict[str, float]] = {}
    functions = {"invoice_overview (/facturen)": invoice_overview, "quote_overview (/offertes)": quote_overview}
    for _ in range(20):                                           # warm: connections, statement caches
        for fn in functions.values():
            with storage.session_scope(engine) as s:
                fn(s, rng.choice(company_ids), today=today)
    samples: dict[str, list[float]] = {name: [] for name in functions}
    rows: dict[str, int] = {name: 0 for name in functions}
    for _ in range(calls):
        company_id = rng.choice(company_ids)
        for name, fn in functions.items():
            t0 = time.perf_counter()
            with storage.session_scope(engine) as s:
                overview = fn(s, company_id, today=today)
            samples[name].append((time.perf_counter() - t0) * 1000)
            rows[name] += sum(sec.count for sec in overview.sections)
    for name, ms in samples.items():
        out[name] = {"p50": _pct(ms, 50), "p95": _pct(ms, 95), "p99": _pct(ms, 99), "max": max(ms),
                     "documents": rows[name] / calls}
    return out


# ---- 3. concurrent sends --------------------------------------------------------------------------

class _Sink:
    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.count += 1
        return "250 Message accepted for delivery"


def _year_seqs(engine: Engine, company_id: int, today: date) -> list[int]:
    from core import storage
    from core.models import Document

    with storage.session_scope(engine) as s:
        numbers = s.exec(select(Document.number).where(Document.company_id == company_id,
                                                       Document.kind == "invoice",
                                                       Document.number.is_not(None))).all()
    prefix = re.compile(rf"^{today.year}-(\d+)$")
    return [int(m.group(1)) for n in numbers if (m := prefix.match(n or ""))]


def concurrent_sends(engine: Engine, company_id: int, *, senders: int, today: date) -> dict[str, Any]:
    from aiosmtpd.controller import Controller

    from core import storage
    from core.document import DocumentKind
    from core.documents import create_draft
    from core.mail import Relay
    from core.models import Contact
    from klerk.bench_postgres import _free_port

    rng = random.Random(3)
    with storage.session_scope(engine) as s:
        contact_id = s.exec(select(Contact.id).where(Contact.company_id == company_id)).first()
        drafts = [create_draft(s, company_id, DocumentKind.INVOICE, contact_id, today=today, lines=_lines(rng)).id
                  for _ in range(senders)]
    before = _year_seqs(engine, company_id, today)
    sink, port = _Sink(), _free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    relay = Relay(host="127.0.0.1", port=port, starttls=False, sender=SENDER, timeout=60)
    errors: list[BaseException] = []
    numbers: list[str] = []
    gate = threading.Barrier(senders + 1)

    def send(doc_id: int) -> None:
        from core.sending import send_by_mail

        gate.wait()
        try:
            with storage.session_scope(engine) as s:
                numbers.append(send_by_mail(s, company_id, doc_id, relay=relay, today=today,
                                            now=datetime.now(timezone.utc)).number)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=send, args=(d,)) for d in drafts]
    try:
        for t in threads:
            t.start()
        gate.wait()
        t0 = time.perf_counter()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - t0
    finally:
        controller.stop()
    if errors:
        raise RuntimeError(f"{len(errors)} of {senders} sends failed: {errors[0]!r}")
    after = _year_seqs(engine, company_id, today)
    return {"senders": senders, "seconds": elapsed, "per_second": senders / elapsed, "mails": sink.count,
            "numbers": sorted(numbers), "first": len(before) + 1, "last": max(after),
            "gap_free": sorted(after) == list(range(1, len(after) + 1)) and len(after) == len(before) + senders,
            "distinct": len(set(numbers)) == senders}


# ---- the command ----------------------------------------------------------------------------------

@dataclass
class ScaleReport:
    load: tuple[float, float]     # 1-minute load average before the timings and after the sends
    companies: int
    invoices: int
    quotes: int
    documents: int
    lines: int
    load_seconds: float
    overviews: dict[str, dict[str, float]]
    sends: dict[str, Any]
    backend: str


def run_scale(url: str, *, companies: int, invoices: int, quotes: int, calls: int, senders: int,
              progress: Callable[[str], None] = print) -> ScaleReport:
    from core import storage
    from klerk.bench_postgres import describe

    today = date.today()
    engine = storage.make_engine(url)
    try:
        storage.upgrade(engine)
        with engine.connect() as conn:
            if conn.exec_driver_sql("SELECT count(*) FROM company").scalar_one():
                raise RuntimeError("the database already holds companies: give an empty one")
        t0 = time.perf_counter()
        template = make_template(engine, invoices=invoices, quotes=quotes, contacts=20, today=today)
        progress(f"  template company {template} made by core in {time.perf_counter() - t0:.1f} s")
        replicate(engine, template, companies, progress=progress)
        load_seconds = time.perf_counter() - t0
        with engine.connect() as conn:
            documents = conn.exec_driver_sql("SELECT count(*) FROM document").scalar_one()
            lines = conn.exec_driver_sql("SELECT count(*) FROM documentline").scalar_one()
            ids = [r[0] for r in conn.exec_driver_sql("SELECT id FROM company")]
        progress(f"  {len(ids)} companies, {documents} documents, {lines} lines in {load_seconds:.0f} s; timing")
        load_before = os.getloadavg()[0]
        overviews = time_overviews(engine, ids, calls=calls, today=today)
        sends = concurrent_sends(engine, template, senders=senders, today=today)
        return ScaleReport(load=(load_before, os.getloadavg()[0]), companies=len(ids), invoices=invoices, quotes=quotes, documents=documents, lines=lines,
                           load_seconds=load_seconds, overviews=overviews, sends=sends, backend=describe(url))
    finally:
        engine.dispose()


def bench_scale(*, companies: int = 10_000, invoices: int = 100, quotes: int = 20, calls: int = 500,
                senders: int = 64, database_url: str | None = None, write: Path | None = None,
                progress: Callable[[str], None] = print) -> ScaleReport:
    """Measure on ``database_url`` (an empty database) or on a private cluster; write the ``scale`` section."""
    from klerk.bench_postgres import cleanup_on_sigterm, private_postgres

    if database_url:
        report = run_scale(database_url, companies=companies, invoices=invoices, quotes=quotes, calls=calls,
                           senders=senders, progress=progress)
        where = "the database given with --database-url"
    else:
        with cleanup_on_sigterm(), private_postgres() as url:
            progress(f"private PostgreSQL cluster at {url.rsplit('@', 1)[1]}")
            report = run_scale(url, companies=companies, invoices=invoices, quotes=quotes, calls=calls,
                               senders=senders, progress=progress)
        where = "a private cluster the bench started (durable defaults: fsync on, shared_buffers 512MB)"
    body = _body(report, calls=calls, where=where)
    progress(body)
    if write is not None:
        _update_section(write, "scale", body)
    return report


def _body(r: ScaleReport, *, calls: int, where: str) -> str:
    rows = "\n".join(f"| `{name}` | {v['documents']:.0f} | {v['p50']:.1f} ms | **{v['p95']:.1f} ms** | "
                     f"{v['p99']:.1f} ms | {v['max']:.1f} ms |" for name, v in r.overviews.items())
    worst = max(v["p95"] for v in r.overviews.values())
    s = r.sends
    return f"""## Scale: overviews on {r.companies:,} companies, {s['senders']} concurrent sends (PostgreSQL)

Command: `klerk bench scale --companies {r.companies} --invoices {r.invoices} --calls {calls} --senders \
{s['senders']}` — {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {_machine()}, {r.backend} on {where}.
Data: {r.companies:,} companies × {r.invoices} invoices and {r.quotes} quotes = {r.documents:,} documents with
{r.lines:,} lines (loaded in {r.load_seconds:.0f} s). One company is made through core's services over the
last 13 months (open, overdue, partially paid, paid and draft invoices; quotes in every state, some
invoiced); the database copies its rows to the others. Each call below is one unit of work as the bot's
`Services.db` runs it, for a random company, {calls} calls each after 20 warm-ups. The machine is
shared: load average (1 min) {r.load[0]:.1f} before the timings, {r.load[1]:.1f} after the sends.

| query (chat command) | documents counted per call | p50 | p95 (goal ≤ 20 ms) | p99 | max |
|---|---|---|---|---|---|
{rows}

Goal p95 ≤ 20 ms: **{"met" if worst <= 20 else "missed"}** (worst p95 {worst:.1f} ms).

**{s['senders']} concurrent invoice sends** of one company ({s['senders']} threads, each
`core.sending.send_by_mail`: number, frozen parties, PDF, mail to an aiosmtpd sink on 127.0.0.1, commit):

| measure | value |
|---|---|
| numbers per second | **{s['per_second']:.1f}** ({s['senders']} in {s['seconds']:.1f} s) |
| numbers handed out | {s['numbers'][0]} … {s['numbers'][-1]} ({len(s['numbers'])}, {"all distinct" if s['distinct'] else "DUPLICATES"}) |
| the year's numbers 1 … {s['last']}: no gap, no duplicate | {"yes" if s['gap_free'] and s['distinct'] else "NO"} |
| mails received by the sink | {s['mails']} |

The counter row is locked (`SELECT … FOR UPDATE`) from the number until the commit, and the PDF is
rendered and the mail handed over inside that transaction (so a refused mail returns the number):
sends of one company are serialised by design, and numbers/s is about 1 ÷ (render + mail) time.
Different companies do not wait for each other.
"""
