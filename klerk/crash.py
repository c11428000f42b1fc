"""The crash test of the receipt ingest: ``python -m klerk.crash --messages 1000``.

Runs the real processes — ``klerk serve --role smtp`` and two ``--role worker`` — against
PostgreSQL, mails N distinct receipts to them from several SMTP clients, and meanwhile kills the
processes with SIGKILL at random moments (each is restarted at once) and restarts PostgreSQL once.
Afterwards it checks:

- every attempt answered 250 has its stored arrival: never a 250 before the commit;
- no attempt answered 4xx/5xx, or cut off before its final dot, was stored: the sender knows;
- each accepted message (by Message-ID) is in the shoebox exactly once: one processed arrival (a
  resent message whose 250 was lost is a second arrival, marked duplicate) and one document with
  the total and number it was sent with;
- no job failed or is left over, no stored file is missing, no child process outlives the kill of
  its parent, no process died unless killed, every process stops on SIGTERM;
- while PostgreSQL is down the SMTP answers 4xx, and afterwards both roles work again unrestarted.

A client behaves like an MTA (Postfix): a message is delivered only on 250; a 4xx, a refused or
broken connection, or a reply lost after the final dot means "try again later"; a 5xx is final.
Each attempt carries its own ``X-Klerk-Crash-Attempt`` header (as each relay attempt carries its
own Received header), so a stored raw mail tells which attempt it was.
"""
from __future__ import annotations

import argparse
import heapq
import itertools
import os
import random
import re
import smtplib
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import select

from core import storage
from core.companies import create_company
from core.inbox.addresses import address_of, ingest_address
from core.models import Job, Person
from core.secrets import load_secret_box
from klerk.crash_fleet import Fleet, free_port, wait_until
from klerk.crash_report import ACCEPTED, NOT_SENT, REFUSED, UNKNOWN, CrashReport, check_shoebox

DOMAIN = "crash.klerk.test"
ATTEMPT_HEADER = "X-Klerk-Crash-Attempt"
REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class CrashConfig:
    messages: int = 150
    clients: int = 4
    workers: int = 2                          # worker processes
    worker_concurrency: int = 2               # worker threads (and reading processes) in each
    companies: int = 4                        # the SMTP limits mail per company and hour
    rate: float = 6.0                         # new messages a second (retries come on top)
    kills: int | None = 6                     # None: keep killing while mail flows
    kill_gap: tuple[float, float] = (0.3, 2.0)   # seconds a process runs before its kill
    pg_restart_at: float | None = 0.25        # restart PostgreSQL when this share is accepted
    send_seconds: float = 300.0               # the clients give up after this
    drain_seconds: float = 240.0              # the workers must be done after this
    seed: int | None = None


# ---- the receipts ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Receipt:
    number: int
    to: str
    message_id: str
    invoice_number: str
    total: Decimal

    def wire(self, attempt: str) -> bytes:
        msg = EmailMessage()
        msg["From"] = f"leverancier{self.number % 7}@example.nl"
        msg["To"] = self.to
        msg["Subject"] = f"Factuur {self.invoice_number}"
        msg["Date"] = format_datetime(datetime(2026, 11, 12, 9, 0, tzinfo=timezone.utc))
        msg["Message-ID"] = self.message_id
        msg[ATTEMPT_HEADER] = attempt
        amount = f"{self.total:.2f}".replace(".", ",")
        vat = f"{(self.total * Decimal('0.21') / Decimal('1.21')).quantize(Decimal('0.01'))}".replace(".", ",")
        if self.number % 2:       # a webshop mail: the receipt is the HTML body
            msg.set_content(f"Bestelnummer: {self.invoice_number}\nTotaal: EUR {amount}\n")
            msg.add_alternative(
                f"<html><body><table><tr><td><h1>Webwinkel Crashtest</h1></td></tr>"
                f"<tr><td>Bestelnummer: {self.invoice_number}</td></tr><tr><td>Besteldatum: 12-11-2026</td></tr>"
                f"<tr><td>Totaal: &euro; {amount}</td></tr><tr><td>Waarvan btw 21%: &euro; {vat}</td></tr>"
                f"</table></body></html>", subtype="html")
        else:                     # a PDF with a text layer, attached
            msg.set_content("Zie bijlage.")
            pdf = text_pdf(("Crashtest Leverancier B.V.", f"Factuurnummer: {self.invoice_number}",
                            "Datum 12-11-2026", f"Totaal EUR {amount}", f"BTW 21% EUR {vat}"))
            msg.add_attachment(pdf, maintype="application", subtype="pdf", filename=f"{self.invoice_number}.pdf")
        return msg.as_bytes(policy=msg.policy.clone(linesep="\r\n"))


