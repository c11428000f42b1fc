"""``klerk bench bot``: time per handled update through HTTP to the local Bot API double.

The real Application (with its real HTTP request: aiohttp when installed, else httpx) talks to
``BotApiDouble``, in a process of its own on 127.0.0.1; updates are fed to ``process_update`` on a
fixed schedule (an open-loop load: a slow turn does not slow the arrivals), from many people at
once. Latency = from the update's arrival to the end of its handling, which includes every Bot API
call over HTTP and every database transaction.

``--webhook``: the bot in webhook mode instead, in ``--processes`` processes of its own (each a
uvicorn server with the ``/telegram/webhook`` route); the double generates the load, POSTs each
update to the process its chat is routed to (sticky, by chat id) and times it from its arrival in
the double to the webhook's answer (given after the handling, see ``bot.webhook``).
"""
from __future__ import annotations

import asyncio
import os
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


def _wait_port(port: int, what: str, proc, timeout: float = 30) -> None:  # type: ignore[no-untyped-def]
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} did not start")


class _DoubleProcess:
    """The Bot API double in a process of its own, as a real Bot API server would be: the bot's
    process then spends its CPU on the bot only. With ``backends`` it routes webhook deliveries."""

    def start(self, backends: list[str] | None = None) -> str:
        import subprocess
        import sys

        port = _free_port()
        self.proc = subprocess.Popen([sys.executable, "-m", "klerk.botapi_double", str(port), *(backends or [])])
        _wait_port(port, "the Bot API double", self.proc, 20)
        return f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


TEXTS = ["/help", "/cancel", "hoi", "/bedrijf"]
SECRET = b"bench-secret"
USER_BASE = 100000


async def _run_load(app, texts: list[str], *, rate: float, count: int, users: int) -> tuple[list[float], float, float]:  # type: ignore[no-untyped-def]
    """Latencies, elapsed seconds, and CPU seconds of this process (the bot, and the arrivals)."""
    latencies: list[float] = []

    async def one(i: int) -> None:
        update = Update.de_json(_text_update(i + 1, 100000 + i % users, texts[i % len(texts)]), app.bot)
        t0 = time.perf_counter()
        await app.process_update(update)
        latencies.append(time.perf_counter() - t0)

    tasks = []
    start, cpu = time.perf_counter(), time.process_time()
    for i in range(count):
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i)))
    await asyncio.gather(*tasks)
    return latencies, time.perf_counter() - start, time.process_time() - cpu


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
        services = Services(engine=engine, secret=SECRET,
                            relay=Relay(host="127.0.0.1", port=sink.port, starttls=False, sender="f@example.nl"))
        app = build_application(services, token="bench:token", base_url=base, deliver_notifications=False)
        results = []
        async with app:
            await _run_load(app, ["/help"], rate=50, count=50, users=users)      # warm-up
            for _ in range(rounds):
                results.append(await _run_load(app, TEXTS, rate=rate, count=count, users=users))
            send_latencies = await _send_turns(app, services.secret, drafts)
        double.stop()
        sink.stop()
        engine.dispose()
    return {**_summary(results, count),
            "send_p50": statistics.median(send_latencies) if send_latencies else 0.0,
            "send_p99": _pct(send_latencies, 0.99) if send_latencies else 0.0, "sends": len(send_latencies)}


def _free_port() -> int:
    import socket

    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return port


def _summary(results: list[tuple[list[float], float, float]], count: int) -> dict[str, float]:
    return {"p50": statistics.median(statistics.median(r[0]) for r in results),
            "p99": statistics.median(_pct(r[0], 0.99) for r in results),
            "throughput": statistics.median(count / r[1] for r in results),
            "cpu_ms": statistics.median(1000 * r[2] / count for r in results)}


