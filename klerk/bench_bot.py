"""``klerk bench bot``: time per handled update through HTTP to the local Bot API double.

The real Application (with PTB's real HTTPX request) talks to ``BotApiDouble``, in a process of its
own on 127.0.0.1; updates
are fed to ``process_update`` on a fixed schedule (an open-loop load: a slow turn does not slow
the arrivals), from many people at once. Latency = from the update's arrival to the end of its
handling, which includes every Bot API call over HTTP and every database transaction.
"""
from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import typer
from telegram import Update

from bot.app import build_application
from bot.context import Services
from core import storage
from core.companies import create_company, get_or_create_person
from klerk.bench import _machine, _update_section

SELLER = dict(street="Keizersgracht 123", postcode="1015 CJ", city="Amsterdam", kvk="12345678",
              vat_id="NL000099998B57", iban="NL91ABNA0417164300", email="facturen@example.nl")


def _seed(engine, users: int, *, drafts: int = 0) -> list[tuple[int, int]]:  # type: ignore[no-untyped-def]
    """A company per person; with ``drafts``, that many invoice drafts (user id, draft id) to send."""
    from datetime import date

    from core.contacts import create_contact
    from core.document import DocumentKind
    from core.documents import create_draft

    out = []
    with storage.session_scope(engine) as s:
        for i in range(users):
            person = get_or_create_person(s, telegram_user_id=100000 + i, name=f"Bench {i}")
            company = create_company(s, f"Bench {i}", owner=person, **SELLER)
            if i < drafts:
                contact = create_contact(s, company.id, "Bakkerij de Vries B.V.", street="Dorpsstraat 1",
                                         postcode="3512 AB", city="Utrecht", email="klant@example.nl")
                doc = create_draft(s, company.id, DocumentKind.INVOICE, contact.id, today=date.today(), lines=[
                    {"description": "Advies", "quantity": "8", "unit": "uur", "unit_price": "75"},
                    {"description": "Drukwerk", "quantity": "3", "unit_price": "12,35", "vat_rate": "9"}])
                out.append((100000 + i, doc.id))
    return out


def _text_update(update_id: int, user_id: int, text: str) -> dict[str, Any]:
    message = {"message_id": update_id, "date": int(time.time()), "chat": {"id": user_id, "type": "private"},
               "from": {"id": user_id, "is_bot": False, "first_name": "Bench", "language_code": "nl"},
               "text": text}
    if text.startswith("/"):
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    return {"update_id": update_id, "message": message}


class _DoubleProcess:
    """The Bot API double in a process of its own, as a real Bot API server would be: the bot's
    process then spends its CPU on the bot only."""

    def start(self) -> str:
        import socket
        import subprocess
        import sys

        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        probe.close()
        self.proc = subprocess.Popen([sys.executable, "-m", "klerk.botapi_double", str(port)])
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                return f"http://127.0.0.1:{port}"
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("the Bot API double did not start")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def _run_load(app, texts: list[str], *, rate: float, count: int, users: int) -> tuple[list[float], float]:  # type: ignore[no-untyped-def]
    latencies: list[float] = []

    async def one(i: int) -> None:
        update = Update.de_json(_text_update(i + 1, 100000 + i % users, texts[i % len(texts)]), app.bot)
        t0 = time.perf_counter()
        await app.process_update(update)
        latencies.append(time.perf_counter() - t0)

    tasks = []
    start = time.perf_counter()
    for i in range(count):
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i)))
    await asyncio.gather(*tasks)
    return latencies, time.perf_counter() - start


async def _send_turns(app, secret: bytes, drafts: list[tuple[int, int]]) -> list[float]:  # type: ignore[no-untyped-def]
    """Tap "Verzenden" on each draft, one after another: number, PDF + UBL, mail through SMTP."""
    from bot.callbacks import pack

    latencies = []
    for n, (user_id, doc_id) in enumerate(drafts):
        user = {"id": user_id, "is_bot": False, "first_name": "Bench", "language_code": "nl"}
        payload = {"update_id": 900000 + n, "callback_query": {
            "id": str(n), "from": user, "chat_instance": "b", "data": pack(secret, user_id, "send.mail", doc_id),
            "message": {"message_id": 1, "date": int(time.time()), "chat": {"id": user_id, "type": "private"},
                        "text": "…"}}}
        t0 = time.perf_counter()
        await app.process_update(Update.de_json(payload, app.bot))
        latencies.append(time.perf_counter() - t0)
    return latencies