def make_receipts(addresses: list[str], count: int, run: str) -> list[Receipt]:
    return [Receipt(n, addresses[n % len(addresses)], f"<crash-{run}-{n}@example.nl>", f"CR-{run}-{n:05}",
                    Decimal(10 + n) + Decimal(n % 100) / 100) for n in range(count)]


def text_pdf(lines: tuple[str, ...]) -> bytes:
    """A one-page PDF with a text layer (hand-written objects, Helvetica)."""
    text = "BT /F1 14 Tf 50 780 Td 18 TL " + " ".join(f"({line}) '" for line in lines) + " ET"
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
               b"/Resources << /Font << /F1 5 0 R >> >> >>",
               b"<< /Length %d >>\nstream\n" % len(text) + text.encode("latin-1") + b"\nendstream",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def make_inboxes(engine: Engine, count: int) -> list[str]:
    """``count`` companies with an owner and an ingest address; their addresses."""
    now = datetime.now(timezone.utc)
    addresses = []
    with storage.session_scope(engine) as s:
        for n in range(count):
            owner = Person(name=f"Eigenaar {n}")
            s.add(owner)
            s.flush()
            company = create_company(s, f"Crashtest {n}", owner=owner)
            addresses.append(address_of(ingest_address(s, company.id, now=now), DOMAIN))
    return addresses


# ---- the SMTP clients ------------------------------------------------------------------------
def deliver(port: int, sender: str, recipient: str, data: bytes, *, timeout: float = 30.0,
            on_dot: Callable[[], None] = lambda: None) -> tuple[str, int | None]:
    """One SMTP transaction: (ACCEPTED, 250), (REFUSED, code), (NOT_SENT, None) when the connection
    failed before the final dot was sent, (UNKNOWN, None) when the reply to the final dot was lost."""
    try:
        smtp = smtplib.SMTP("127.0.0.1", port, timeout=timeout)
    except smtplib.SMTPConnectError as exc:
        return REFUSED, exc.smtp_code
    except (OSError, smtplib.SMTPException):
        return NOT_SENT, None
    try:
        try:
            for code, ok in ((smtp.ehlo()[0], (250,)), (smtp.mail(sender)[0], (250,)),
                             (smtp.rcpt(recipient)[0], (250, 251)), (smtp.docmd("DATA")[0], (354,))):
                if code not in ok:
                    return REFUSED, code
            assert smtp.sock is not None
            smtp.sock.sendall(_dot_stuffed(data))
        except (OSError, smtplib.SMTPException):
            return NOT_SENT, None
        on_dot()
        try:
            code = smtp.getreply()[0]
        except (OSError, smtplib.SMTPException):
            return UNKNOWN, None
        return (ACCEPTED if code == 250 else REFUSED), code
    finally:
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()


def _dot_stuffed(data: bytes) -> bytes:
    data = re.sub(rb"(?m)^\.", b"..", data)
    return data + (b"" if data.endswith(b"\r\n") else b"\r\n") + b".\r\n"


@dataclass(frozen=True)
class Attempt:
    number: int
    key: str
    outcome: str
    code: int | None
    started: float
    ended: float


class Ledger:
    """Every SMTP attempt and its outcome, as the senders saw it."""

    def __init__(self) -> None:
        self.attempts: list[Attempt] = []
        self.accepted: set[int] = set()
        self._tries: Counter[int] = Counter()
        self._lock = threading.Lock()
        self.dot = threading.Event()            # set when a client has sent a final dot

    def next_key(self, number: int, run: str) -> tuple[str, int]:
        with self._lock:
            self._tries[number] += 1
            return f"{run}-{number}-{self._tries[number]}", self._tries[number]

    def record(self, attempt: Attempt) -> None:
        with self._lock:
            self.attempts.append(attempt)
            if attempt.outcome == ACCEPTED:
                self.accepted.add(attempt.number)

    def accepted_after(self, moment: float) -> Attempt | None:
        with self._lock:
            return next((a for a in self.attempts if a.outcome == ACCEPTED and a.started >= moment), None)


