"""``kill -9`` of the SMTP ingest and of the worker, as real processes: every mail that was answered
250 is processed exactly once — none lost, none twice."""
from __future__ import annotations

import os
import signal
import smtplib
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlmodel import select

from core import storage
from core.inbox.models import InboundMessage, InboxDocument
from core.models import Job, Notification
from tests.conftest import REPO
from tests.ingest.conftest import DOMAIN, free_port
from tests.ingest.mails import mail, ubl_invoice, wire

pytestmark = pytest.mark.slow
MESSAGES = 40


def wait_port(port: int, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("the SMTP ingest did not come up")


class Ingest:
    """``python -m ingest <role>`` as a child process, killed with SIGKILL on request."""

    def __init__(self, env: dict[str, str], tmp: Path) -> None:
        self.env, self.tmp, self.procs = env, tmp, []

    def start(self, *args: str) -> subprocess.Popen:
        with open(self.tmp / f"ingest-{len(self.procs)}.log", "wb") as log:     # the child keeps its own fd
            proc = subprocess.Popen([sys.executable, "-m", "ingest", *args], cwd=REPO, env=self.env, stdout=log,
                                    stderr=subprocess.STDOUT)
        self.procs.append(proc)
        return proc

    def kill(self, proc: subprocess.Popen) -> None:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)


class Sender(threading.Thread):
    """Sends like an MTA: a mail is retried until it gets its 250."""

    def __init__(self, port: int, address: str) -> None:
        super().__init__(daemon=True)
        self.port, self.address = port, address
        self.accepted: list[str] = []
        self.failures = 0

    def run(self) -> None:
        for n in range(MESSAGES):
            msg = mail(to=self.address, message_id=f"<crash-{n}@example.nl>",
                       attachments=((f"f{n}.xml", "application/xml", ubl_invoice(f"K-{n:03}")),))
            while True:
                try:
                    with smtplib.SMTP("127.0.0.1", self.port, timeout=10) as smtp:
                        smtp.sendmail("eva@example.nl", [self.address], wire(msg))
                    self.accepted.append(str(msg["Message-ID"]))
                    break
                except (OSError, smtplib.SMTPException):
                    self.failures += 1
                    time.sleep(0.05)


def count(engine, model, *where) -> int:  # type: ignore[no-untyped-def]
    with storage.session_scope(engine) as s:
        return len(s.exec(select(model).where(*where)).all())


def test_kill_9_loses_nothing_and_does_nothing_twice(engine, inbox, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("KLERK_")} | {
        "KLERK_DATA_DIR": str(tmp_path / "data"), "KLERK_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "KLERK_SMTP_HOST": "127.0.0.1", "KLERK_SMTP_PORT": str(port), "KLERK_INGEST_DOMAIN": DOMAIN,
        "KLERK_LOG_LEVEL": "WARNING", "PYTHONPATH": str(REPO)}
    ingest = Ingest(env, tmp_path)
    worker_args = ("worker", "--in-process-reading", "--lease-seconds", "2")
    try:
        smtp, worker = ingest.start("smtp"), ingest.start(*worker_args)
        wait_port(port)
        sender = Sender(port, inbox.address)
        sender.start()
        while len(sender.accepted) < MESSAGES // 3:        # kill -9 the SMTP ingest while mail streams in
            time.sleep(0.005)
        ingest.kill(smtp)
        smtp = ingest.start("smtp")
        while count(engine, InboxDocument) < MESSAGES // 4:   # kill -9 the worker while it works
            time.sleep(0.005)
        ingest.kill(worker)
        worker = ingest.start(*worker_args)
        sender.join(timeout=120)
        assert not sender.is_alive() and len(sender.accepted) == MESSAGES
        deadline = time.monotonic() + 90
        while count(engine, Job, Job.status != "done") and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        ingest.stop_all()
    assert sender.failures > 0, "the kills did not hit the sender: the test proved nothing"
    with storage.session_scope(engine) as s:
        assert s.exec(select(Job).where(Job.status != "done")).all() == []
        rows = s.exec(select(InboundMessage)).all()
        docs = s.exec(select(InboxDocument)).all()
        notes = s.exec(select(Notification).where(Notification.kind == "receipt_received")).all()
    processed = [r.message_id for r in rows if r.status == "processed"]
    assert sorted(processed) == sorted(sender.accepted)                       # each 250 once, none lost
    assert {r.status for r in rows} <= {"processed", "duplicate"}             # a lost 250 was sent again
    assert sorted(d.invoice_number for d in docs) == [f"K-{n:03}" for n in range(MESSAGES)]
    assert len(notes) == MESSAGES