# ---- webhook mode: N bot processes behind the double's sticky routing ---------------------------
def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _webhook_process(port: int, base: str, database_url: str, public_url: str, sets_hook: bool) -> None:
    """One bot process in webhook mode: the Application and uvicorn on one event loop."""
    import uvicorn
    from starlette.applications import Starlette

    from bot.webhook import deliver_to, set_webhook, telegram_webhook_route, webhook_secret

    engine = storage.make_engine(database_url)
    services = Services(engine=engine, secret=SECRET)
    app = build_application(services, token="bench:token", base_url=base, deliver_notifications=False)
    web = Starlette(routes=[telegram_webhook_route(deliver_to(app), webhook_secret(SECRET))])
    server = uvicorn.Server(uvicorn.Config(web, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    async with app:
        await app.start()
        serving = asyncio.create_task(server.serve())     # stops on SIGTERM (uvicorn's handler)
        while not server.started and not serving.done():
            await asyncio.sleep(0.02)
        if sets_hook:
            await set_webhook(app, public_url)
        await serving
        await app.stop()
    engine.dispose()


def _post_load(base: str, *, rate: float, count: int, users: int) -> tuple[list[float], float]:
    import httpx

    answer = httpx.post(f"{base}/_person/load", json={"rate": rate, "count": count, "users": users,
                                                      "user_base": USER_BASE, "texts": TEXTS},
                        timeout=count / rate + 300).json()
    return answer["latencies"], answer["elapsed"]


def _bench_webhook(database_url: str | None, *, rate: float, count: int, users: int, rounds: int,
                   processes: int) -> dict[str, float]:
    import subprocess
    import sys

    import httpx

    with tempfile.TemporaryDirectory() as tmp:
        url = database_url or f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        engine = storage.make_engine(url)
        storage.upgrade(engine)
        _seed(engine, users)
        engine.dispose()
        ports = [_free_port() for _ in range(processes)]
        backends = [f"http://127.0.0.1:{port}" for port in ports]
        double = _DoubleProcess()
        base = double.start(backends)
        bots = [subprocess.Popen([sys.executable, "-m", "klerk.bench_bot", "webhook-process", str(port), base, url,
                                  backends[0], "1" if i == 0 else "0"]) for i, port in enumerate(ports)]
        try:
            for port, proc in zip(ports, bots):
                _wait_port(port, "a webhook bot process", proc)
            deadline = time.monotonic() + 30
            while not httpx.get(f"{base}/botbench:token/getWebhookInfo").json()["result"].get("url"):
                if time.monotonic() > deadline:
                    raise RuntimeError("the bot did not set its webhook")
                time.sleep(0.1)
            _post_load(base, rate=50, count=50, users=users)                  # warm-up
            results = []
            for _ in range(rounds):
                cpu = sum(_cpu_seconds(proc.pid) for proc in bots)
                latencies, elapsed = _post_load(base, rate=rate, count=count, users=users)
                results.append((latencies, elapsed, sum(_cpu_seconds(proc.pid) for proc in bots) - cpu))
        finally:
            for proc in bots:
                proc.terminate()
            for proc in bots:
                proc.wait(30)
            double.stop()
    return _summary(results, count)


def bench_bot(*, rate: float, count: int, users: int, rounds: int, database_url: str | None,
              write: Path | None, sends: int = 20, webhook: bool = False, processes: int = 1) -> None:
    if webhook:
        bench_webhook(rate=rate, count=count, users=users, rounds=rounds, database_url=database_url,
                      write=write, processes=processes)
        return
    result = asyncio.run(_bench(database_url, rate=rate, count=count, users=users, rounds=rounds,
                                sends=min(sends, users)))
    db = "PostgreSQL" if database_url and database_url.startswith("postgresql") else "SQLite (embedded default)"
    body = f"""## Bot: time per handled update (text turns), offered {rate:g}/s

Command: `klerk bench bot --rate {rate:g} --count {count} --users {users} --rounds {rounds}` —
{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {_machine()}, database: {db}.
The real Application with its real HTTP client ({_client()}), against the local Bot API double over
HTTP on 127.0.0.1 (a process of its own); {count} updates per round arrive on a fixed schedule at
{rate:g}/s from {users} people (`/help`, `/cancel`, free text, `/bedrijf`: each loads the chat's state
from the database in one read-only query, and answers over HTTP). Medians over {rounds} rounds.

| measure | value |
|---|---|
| p50 per update | {result['p50'] * 1000:.1f} ms |
| p99 per update (goal ≤ 50 ms at 300/s) | **{result['p99'] * 1000:.1f} ms** |
| updates handled per second (offered {rate:g}/s) | {result['throughput']:.0f} |
| CPU of the bot's process per update (with the arrivals) | {result['cpu_ms']:.2f} ms |
| "send invoice" turn, p50 / p99 ({result['sends']} sends, one at a time) | {result['send_p50'] * 1000:.0f} ms / {result['send_p99'] * 1000:.0f} ms |

A "send invoice" turn is the tap on Verzenden: the number is assigned, the PDF (WeasyPrint) and the
UBL are made, and the mail goes through an SMTP server on 127.0.0.1 (aiosmtpd), in one unit of work.
"""
    typer.echo(body)
    if write is not None:
        _update_section(write, f"bot-{rate:g}", body)
        typer.echo(f"written to {write}")


def _client() -> str:
    from bot.http_request import aiohttp

    return "aiohttp" if aiohttp is not None else "httpx, aiohttp not installed"


def bench_webhook(*, rate: float, count: int, users: int, rounds: int, database_url: str | None,
                  write: Path | None, processes: int) -> None:
    """Webhook mode with 1 process (the baseline) and, when asked, with ``processes``, in one run."""
    counts = sorted({1, processes})
    results = {n: _bench_webhook(database_url, rate=rate, count=count, users=users, rounds=rounds, processes=n)
               for n in counts}
    db = "PostgreSQL" if database_url and database_url.startswith("postgresql") else "SQLite (embedded default)"
    rows = "\n".join(
        f"| {n} | {r['p50'] * 1000:.1f} ms | **{r['p99'] * 1000:.1f} ms** | {r['throughput']:.0f} "
        f"({r['throughput'] / results[1]['throughput']:.2f}×) | {r['cpu_ms']:.2f} ms |" for n, r in results.items())
    body = f"""## Bot in webhook mode: 1 against {processes} bot processes, offered {rate:g}/s

Command: `klerk bench bot --webhook --processes {processes} --rate {rate:g} --count {count} --users {users} --rounds {rounds}`
— {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {_machine()}, database: {db}.
Each bot process is the real Application behind the `/telegram/webhook` route (`bot/webhook.py`) in
uvicorn, HTTP client {_client()}. The Bot API double (a process of its own) makes {count} text updates
per round on a fixed schedule at {rate:g}/s from {users} people, POSTs each to the process its chat is
routed to (by chat id, as a sticky load balancer would; one update per chat in flight, so a chat's
order holds) and times it from its arrival in the double to the webhook's answer, which comes after
the update was handled. Medians over {rounds} rounds; the 1-process run is the baseline of the same
run. All processes (double, bots) share the machine's {os.cpu_count()} cores.

| bot processes | p50 per update | p99 per update (goal ≤ 50 ms) | updates/s (vs 1 process) | bot CPU per update |
|---|---|---|---|---|
{rows}
"""
    typer.echo(body)
    if write is not None:
        _update_section(write, "bot-webhook", body)
        typer.echo(f"written to {write}")


if __name__ == "__main__":
    import sys

    if len(sys.argv) == 7 and sys.argv[1] == "webhook-process":      # started by _bench_webhook
        port, base, url, public, sets_hook = sys.argv[2:]
        asyncio.run(_webhook_process(int(port), base, url, public, sets_hook == "1"))
    else:
        raise SystemExit("usage: python -m klerk.bench_bot webhook-process PORT BASE DATABASE_URL PUBLIC_URL 0|1")
