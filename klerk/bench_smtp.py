"""``klerk bench smtp``: how many mails per second the SMTP ingest accepts with durable storage.

Each run sends ``messages`` mails over ``connections`` parallel SMTP connections on loopback to a
real ingest (aiosmtpd + Klerk's handler: raw file written and fsynced, row and job committed
before the 250), and — interleaved, same process — to a bare aiosmtpd that throws the mail away,
as the baseline of what the SMTP layer costs by itself. Reported: medians over the runs.
"""
from __future__ import annotations

import os
import smtplib
import socket
import statistics
import tempfile
import threading
import time
from datetime import datetime, timezone
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from sqlmodel import select

from klerk.bench import _machine, _update_section

DOMAIN = "bench.klerk.test"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Discard:
    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        return "250 OK"


def _message(to: str, size: int, n: int) -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "bench@example.nl", to, f"Bon {n}"
    msg["Message-ID"] = f"<bench-{n}-{os.urandom(6).hex()}@example.nl>"
    msg.set_content("Zie bijlage.")
    msg.add_attachment(b"%PDF-1.4\n" + os.urandom(size), maintype="application", subtype="pdf", filename="bon.pdf")
    return msg.as_bytes(policy=msg.policy.clone(linesep="\r\n"))


def _send_all(port: int, to: str, mails: list[bytes], connections: int) -> float:
    """Seconds to deliver ``mails`` over ``connections`` connections (each reused, as an MTA does)."""
    errors: list[BaseException] = []

    def worker(chunk: list[bytes]) -> None:
        try:
            with smtplib.SMTP("127.0.0.1", port, timeout=60) as smtp:
                for data in chunk:
                    smtp.sendmail("bench@example.nl", [to], data)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(mails[i::connections],)) for i in range(connections)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    if errors:
        raise RuntimeError(f"sending failed: {errors[0]!r}")
    return elapsed


def bench_smtp(*, messages: int = 200, runs: int = 5, connections: int = 4, size: int = 20_000,
               database_url: str | None = None, write: Path | None = None) -> dict[str, float]:
    """Measure; print a summary; write the ``smtp`` section of ``write`` (BENCHMARKS.md) if given."""
    from core import storage
    from core.companies import create_company
    from core.inbox.addresses import address_of, ingest_address
    from core.inbox.models import InboundMessage
    from core.inbox.store import FileStore
    from ingest.smtp_server import IngestHandler, make_controller

    with tempfile.TemporaryDirectory(prefix="klerk-bench-smtp-") as tmp:
        url = database_url or f"sqlite:///{Path(tmp) / 'klerk.sqlite3'}"
        engine = storage.make_engine(url)
        storage.upgrade(engine)
        now = datetime.now(timezone.utc)
        with storage.session_scope(engine) as s:
            company = create_company(s, "Bench B.V.")
            to = address_of(ingest_address(s, company.id, now=now), DOMAIN)
            company_id = company.id
        store = FileStore(Path(tmp) / "inbox")
        klerk_port, bare_port = _free_port(), _free_port()
        klerk = make_controller(IngestHandler(engine, store, domain=DOMAIN, max_per_hour=None), host="127.0.0.1", port=klerk_port,
                                max_message_bytes=25 * 2**20)
        bare = Controller(_Discard(), hostname="127.0.0.1", port=bare_port)
        klerk.start()
        bare.start()
        try:
            _send_all(klerk_port, to, [_message(to, size, -i) for i in range(1, 11)], connections)   # warm up
            _send_all(bare_port, to, [_message(to, size, -i) for i in range(1, 11)], connections)
            rates_klerk, rates_bare = [], []
            for run in range(runs):
                batch = [_message(to, size, run * messages + i) for i in range(messages)]
                rates_bare.append(messages / _send_all(bare_port, to, batch, connections))
                rates_klerk.append(messages / _send_all(klerk_port, to, batch, connections))
            with storage.session_scope(engine) as s:
                stored = len(s.exec(select(InboundMessage.id).where(InboundMessage.company_id == company_id)).all())
        finally:
            klerk.stop()
            bare.stop()
            engine.dispose()
    expected = runs * messages + 10
    if stored != expected:
        raise RuntimeError(f"{stored} mails stored, {expected} answered 250")
    result = {"klerk_median": statistics.median(rates_klerk), "klerk_min": min(rates_klerk),
              "klerk_max": max(rates_klerk), "bare_median": statistics.median(rates_bare)}
    backend = "PostgreSQL" if url.startswith("postgresql") else "SQLite (WAL)"
    body = f"""## SMTP ingest: mails accepted per second, durably

Command: `klerk bench smtp --messages {messages} --runs {runs} --connections {connections}` — \
{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {_machine()}, {backend}.
Each mail is ~{size // 1000} kB (a PDF attachment). "Durably": the raw mail is written and fsynced
(file and directory) and its row and job are committed before the `250`. The baseline is a bare
aiosmtpd on the same loopback that discards the mail; runs interleave both.

| measure | value |
|---|---|
| Klerk ingest, median of {runs} runs | **{result['klerk_median']:.0f} mails/s** |
| Klerk ingest, slowest / fastest run | {result['klerk_min']:.0f} / {result['klerk_max']:.0f} mails/s |
| bare aiosmtpd (discard), median | {result['bare_median']:.0f} mails/s |
| mails stored = mails answered 250 | {stored} = {expected} |
"""
    print(body)
    if write is not None:
        _update_section(write, "smtp", body)
    return result