class Outbox:
    """The messages still to be sent, each due at a time (an MTA's deferred queue)."""

    def __init__(self, numbers: range, *, rate: float) -> None:
        start = time.monotonic()
        self._heap = [(start + i / rate, n) for i, n in enumerate(numbers)]
        self._in_flight = 0
        self._cond = threading.Condition()

    def take(self, deadline: float) -> int | None:
        with self._cond:
            while time.monotonic() < deadline:
                if self._heap:
                    wait = self._heap[0][0] - time.monotonic()
                    if wait <= 0:
                        self._in_flight += 1
                        return heapq.heappop(self._heap)[1]
                    self._cond.wait(min(wait, 0.5))
                elif self._in_flight == 0:
                    return None
                else:
                    self._cond.wait(0.5)
            return None

    def done(self, number: int, retry_in: float | None) -> None:
        with self._cond:
            self._in_flight -= 1
            if retry_in is not None:
                heapq.heappush(self._heap, (time.monotonic() + retry_in, number))
            self._cond.notify_all()

    def left(self) -> int:
        with self._cond:
            return len(self._heap) + self._in_flight


def run_client(port: int, receipts: list[Receipt], outbox: Outbox, ledger: Ledger, run: str, deadline: float,
               rng: random.Random) -> None:
    while (number := outbox.take(deadline)) is not None:
        receipt = receipts[number]
        key, tries = ledger.next_key(number, run)
        started = time.monotonic()
        outcome, code = deliver(port, "leverancier@example.nl", receipt.to, receipt.wire(key), on_dot=ledger.dot.set)
        ledger.record(Attempt(number, key, outcome, code, started, time.monotonic()))
        final = outcome == ACCEPTED or (outcome == REFUSED and code is not None and code >= 500)
        outbox.done(number, None if final else min(2.0, 0.05 * 2 ** tries) * rng.uniform(0.5, 1.5))


