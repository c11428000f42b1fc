"""``klerk bench smtp``: how many mails per second the SMTP ingest accepts with durable storage,
against Postfix on the same machine.

Each run sends ``messages`` mails over ``connections`` parallel SMTP sessions on loopback to a real
ingest (aiosmtpd + Klerk's handler: raw file written and fsynced, row and job committed before the
250), to a private Postfix (``klerk.bench_postfix``: queue file fsynced before its 250), and to a
bare aiosmtpd that throws the mail away (what the SMTP layer costs by itself), interleaved, all
driven by Postfix's ``smtp-source``. Reported: medians over the runs and the ratio to Postfix.
"""
from __future__ import annotations

import os
import smtplib
import socket
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
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


def _smtp_source(port: int, to: str, message: Path, *, messages: int, connections: int) -> float:
    """Seconds for ``smtp-source`` (Postfix's load generator) to deliver ``messages`` over
    ``connections`` parallel sessions, each kept open (``-d``), every mail the file ``message``."""
    cmd = ["smtp-source", "-d", "-s", str(connections), "-m", str(messages), "-F", str(message),
           "-f", "bench@example.nl", "-t", to, f"127.0.0.1:{port}"]
    t0 = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    elapsed = time.perf_counter() - t0
    if done.returncode != 0 or done.stderr.strip():
        raise RuntimeError(f"smtp-source to port {port} failed ({done.returncode}): {done.stderr.strip()[:500]}")
    return elapsed


@contextmanager
def _database(database_url: str | None, postgres: bool, tmp: Path) -> Iterator[str]:
    if database_url:
        yield database_url
    elif postgres:
        from klerk.bench_postgres import private_postgres

        with private_postgres() as url:
            yield url
    else:
        yield f"sqlite:///{tmp / 'klerk.sqlite3'}"


def bench_smtp(*, messages: int = 500, runs: int = 5, connections: int = 8, size: int = 20_000,
               database_url: str | None = None, postgres: bool = False, postfix: bool = True,
               install_postfix: bool = True, write: Path | None = None,
               say: Callable[[str], None] = print) -> dict[str, float]:
    """Measure; print a summary; write the ``smtp`` section of ``write`` (BENCHMARKS.md) if given.

    With ``postfix`` (and Postfix installed, or installable when ``install_postfix``) every server is
    driven by ``smtp-source`` and a private Postfix is the baseline; else the Python client drives
    Klerk and the bare aiosmtpd."""
    from core import storage
    from core.companies import create_company
    from core.inbox.addresses import address_of, ingest_address
    from core.inbox.models import InboundMessage
    from core.inbox.store import FileStore
    from ingest.smtp_server import IngestHandler, make_controller
    from klerk.bench_postfix import ensure_postfix, private_postfix
    from klerk.bench_postgres import cleanup_on_sigterm

    with_postfix = postfix and ensure_postfix(install=install_postfix, say=say)
    load_before = os.getloadavg()[0]
    rates: dict[str, list[float]] = {"klerk": [], "bare": [], "postfix": []}
    with cleanup_on_sigterm(), tempfile.TemporaryDirectory(prefix="klerk-bench-smtp-") as tmp_name, \
            _database(database_url, postgres, Path(tmp_name)) as url, \
            (private_postfix(DOMAIN) if with_postfix else nullcontext(None)) as postfix_port:
        tmp = Path(tmp_name)
        engine = storage.make_engine(url)
        storage.upgrade(engine)
        now = datetime.now(timezone.utc)
        with storage.session_scope(engine) as s:
            company = create_company(s, "Bench B.V.")
            to = address_of(ingest_address(s, company.id, now=now), DOMAIN)
            company_id = company.id
        store = FileStore(tmp / "inbox")
        klerk_port, bare_port = _free_port(), _free_port()
        klerk = make_controller(IngestHandler(engine, store, domain=DOMAIN, max_per_hour=None), host="127.0.0.1",
                                port=klerk_port, max_message_bytes=25 * 2**20)
        bare = Controller(_Discard(), hostname="127.0.0.1", port=bare_port)
        klerk.start()
        bare.start()
        ports = {"klerk": klerk_port, "bare": bare_port, **({"postfix": postfix_port} if with_postfix else {})}
        try:
            if with_postfix:
                mail = tmp / "mail.eml"
                mail.write_bytes(_message(to, size, 0).replace(b"\r\n", b"\n"))
                for port in ports.values():                                       # warm up
                    _smtp_source(port, to, mail, messages=10, connections=connections)
                for _ in range(runs):
                    for name, port in ports.items():
                        rates[name].append(messages / _smtp_source(port, to, mail, messages=messages,
                                                                     connections=connections))
            else:
                for port in ports.values():
                    _send_all(port, to, [_message(to, size, -i) for i in range(1, 11)], connections)
                for run in range(runs):
                    batch = [_message(to, size, run * messages + i) for i in range(messages)]
                    for name, port in ports.items():
                        rates[name].append(messages / _send_all(port, to, batch, connections))
            with storage.session_scope(engine) as s:
                stored = len(s.exec(select(InboundMessage.id).where(InboundMessage.company_id == company_id)).all())
        finally:
            klerk.stop()
            bare.stop()
            engine.dispose()
    expected = runs * messages + 10
    if stored != expected:
        raise RuntimeError(f"{stored} mails stored, {expected} answered 250")
    result = {f"{name}_median": statistics.median(v) for name, v in rates.items() if v}
    result.update(klerk_min=min(rates["klerk"]), klerk_max=max(rates["klerk"]), stored=stored,
                  load_before=load_before, load_after=os.getloadavg()[0])
    if with_postfix:
        result["ratio_postfix"] = result["klerk_median"] / result["postfix_median"]
        result["ratio_runs"] = statistics.median(k / p for k, p in zip(rates["klerk"], rates["postfix"]))
    backend = ("PostgreSQL (private cluster, fsync on, synchronous_commit on)" if postgres and not database_url
               else "PostgreSQL" if url.startswith("postgresql") else "SQLite (WAL, synchronous=NORMAL)")
    body = _body(result, messages=messages, runs=runs, connections=connections, size=size, backend=backend,
                 with_postfix=with_postfix, postgres=postgres, expected=expected)
    say(body)
    if write is not None:
        _update_section(write, "smtp", body)
    return result


