"""``klerk serve`` as an operator runs it: a real process on loopback ports, SQLite in a temp dir,
no Telegram token (the bot talks to the local chat double). Health, metrics, logs and SIGTERM."""
from __future__ import annotations

import json
import os
import signal
import smtplib
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from core import storage
from core.companies import create_company
from core.inbox.addresses import address_of, ingest_address, new_token
from core.models import Person

pytestmark = pytest.mark.slow
DOMAIN = "klerk.test"
KLERK = [sys.executable, "-m", "klerk"]
STARTUP_SECONDS = 120          # imports and migrations on a busy 2-core machine


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Served:
    proc: subprocess.Popen
    http_port: int
    smtp_port: int
    out: str = ""
    err: str = ""
    stopped_in: float = field(default=0.0)

    def get(self, path: str) -> httpx.Response:
        return httpx.get(f"http://127.0.0.1:{self.http_port}{path}", timeout=10)

    def metrics(self) -> dict[str, dict[tuple, float]]:
        text = self.get("/metrics").text
        found: dict[str, dict[tuple, float]] = {}
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                found.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
        return found

    def wait_healthy(self) -> dict:
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.stop()
                pytest.fail(f"klerk serve exited with {self.proc.returncode}:\n{self.out}\n{self.err}")
            try:
                answer = self.get("/healthz")
                if answer.status_code == 200:
                    return answer.json()
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        self.stop()
        pytest.fail(f"no healthy /healthz within {STARTUP_SECONDS} s:\n{self.out}\n{self.err}")

    def stop(self) -> int:
        """SIGTERM, then wait for the exit; the output is kept in ``out`` and ``err``."""
        started = time.monotonic()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            out, err = self.proc.communicate(timeout=40)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate()
        self.out, self.err, self.stopped_in = out, err, time.monotonic() - started
        return self.proc.returncode