# ---- PostgreSQL --------------------------------------------------------------------------------
@dataclass
class Postgres:
    """A PostgreSQL server: a URL whose role may create databases, and its pg_ctl and data
    directory when this run may restart it."""
    url: str
    pg_ctl: str = ""
    data_dir: str = ""

    @property
    def restartable(self) -> bool:
        return bool(self.pg_ctl and self.data_dir)

    def create_database(self) -> str:
        name = f"klerk_crash_{uuid.uuid4().hex[:10]}"
        admin = sa.create_engine(self.url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        admin.dispose()
        return sa.engine.make_url(self.url).set(database=name).render_as_string(hide_password=False)

    def restart(self) -> None:
        """``pg_ctl restart -m fast``: every connection is cut, the server is away for a moment."""
        log = Path(self.data_dir).parent / "server.log"
        cmd = [self.pg_ctl, "restart", "-D", self.data_dir, "-m", "fast", "-w", "-t", "60",
               *(["-l", str(log)] if log.exists() else [])]
        subprocess.run(_as_owner(cmd, Path(self.data_dir)), check=True, timeout=90, stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _as_owner(cmd: list[str], path: Path) -> list[str]:
    """PostgreSQL refuses to run as root: run its tools as the owner of the data directory."""
    owner = path.stat().st_uid
    if os.geteuid() != 0 or owner == 0:
        return cmd
    import pwd

    return ["runuser", "-u", pwd.getpwuid(owner).pw_name, "--", *cmd]


@contextmanager
def private_postgres(root: Path) -> Iterator[Postgres]:
    """A throw-away PostgreSQL cluster on a free loopback port (for the command line)."""
    bins = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))
    if not bins:
        raise SystemExit("PostgreSQL is not installed (apt-get install postgresql), or pass --database-url")
    pg_ctl, port, pg = str(bins[-1] / "pg_ctl"), free_port(), root / "pg"
    (pg / "sock").mkdir(parents=True)
    if os.geteuid() == 0:
        subprocess.run(["chown", "-R", "postgres:postgres", str(pg)], check=True)
        os.chmod(root, 0o755)
    as_owner = (lambda cmd: ["runuser", "-u", "postgres", "--", *cmd]) if os.geteuid() == 0 else (lambda cmd: cmd)
    quiet = {"check": True, "stdin": subprocess.DEVNULL, "stdout": subprocess.DEVNULL, "timeout": 120}
    subprocess.run(as_owner([str(bins[-1] / "initdb"), "-D", str(pg / "data"), "-U", "postgres", "-A", "trust",
                             "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"]), **quiet)  # type: ignore[call-overload]
    options = (f"-c listen_addresses=127.0.0.1 -p {port} -k {pg / 'sock'} -c fsync=off -c synchronous_commit=off "
               f"-c full_page_writes=off -c max_connections=300")
    subprocess.run(as_owner([pg_ctl, "-D", str(pg / "data"), "-l", str(pg / "server.log"), "-w", "-t", "60",
                             "-o", options, "start"]), **quiet)  # type: ignore[call-overload]
    try:
        yield Postgres(f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres", pg_ctl, str(pg / "data"))
    finally:
        subprocess.run(as_owner([pg_ctl, "-D", str(pg / "data"), "-m", "immediate", "-w", "stop"]),
                       check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)


# ---- the killer ------------------------------------------------------------------------------------
class Chaos(threading.Thread):
    """Restarts PostgreSQL once, when ``pg_due`` says so, and waits for the roles to reconnect
    (no kills before that, so they reconnect by themselves); then kills the SMTP and a random worker
    in turn, each at a random moment after it came up (half the SMTP kills within 10 ms after a
    client sent a final dot: while that mail is being stored), and starts it again."""

    def __init__(self, fleet: Fleet, config: CrashConfig, rng: random.Random, stop: threading.Event, *,
                 pg: Postgres | None, pg_due: Callable[[], bool], after_pg: Callable[[float, datetime], None],
                 say: Callable[[str], None], dot: threading.Event) -> None:
        super().__init__(name="crash-chaos", daemon=True)
        self.dot = dot
        self.fleet, self.config, self.rng, self.stop, self.say = fleet, config, rng, stop, say
        self.pg, self.pg_due, self.after_pg = pg, pg_due, after_pg
        self.pg_window: tuple[float, float] | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self._run()
        except BaseException as exc:  # noqa: BLE001 - reported by the driver
            self.error = exc

    def _run(self) -> None:
        workers = [n for n in self.fleet.names if n != "smtp"]
        turns = itertools.cycle(self.rng.sample(["smtp", "worker"], 2))    # both roles die, in turn
        while not self.stop.is_set():
            self.fleet.check()
            if self.pg is not None and self.pg_window is None:      # first the restart, then the kills
                if self.pg_due():
                    self._restart_postgres()
                else:
                    self.stop.wait(0.05)
                continue
            if self.config.kills is not None and sum(self.fleet.kills.values()) >= self.config.kills:
                self.stop.wait(0.2)
                continue
            if self.stop.wait(self.rng.uniform(*self.config.kill_gap)):
                return
            name = "smtp" if next(turns) == "smtp" or not workers else self.rng.choice(workers)
            if name == "smtp" and self.rng.random() < 0.5:   # aim at a message being stored: after
                self.dot.clear()                             # its final dot, before or after the commit
                self.dot.wait(2.0)
                time.sleep(self.rng.uniform(0.0, 0.01))
            self.fleet.kill(name)
            self.fleet.start(name)
            self.say(f"kill -9 {name}; started again")
            self.fleet.wait_ready(name)

    def _restart_postgres(self) -> None:
        assert self.pg is not None
        down = time.monotonic()
        self.say("restarting PostgreSQL")
        self.pg.restart()
        up = time.monotonic()
        self.pg_window = (down, up)
        self.after_pg(up, datetime.now(timezone.utc))


def _jobs_done_since(engine: Engine, since: datetime) -> int:
    try:
        with storage.session_scope(engine) as s:
            return s.exec(select(sa.func.count()).select_from(Job).where(
                Job.status == "done", Job.finished_at > since)).one()
    except sa.exc.OperationalError:
        return 0


def _work_left(engine: Engine) -> int:
    try:
        with storage.session_scope(engine) as s:
            return s.exec(select(sa.func.count()).select_from(Job).where(
                Job.status.in_(["queued", "running"]))).one()
    except sa.exc.OperationalError:
        return -1


# ---- one run -------------------------------------------------------------------------------------
def fleet_env(database_url: str, data_dir: Path, smtp_port: int, config: CrashConfig) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items()
            if not k.startswith(("KLERK_", "TELEGRAM_")) and k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return keep | {
        "KLERK_DATABASE_URL": database_url, "KLERK_DATA_DIR": str(data_dir), "KLERK_STORAGE_URL": "",
        "KLERK_SMTP_HOST": "127.0.0.1", "KLERK_SMTP_PORT": str(smtp_port), "KLERK_INGEST_DOMAIN": DOMAIN,
        "KLERK_LOCAL_CHAT_PORT": str(free_port()),
        "KLERK_WORKER_CONCURRENCY": str(config.worker_concurrency), "KLERK_LOG_LEVEL": "INFO",
        "OMP_THREAD_LIMIT": "1", "PYTHONPATH": str(REPO)}


def run_crash(pg: Postgres, work: Path, config: CrashConfig, *, say: Callable[[str], None] = lambda _: None
              ) -> CrashReport:
    """The whole test in ``work`` (a fresh directory) on a fresh database of ``pg``."""
    t0 = time.monotonic()
    shout = say

    def say(text: str) -> None:
        shout(f"{time.monotonic() - t0:6.1f} s  {text}")

    rng = random.Random(config.seed)
    run = uuid.uuid4().hex[:6]
    report = CrashReport(messages=config.messages)
    database_url = pg.create_database()
    engine = storage.make_engine(database_url)
    storage.upgrade(engine)
    data_dir = work / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    load_secret_box("", data_dir)          # the key file, made once before the processes race for it
    receipts = make_receipts(make_inboxes(engine, config.companies), config.messages, run)
    smtp_port = free_port()
    names = ["smtp", *(f"worker-{i + 1}" for i in range(config.workers))]
    fleet = Fleet(fleet_env(database_url, data_dir, smtp_port, config), work, names, smtp_port=smtp_port)
    ledger, stop = Ledger(), threading.Event()

    def pg_due() -> bool:
        return config.pg_restart_at is not None and len(ledger.accepted) >= config.pg_restart_at * config.messages

    def after_pg(up: float, up_wall: datetime) -> None:
        report.pg_restarts += 1
        say(f"PostgreSQL is back ({len(ledger.accepted)} accepted); waiting for the roles to reconnect")
        if wait_until(lambda: ledger.accepted_after(up), 60, every=0.1):
            first = ledger.accepted_after(up)
            report.smtp_back_seconds = (first.ended - up) if first else None
        else:
            report.problems.append("the SMTP accepted nothing within 60 s of PostgreSQL being back")
        if wait_until(lambda: _jobs_done_since(engine, up_wall) > 0, 90, every=0.2):
            report.worker_back_seconds = time.monotonic() - up
        else:
            report.problems.append("the workers finished no job within 90 s of PostgreSQL being back")

    try:
        for name in names:
            fleet.start(name)
        for name in names:
            fleet.wait_ready(name)
        say(f"{len(names)} processes up; mailing {config.messages} receipts")
        chaos = Chaos(fleet, config, rng, stop, pg=pg if pg.restartable and config.pg_restart_at is not None
                      else None, pg_due=pg_due, after_pg=after_pg, say=say, dot=ledger.dot)
        deadline = time.monotonic() + config.send_seconds
        outbox = Outbox(range(config.messages), rate=config.rate)
        clients = [threading.Thread(target=run_client, name=f"crash-client-{i}", daemon=True,
                                    args=(smtp_port, receipts, outbox, ledger, run, deadline,
                                          random.Random(rng.random())))
                   for i in range(config.clients)]
        chaos.start()
        for client in clients:
            client.start()
        for client in clients:
            client.join(timeout=max(1.0, deadline - time.monotonic() + 60))
        if config.pg_restart_at is not None and pg.restartable:   # a run may end before its PG restart is over
            wait_until(lambda: chaos.pg_window is not None or not chaos.is_alive(), 120, every=0.1)
        stop.set()
        chaos.join(timeout=180)
        if chaos.error is not None:
            report.problems.append(f"the killer failed: {chaos.error!r}")
        if outbox.left():
            report.problems.append(f"{outbox.left()} messages were not accepted within {config.send_seconds:.0f} s")
        if chaos.pg_window is not None:
            report.pg_down_seconds = chaos.pg_window[1] - chaos.pg_window[0]
            lo, hi = chaos.pg_window
            report.pg_refused = Counter(a.code or 0 for a in ledger.attempts
                                        if a.outcome == REFUSED and a.ended >= lo and a.started <= hi)
        elif config.pg_restart_at is not None and pg.restartable:
            report.problems.append("PostgreSQL was not restarted (too few messages accepted?)")
        fleet.check()
        say("mail sent; waiting for the workers to finish")
        if not wait_until(lambda: _work_left(engine) == 0, config.drain_seconds, every=0.25):
            report.problems.append(f"{_work_left(engine)} jobs still open after {config.drain_seconds:.0f} s")
        fleet.check()
        fleet.stop()
    finally:
        fleet.kill_all()
    attempts = list(ledger.attempts)
    report.attempts = len(attempts)
    report.accepted = len(ledger.accepted)
    report.refused = Counter(a.code or 0 for a in attempts if a.outcome == REFUSED)
    report.not_sent = sum(a.outcome == NOT_SENT for a in attempts)
    report.unknown = sum(a.outcome == UNKNOWN for a in attempts)
    report.kills, report.restarts = Counter(fleet.kills), fleet.restarts
    if any(code >= 500 for code in report.refused):
        report.problems.append(f"permanent refusals of valid mail: {dict(report.refused)}")
    check_shoebox(report, engine, data_dir / "documents" / "inbox", receipts, attempts, ATTEMPT_HEADER)
    report.problems[:0] = fleet.problems
    report.seconds = time.monotonic() - t0
    engine.dispose()
    return report


# ---- command line --------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m klerk.crash", description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--rate", type=float, default=8.0, help="new messages a second")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (each runs "
                        "KLERK_WORKER_CONCURRENCY threads; here --worker-concurrency)")
    parser.add_argument("--worker-concurrency", type=int, default=2)
    parser.add_argument("--kills", type=int, default=None, help="stop killing after this many (default: kill "
                        "for as long as mail flows)")
    parser.add_argument("--no-pg-restart", action="store_true")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--database-url", default=os.environ.get("KLERK_TEST_POSTGRES_URL", ""),
                        help="a PostgreSQL URL whose role may create databases (default: KLERK_TEST_POSTGRES_URL, "
                             "else a private cluster is started)")
    parser.add_argument("--write", type=Path, default=REPO / "BENCHMARKS.md", help="BENCHMARKS.md to update")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    config = CrashConfig(messages=args.messages, clients=args.clients, workers=args.workers,
                         worker_concurrency=args.worker_concurrency, kills=args.kills, rate=args.rate,
                         kill_gap=(0.5, 3.0), pg_restart_at=None if args.no_pg_restart else 0.25,
                         send_seconds=120 + args.messages * 0.6, drain_seconds=240 + args.messages * 0.3,
                         seed=args.seed)
    import tempfile

    with tempfile.TemporaryDirectory(prefix="klerk-crash-") as tmp:
        root = Path(tmp)
        with _postgres(args.database_url, root) as pg:
            report = run_crash(pg, root / "run", config, say=lambda text: print(f"[crash] {text}", flush=True))
    print(report.summary())
    if not args.no_write:
        from klerk.bench import _update_section

        command = "python -m klerk.crash " + " ".join(argv if argv is not None else sys.argv[1:])
        setup = (f"`klerk serve --role smtp` and {config.workers} × `klerk serve --role worker` "
                 f"({config.worker_concurrency} worker threads each) as separate processes on PostgreSQL; "
                 f"{config.clients} SMTP clients (smtplib, retrying like an MTA) mail {config.messages} distinct "
                 f"receipts (half a PDF with a text layer, half an HTML body) to {config.companies} companies, "
                 f"while a killer sends SIGKILL to a random process {config.kill_gap[0]}–{config.kill_gap[1]} s "
                 f"after it came up and starts it again.")
        _update_section(args.write, "crash", report.markdown(command.strip(), setup))
        print(f"written to {args.write}")
    return 0 if report.ok else 1


@contextmanager
def _postgres(url: str, root: Path) -> Iterator[Postgres]:
    if not url:
        with private_postgres(root) as pg:
            yield pg
        return
    yield Postgres(url, os.environ.get("KLERK_TEST_PG_CTL", ""), os.environ.get("KLERK_TEST_PG_DATA", ""))


if __name__ == "__main__":
    raise SystemExit(main())