def _body(r: dict[str, float], *, messages: int, runs: int, connections: int, size: int, backend: str,
          with_postfix: bool, postgres: bool, expected: int) -> str:
    command = (f"klerk bench smtp --messages {messages} --runs {runs} --connections {connections}"
               f"{' --postgres' if postgres else ''}{'' if with_postfix else ' --no-postfix'}")
    client = (f"`smtp-source -d -s {connections} -m {messages} -F mail.eml` (Postfix's load generator, the same "
              f"client and the same ~{size // 1000} kB mail — a PDF attachment — for every server)" if with_postfix
              else f"Python `smtplib`, {connections} connections, each reused")
    rows = [f"| **Klerk ingest**, median of {runs} runs | **{r['klerk_median']:.0f} mails/s** |",
            f"| Klerk ingest, slowest / fastest run | {r['klerk_min']:.0f} / {r['klerk_max']:.0f} mails/s |"]
    if with_postfix:
        rows += [f"| **Postfix 3.7** (Debian), median | **{r['postfix_median']:.0f} mails/s** |",
                 f"| Klerk ÷ Postfix: ratio of medians / median of per-run ratios | **{r['ratio_postfix']:.2f}×** / "
                 f"{r['ratio_runs']:.2f}× |"]
    rows += [f"| bare aiosmtpd (discards the mail, nothing stored), median | {r['bare_median']:.0f} mails/s |",
             f"| mails stored = mails answered 250 (Klerk) | {int(r['stored'])} = {expected} |"]
    postfix_text = """
Postfix is Debian's package, installed by the bench only if `dpkg -s postfix` says it is missing
(`apt-get install postfix`, debconf "No configuration", no system daemon started), and run as a
private instance: its own `config_directory`, `queue_directory` and `data_directory` in a temporary
directory, `smtpd` on a free 127.0.0.1 port, every recipient to the `discard` transport; stopped
and removed afterwards. Before Postfix answers `250 2.0.0 Ok: queued`, `smtpd` has handed the
message to `cleanup`, which wrote the queue file under `incoming/`, flushed it, marked it complete
(execute bit) and `fsync`ed it (`mail_stream_finish_file`); delivery (here: discard) runs later
from the queue. That is the same promise as Klerk's `250`: the mail is on disk and will be
processed (Klerk also `fsync`s the directory and commits the row and its job first).
""" if with_postfix else ""
    return f"""## SMTP ingest: mails accepted per second, durably, against Postfix

Command: `{command}` — {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {_machine()}, Klerk on {backend}.
Client: {client}. Runs interleave the servers, one after the other, after 10 warm-up mails each.
The machine is shared: load average (1 min) {r['load_before']:.1f} at the start, {r['load_after']:.1f} at the end.
"Durably" for Klerk: the raw mail is written and `fsync`ed (file and directory) and its row and job
are committed before the `250`.
{postfix_text}
| measure | value |
|---|---|
{chr(10).join(rows)}
"""