def serve(data_dir: Path, *roles: str, **env: str) -> Served:
    http_port, smtp_port = free_port(), free_port()
    environ = {k: v for k, v in os.environ.items()
               if not k.startswith(("KLERK_", "TELEGRAM_")) or k.startswith("KLERK_TEST_")}
    environ.update({"KLERK_DATA_DIR": str(data_dir), "KLERK_HTTP_PORT": str(http_port),
                    "KLERK_SMTP_PORT": str(smtp_port), "KLERK_LOCAL_CHAT_PORT": str(free_port()),
                    "KLERK_INGEST_DOMAIN": DOMAIN, "KLERK_WORKER_CONCURRENCY": "1", **env})
    args = [*KLERK, "serve", *(a for role in roles for a in ("--role", role))]
    proc = subprocess.Popen(args, cwd=data_dir.parent, env=environ, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    return Served(proc, int(environ["KLERK_HTTP_PORT"]), smtp_port)


def seed_address(data_dir: Path) -> str:
    """A company with an ingest address, in the database the running service migrated."""
    engine = storage.make_engine(f"sqlite:///{data_dir / 'klerk.sqlite3'}")
    try:
        with storage.session_scope(engine) as s:
            owner = Person(name="Eva Vos")
            s.add(owner)
            s.flush()
            company = create_company(s, "Studio Vos", owner=owner)
            return address_of(ingest_address(s, company.id, now=datetime.now(timezone.utc)), DOMAIN)
    finally:
        engine.dispose()


def receipt(n: int) -> EmailMessage:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "shop@example.nl", "x@klerk.test", f"Bon {n}"
    msg["Message-ID"] = f"<bon-{n}-{time.time_ns()}@example.nl>"
    msg.set_content(f"Totaal EUR {n},00")
    return msg


def arrivals(metrics: dict[str, dict[tuple, float]]) -> float:
    return sum(metrics.get("klerk_inbound_messages", {}).values())


def wait_for(predicate, what: str, seconds: float = 30.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}")


def test_every_process_serves_health_and_metrics_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    data = tmp_path / "data"
    full = serve(data)
    smtp_only: Served | None = None
    try:
        health = full.wait_healthy()
        assert health == {"status": "ok", "roles": ["bot", "smtp", "imap", "worker", "web", "scheduler"],
                          "database": "ok", "webhooks": "off (no KLERK_PUBLIC_URL)"}
        before = full.metrics()
        assert before["klerk_database_up"] == {(): 1.0}
        assert before["klerk_role_up"] == {(("role", r),): 1.0 for r in health["roles"]}
        assert arrivals(before) == 0 and before["klerk_notifications_pending"] == {(): 0.0}
        assert before["klerk_http_requests_total"][(("method", "GET"), ("route", "/healthz"), ("status", "200"))] >= 1

        address = seed_address(data)
        with smtplib.SMTP("127.0.0.1", full.smtp_port, timeout=30) as client:
            client.send_message(receipt(1), to_addrs=[address])
        wait_for(lambda: arrivals(full.metrics()) == 1, "the arrival in /metrics")
        jobs = full.metrics()["klerk_jobs"]
        assert sum(v for labels, v in jobs.items() if ("kind", "inbox_message") in labels) == 1

        smtp_only = serve(data, "smtp")
        assert smtp_only.wait_healthy() == {"status": "ok", "roles": ["smtp"], "database": "ok"}
        scraped = smtp_only.metrics()
        assert scraped["klerk_role_up"] == {(("role", "smtp"),): 1.0}
        assert arrivals(scraped) == 1                               # the same database, seen from this process
        with smtplib.SMTP("127.0.0.1", smtp_only.smtp_port, timeout=30) as client:
            client.send_message(receipt(2), to_addrs=[address])
        wait_for(lambda: arrivals(smtp_only.metrics()) == 2, "the second arrival in the smtp process's /metrics")
        assert smtp_only.get("/webhooks/mollie").status_code == 404  # only the web role takes webhooks

        clash = serve(data, "scheduler", KLERK_HTTP_PORT=str(full.http_port))
        assert clash.proc.wait(STARTUP_SECONDS) == 1 and clash.stop() == 1
        assert f"cannot listen for HTTP on 127.0.0.1:{full.http_port}" in clash.err and "KLERK_HTTP_PORT" in clash.err
    finally:
        codes = [s.stop() for s in (smtp_only, full) if s is not None]
    for served, code in zip((smtp_only, full), codes):
        assert served is not None
        assert code == 0, served.err
        assert "Klerk stopped." in served.out
        assert served.stopped_in < 20, f"took {served.stopped_in:.1f} s to stop"
        assert "Traceback" not in served.err, served.err


def test_json_logs_are_one_object_a_line_on_both_streams(tmp_path: Path) -> None:
    data = tmp_path / "data"
    served = serve(data, KLERK_LOG_FORMAT="json")
    try:
        served.wait_healthy()
        with smtplib.SMTP("127.0.0.1", served.smtp_port, timeout=30) as client:   # an info line from the ingest
            with pytest.raises(smtplib.SMTPRecipientsRefused):
                client.send_message(receipt(3), to_addrs=[f"bon-{new_token()}@{DOMAIN}"])
    finally:
        code = served.stop()
    assert code == 0, served.err
    lines = [json.loads(line) for line in (served.err + served.out).splitlines()]
    assert len(lines) >= 5
    roles = ["bot", "smtp", "imap", "worker", "web", "scheduler"]
    for line in lines:
        assert {"time", "level", "logger", "message", "thread"} <= line.keys() and line["roles"] == roles
    messages = [line["message"] for line in lines]
    assert "Klerk stopped." in messages
    assert any(m.startswith("refused mail for unknown") for m in messages)
    assert any(line["logger"] == "telegram.ext.Application" for line in lines)


def test_sigterm_lets_the_smtp_session_in_hand_finish(tmp_path: Path) -> None:
    data = tmp_path / "data"
    served = serve(data, "smtp")
    try:
        served.wait_healthy()
        address = seed_address(data)
        client = smtplib.SMTP("127.0.0.1", served.smtp_port, timeout=30)
        client.ehlo()
        client.mail("shop@example.nl")
        client.rcpt(address)
        client.putcmd("data")
        assert client.getreply()[0] == 354
        client.send(b"Subject: Bon\r\nMessage-ID: <in-hand@example.nl>\r\n\r\nTotaal EUR")
        served.proc.send_signal(signal.SIGTERM)
        time.sleep(1.0)
        client.send(b" 12,50\r\n.\r\n")
        code, _ = client.getreply()
    finally:
        served.stop()
    assert code == 250
    assert served.proc.returncode == 0 and "Klerk stopped." in served.out


def test_a_webhook_bot_without_its_web_role_is_refused_with_the_reason(tmp_path: Path) -> None:
    env = {**os.environ, "KLERK_DATA_DIR": str(tmp_path), "KLERK_PUBLIC_URL": "https://klerk.example",
           "TELEGRAM_BOT_TOKEN": "123:TEST", "KLERK_DATABASE_URL": ""}
    done = subprocess.run([sys.executable, "-m", "klerk", "serve", "--role", "bot"], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 2
    assert "--role bot --role web" in done.stderr
    assert not (tmp_path / "klerk.sqlite3").exists()          # refused before anything was made
