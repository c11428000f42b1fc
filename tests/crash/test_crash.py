"""The crash test in its short form (issue 6, "Proof"): the real ``klerk serve`` processes under mail
load, killed with ``kill -9`` and restarted, PostgreSQL restarted; Dovecot restarted during IDLE.
The full form is ``python -m klerk.crash --messages 1000`` (figures in BENCHMARKS.md)."""
from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

import pytest
from imapclient import IMAPClient
from sqlmodel import select

from core import storage
from core.inbox.imap_accounts import add_imap_account
from core.inbox.models import ImapUid, InboundMessage, IngestAddress
from core.secrets import load_secret_box
from klerk.crash import CrashConfig, Postgres, fleet_env, make_inboxes, run_crash
from klerk.crash_fleet import Fleet, free_port, wait_until
from tests.conftest import postgres_base
from tests.ingest.mails import mail, wire

pytestmark = [pytest.mark.slow, pytest.mark.postgres]
USER = "bonnen@klerk.test"


@pytest.fixture
def postgres() -> Postgres:
    return Postgres(postgres_base(), os.environ.get("KLERK_TEST_PG_CTL", ""), os.environ.get("KLERK_TEST_PG_DATA", ""))


def test_kill_9_and_a_postgres_restart_lose_nothing_and_do_nothing_twice(postgres: Postgres, tmp_path: Path) -> None:
    assert postgres.restartable, "KLERK_TEST_PG_CTL and KLERK_TEST_PG_DATA are needed to restart PostgreSQL"
    config = CrashConfig(messages=150, clients=4, workers=2, worker_concurrency=2, kills=6, kill_gap=(0.3, 1.5),
                         rate=4.0, pg_restart_at=0.25, send_seconds=240, drain_seconds=180, seed=6)
    report = run_crash(postgres, tmp_path, config, say=print)
    print(report.summary())
    assert report.ok, "\n".join(report.problems)
    # the test proved something: the roles died under load, and PostgreSQL went away under load
    assert report.kills["smtp"] >= 1 and report.kills["worker"] >= 1, report.kills
    assert report.not_sent + report.unknown + sum(report.refused.values()) > 0, "no kill hit a sender"
    assert report.pg_restarts == 1 and report.smtp_back_seconds is not None and report.worker_back_seconds is not None
    assert all(400 <= code < 500 for code in report.pg_refused), report.pg_refused
    assert report.accepted == report.documents == config.messages


# ---- Dovecot restarted while the poller IDLEs -------------------------------------------------
def restart_dovecot(conf: Path, folder: str, while_down: bytes) -> float:
    """Stop Dovecot, deliver one mail into the Maildir while it is down, start it; when it was back."""
    subprocess.run(["doveadm", "-c", str(conf), "stop"], check=True, timeout=20, stdout=subprocess.DEVNULL)
    maildir = conf.parent / "mail" / USER / "Maildir" / f".{folder}"
    new = maildir / "new" / f"{time.time_ns()}.crashtest.localhost"
    new.write_bytes(while_down)
    os.chown(new, maildir.stat().st_uid, maildir.stat().st_gid)
    for _ in range(100):                                  # the old master must be gone before starting
        started = subprocess.run(["dovecot", "-c", str(conf)], stdout=subprocess.DEVNULL,   # it daemonises:
                                 stderr=subprocess.DEVNULL, timeout=20, check=False)     # no pipes to wait on
        if started.returncode == 0:
            return time.monotonic()
        time.sleep(0.1)
    raise AssertionError("Dovecot did not start again")


def imap_client(host: str, port: int, password: str, seconds: float = 10) -> IMAPClient:
    deadline = time.monotonic() + seconds
    while True:
        try:
            client = IMAPClient(host, port=port, ssl=False, timeout=10)
            client.login(USER, password)
            return client
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


@pytest.mark.imap
def test_dovecot_restart_during_idle_the_poller_is_back_within_10_s(postgres: Postgres, tmp_path: Path) -> None:
    host, port = os.environ.get("KLERK_TEST_IMAP_HOST"), os.environ.get("KLERK_TEST_IMAP_PORT")
    conf = os.environ.get("KLERK_TEST_DOVECOT_CONF")
    if not (host and port and conf):
        if os.environ.get("CI"):
            pytest.fail("KLERK_TEST_IMAP_HOST/KLERK_TEST_DOVECOT_CONF are not set: run the tests with ./dev test")
        pytest.skip("no Dovecot: run ./dev test to include it")
    assert shutil.which("doveadm") and shutil.which("dovecot"), "Dovecot's tools are needed to restart it"
    password = os.environ.get("KLERK_TEST_IMAP_PASSWORD", "secret")
    database_url = postgres.create_database()
    engine = storage.make_engine(database_url)
    storage.upgrade(engine)
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    box = load_secret_box("", data_dir)                   # the key file the imap role reads too
    seeder = imap_client(host, int(port), password)
    folder = f"Crash-{uuid.uuid4().hex[:8]}"
    seeder.create_folder(folder)
    make_inboxes(engine, 1)
    with storage.session_scope(engine) as s:
        company_id = s.exec(select(IngestAddress.company_id)).one()
        add_imap_account(s, box, company_id, host=host, port=int(port), use_ssl=False, username=USER,
                         password=password, folders=(folder,), now=datetime.now(timezone.utc))
    fleet = Fleet(fleet_env(database_url, data_dir, free_port(), CrashConfig()), tmp_path, ["imap"])

    def subjects() -> list[str]:
        with storage.session_scope(engine) as s:
            return sorted(s.exec(select(InboundMessage.subject)))
    try:
        fleet.start("imap")
        assert fleet.wait_ready("imap"), fleet.problems
        seeder.append(folder, wire(mail(to=USER, subject="een")))
        seeder.logout()
        assert wait_until(lambda: subjects() == ["een"], 30), "the poller did not bring the first mail"
        time.sleep(1.0)                                   # the poller is back in IDLE
        back = restart_dovecot(Path(conf), folder, wire(mail(to=USER, subject="twee (terwijl de server weg was)")))
        seeder = imap_client(host, int(port), password)
        seeder.append(folder, wire(mail(to=USER, subject="drie")))
        seeder.logout()
        assert wait_until(lambda: len(subjects()) >= 3, 10 - (time.monotonic() - back)), \
            f"the poller was not back within 10 s of Dovecot: {subjects()}; {fleet.tail('imap')}"
        time.sleep(1.0)                                   # nothing more comes in: nothing twice
        fleet.check()
        fleet.stop()
    finally:
        fleet.kill_all()
    assert subjects() == ["drie", "een", "twee (terwijl de server weg was)"]
    with storage.session_scope(engine) as s:
        assert len(s.exec(select(ImapUid)).all()) == 3
    assert fleet.problems == []
    engine.dispose()