async def _bench(database_url: str | None, *, rate: float, count: int, users: int, rounds: int,
                 sends: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        url = database_url or f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        engine = storage.make_engine(url)
        storage.upgrade(engine)
        drafts = _seed(engine, users, drafts=sends)
        double = _DoubleProcess()
        base = double.start()
        from aiosmtpd.controller import Controller
        from aiosmtpd.handlers import Sink

        from core.mail import Relay

        sink = Controller(Sink(), hostname="127.0.0.1", port=_free_port())
        sink.start()
        services = Services(engine=engine, secret=b"bench-secret",
                            relay=Relay(host="127.0.0.1", port=sink.port, starttls=False, sender="f@example.nl"))
        app = build_application(services, token="bench:token", base_url=base, deliver_notifications=False)
        results = []
        async with app:
            await _run_load(app, ["/help"], rate=50, count=50, users=users)      # warm-up
            for _ in range(rounds):
                latencies, elapsed = await _run_load(app, ["/help", "/cancel", "hoi", "/bedrijf"],
                                                     rate=rate, count=count, users=users)
                results.append((latencies, elapsed))
            send_latencies = await _send_turns(app, services.secret, drafts)
        double.stop()
        sink.stop()
        engine.dispose()
    p50 = statistics.median(statistics.median(r[0]) for r in results)
    p99 = statistics.median(_pct(r[0], 0.99) for r in results)
    throughput = statistics.median(count / r[1] for r in results)
    return {"p50": p50, "p99": p99, "throughput": throughput,
            "send_p50": statistics.median(send_latencies) if send_latencies else 0.0,
            "send_p99": _pct(send_latencies, 0.99) if send_latencies else 0.0, "sends": len(send_latencies)}


def _free_port() -> int:
    import socket

    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return port


def bench_bot(*, rate: float, count: int, users: int, rounds: int, database_url: str | None,
              write: Path | None, sends: int = 20) -> None:
    result = asyncio.run(_bench(database_url, rate=rate, count=count, users=users, rounds=rounds,
                                sends=min(sends, users)))
    db = "PostgreSQL" if database_url and database_url.startswith("postgresql") else "SQLite (embedded default)"
    body = f"""## Bot: time per handled update (text turns), offered {rate:g}/s

Command: `klerk bench bot --rate {rate:g} --count {count} --users {users} --rounds {rounds}` —
{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {_machine()}, database: {db}.
The real Application with PTB's HTTPX request, against the local Bot API double over HTTP on
127.0.0.1; {count} updates per round arrive on a fixed schedule at {rate:g}/s from {users} people
(`/help`, `/cancel`, free text, `/bedrijf`: each loads and saves the chat state in the database and
answers over HTTP). Medians over {rounds} rounds.

| measure | value |
|---|---|
| p50 per update | {result['p50'] * 1000:.1f} ms |
| p99 per update (goal ≤ 50 ms at 300/s) | **{result['p99'] * 1000:.1f} ms** |
| updates handled per second (offered {rate:g}/s) | {result['throughput']:.0f} |
| "send invoice" turn, p50 / p99 ({result['sends']} sends, one at a time) | {result['send_p50'] * 1000:.0f} ms / {result['send_p99'] * 1000:.0f} ms |

A "send invoice" turn is the tap on Verzenden: the number is assigned, the PDF (WeasyPrint) and the
UBL are made, and the mail goes through an SMTP server on 127.0.0.1 (aiosmtpd), in one unit of work.
"""
    typer.echo(body)
    if write is not None:
        _update_section(write, f"bot-{rate:g}", body)
        typer.echo(f"written to {write}")
