"""The IMAP poller against a real Dovecot on loopback (started by ./dev test)."""
from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from imapclient import IMAPClient
from sqlmodel import select

from core import storage
from core.inbox.imap_accounts import add_imap_account, imap_login, take_imap_message
from core.inbox.models import ImapAccount, ImapUid, InboundMessage, InboxDocument
from core.secrets import KEY_FILE, SecretBox, SecretUnreadableError, load_secret_box
from ingest.imap_poller import KEYWORD, ImapPoller
from tests.conftest import NOW
from tests.ingest.conftest import MAX_BYTES
from tests.ingest.mails import mail, text_pdf, ubl_invoice, wire

pytestmark = pytest.mark.imap
USER = "bonnen@klerk.test"


@pytest.fixture
def dovecot() -> tuple[str, int, str]:
    host, port = os.environ.get("KLERK_TEST_IMAP_HOST"), os.environ.get("KLERK_TEST_IMAP_PORT")
    if not host or not port:
        if os.environ.get("CI"):
            pytest.fail("KLERK_TEST_IMAP_HOST is not set: run the tests with ./dev test")
        pytest.skip("no Dovecot: run ./dev test to include it")
    return host, int(port), os.environ.get("KLERK_TEST_IMAP_PASSWORD", "secret")


@pytest.fixture
def box(tmp_path: Path) -> SecretBox:
    return load_secret_box("", tmp_path)


@pytest.fixture
def mailbox(dovecot):  # type: ignore[no-untyped-def]
    """A fresh folder of bonnen@klerk.test and a connected client to seed it."""
    host, port, password = dovecot
    client = IMAPClient(host, port=port, ssl=False, timeout=10)
    client.login(USER, password)
    folder = f"Bonnen-{uuid.uuid4().hex[:8]}"
    client.create_folder(folder)
    yield client, folder
    with contextlib.suppress(Exception):   # the restart test cut this connection
        client.logout()


def account(engine, box, inbox, dovecot, folders, **kw) -> int:  # type: ignore[no-untyped-def]
    host, port, password = dovecot
    with storage.session_scope(engine) as s:
        return add_imap_account(s, box, inbox.company_id, host=host, port=port, use_ssl=False, username=USER,
                                password=password, folders=tuple(folders), now=NOW, **kw).id


def poller(engine, inbox, box, account_id, **kw) -> ImapPoller:  # type: ignore[no-untyped-def]
    kw.setdefault("max_age_days", None)          # Dovecot dates mail by the wall clock; the test clock is fixed
    return ImapPoller(engine, inbox.store, box, account_id, max_message_bytes=MAX_BYTES, clock=lambda: NOW, **kw)


def arrivals(engine) -> list[InboundMessage]:  # type: ignore[no-untyped-def]
    with storage.session_scope(engine) as s:
        return list(s.exec(select(InboundMessage).order_by(InboundMessage.id)))


def test_poll_twice_the_second_is_a_no_op(engine, inbox, box, dovecot, mailbox, make_worker) -> None:  # type: ignore[no-untyped-def]
    client, folder = mailbox
    client.append(folder, wire(mail(to=USER, attachments=(("f.xml", "application/xml", ubl_invoice()),))))
    client.append(folder, wire(mail(to=USER, subject="Niks", text="hallo")))     # nothing usable: marked too
    p = poller(engine, inbox, box, account(engine, box, inbox, dovecot, [folder]))
    first = p.poll_once()
    assert (first.stored, first.marked) == (2, 2)
    again = p.poll_once()
    assert (again.stored, again.skipped, again.marked) == (0, 0, 0)
    assert len(arrivals(engine)) == 2
    client.select_folder(folder)
    assert all(KEYWORD.encode() in flags for flags in client.get_flags(client.search("ALL")).values())
    make_worker().run_until_idle()
    with storage.session_scope(engine) as s:
        [doc] = s.exec(select(InboxDocument)).all()
    assert doc.invoice_number == "2026-0042" and [a.source for a in arrivals(engine)] == ["imap", "imap"]


def test_old_mail_in_a_connected_mailbox_is_left_alone(engine, inbox, box, dovecot, mailbox) -> None:  # type: ignore[no-untyped-def]
    client, folder = mailbox
    client.append(folder, wire(mail(to=USER, subject="oud")), msg_time=NOW - timedelta(days=90))
    client.append(folder, wire(mail(to=USER, subject="nieuw")), msg_time=NOW - timedelta(days=2))
    p = poller(engine, inbox, box, account(engine, box, inbox, dovecot, [folder]), max_age_days=30)
    assert p.poll_once().stored == 1
    assert [a.subject for a in arrivals(engine)] == ["nieuw"]


def test_the_same_message_in_two_folders_is_taken_once(engine, inbox, box, dovecot, mailbox) -> None:  # type: ignore[no-untyped-def]
    client, folder = mailbox
    other = folder + "-b"
    client.create_folder(other)
    raw = wire(mail(to=USER, message_id=f"<twice-{folder}@example.nl>"))
    client.append(folder, raw)
    client.append(other, raw)
    result = poller(engine, inbox, box, account(engine, box, inbox, dovecot, [folder, other])).poll_once()
    assert (result.stored, result.skipped, result.marked) == (1, 1, 2)
    with storage.session_scope(engine) as s:
        assert sorted(u.outcome for u in s.exec(select(ImapUid))) == ["duplicate", "stored"]


def test_processed_mail_can_be_moved(engine, inbox, box, dovecot, mailbox) -> None:  # type: ignore[no-untyped-def]
    client, folder = mailbox
    client.append(folder, wire(mail(to=USER, attachments=(("f.pdf", "application/pdf", text_pdf()),))))
    p = poller(engine, inbox, box, account(engine, box, inbox, dovecot, [folder], action="move",
                                           move_to=folder + "-verwerkt"))
    assert p.poll_once().stored == 1 and p.poll_once().stored == 0
    client.select_folder(folder)
    assert client.search("ALL") == []
    client.select_folder(folder + "-verwerkt")
    assert len(client.search("ALL")) == 1


def test_too_large_is_refused_marked_and_told(engine, inbox, box, dovecot, mailbox) -> None:  # type: ignore[no-untyped-def]
    client, folder = mailbox
    client.append(folder, wire(mail(to=USER, attachments=(("big.pdf", "application/pdf", b"%PDF" + b"0" * MAX_BYTES),))))
    p = poller(engine, inbox, box, account(engine, box, inbox, dovecot, [folder]))
    assert p.poll_once().refused == 1 and p.poll_once().refused == 0
    [msg] = arrivals(engine)
    assert (msg.status, msg.reason, msg.path) == ("quarantined", "the mail is too large (over 2 MB)", "")


def test_a_crash_after_storing_only_redoes_the_mark(engine, inbox, box, dovecot, mailbox) -> None:  # type: ignore[no-untyped-def]
    client, folder = mailbox
    client.append(folder, wire(mail(to=USER, message_id=f"<crash-{folder}@example.nl>")))
    account_id = account(engine, box, inbox, dovecot, [folder])
    info = client.select_folder(folder)
    [uid] = client.search("ALL")
    raw = client.fetch([uid], ["BODY.PEEK[]"])[uid][b"BODY[]"]
    with storage.session_scope(engine) as s:                # the poll that committed and then died
        take_imap_message(s, inbox.store, imap_login(s, box, account_id), folder, int(info[b"UIDVALIDITY"]), uid, raw,
                          message_id=f"<crash-{folder}@example.nl>", subject="", envelope_from="", now=NOW)
    result = poller(engine, inbox, box, account_id).poll_once()
    assert (result.stored, result.marked) == (0, 1) and len(arrivals(engine)) == 1
    assert KEYWORD.encode() in client.get_flags([uid])[uid]


def restart_dovecot(store_while_down: bytes, folder: str) -> None:
    """Stop Dovecot, deliver one mail straight into the Maildir while it is down, start it again."""
    conf = Path(os.environ["KLERK_TEST_DOVECOT_CONF"])
    subprocess.run(["doveadm", "-c", str(conf), "stop"], check=True, timeout=20, stdout=subprocess.DEVNULL)
    maildir = conf.parent / "mail" / USER / "Maildir" / f".{folder}"
    new = maildir / "new" / f"{time.time_ns()}.klerktest.localhost"
    new.write_bytes(store_while_down)
    os.chown(new, maildir.stat().st_uid, maildir.stat().st_gid)
    for _ in range(100):                                  # the old master must be gone before starting
        started = subprocess.run(["dovecot", "-c", str(conf)], stdout=subprocess.DEVNULL,   # it daemonises:
                                 stderr=subprocess.DEVNULL, timeout=20, check=False)     # no pipes to wait on
        if started.returncode == 0:
            return
        time.sleep(0.1)
    raise AssertionError("Dovecot did not start again")


def wait_for(predicate, seconds: float = 20.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.slow
def test_idle_survives_a_dovecot_restart_and_misses_nothing(engine, inbox, box, dovecot, mailbox) -> None:  # type: ignore[no-untyped-def]
    assert shutil.which("doveadm") and shutil.which("dovecot"), "Dovecot's tools are needed to restart it"
    client, folder = mailbox
    p = poller(engine, inbox, box, account(engine, box, inbox, dovecot, [folder]), idle_timeout=30,
               min_backoff=0.2, max_backoff=1.0)
    stop = threading.Event()
    thread = threading.Thread(target=p.run, args=(stop,), daemon=True)
    thread.start()
    try:
        client.append(folder, wire(mail(to=USER, subject="een")))
        assert wait_for(lambda: len(arrivals(engine)) == 1), "IDLE did not bring the first mail"
        restart_dovecot(wire(mail(to=USER, subject="twee (terwijl de server weg was)")), folder)
        host, port, password = dovecot
        seeder = IMAPClient(host, port=port, ssl=False, timeout=10)
        seeder.login(USER, password)
        seeder.append(folder, wire(mail(to=USER, subject="drie")))
        seeder.logout()
        assert wait_for(lambda: len(arrivals(engine)) == 3), "the poller did not come back"
    finally:
        stop.set()
        thread.join(timeout=10)
    assert sorted(a.subject for a in arrivals(engine)) == ["drie", "een", "twee (terwijl de server weg was)"]
    assert not thread.is_alive()


def test_a_wrong_password_backs_off_and_is_recorded(engine, inbox, box, dovecot, mailbox) -> None:  # type: ignore[no-untyped-def]
    _, folder = mailbox
    host, port, _ = dovecot
    with storage.session_scope(engine) as s:
        account_id = add_imap_account(s, box, inbox.company_id, host=host, port=port, use_ssl=False, username=USER,
                                      password="wrong", folders=(folder,), now=NOW).id
    stop = threading.Event()
    thread = threading.Thread(target=poller(engine, inbox, box, account_id, min_backoff=0.1, max_backoff=0.2).run,
                              args=(stop,), daemon=True)
    thread.start()

    def recorded() -> bool:
        with storage.session_scope(engine) as s:
            return s.get(ImapAccount, account_id).last_error == "LoginError"
    try:
        assert wait_for(recorded, 15)
        assert thread.is_alive()
    finally:
        stop.set()
        thread.join(timeout=10)


def test_passwords_are_encrypted_at_rest(engine, inbox, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    box = load_secret_box("", tmp_path)
    assert (tmp_path / KEY_FILE).stat().st_mode & 0o777 == 0o600
    assert load_secret_box("", tmp_path).decrypt(box.encrypt("x")) == "x"          # the same key file again
    with storage.session_scope(engine) as s:
        acc = add_imap_account(s, box, inbox.company_id, host="imap.example.nl", username="u", password="hunter2",
                               now=NOW)
        assert "hunter2" not in acc.password_encrypted
        assert imap_login(s, box, acc.id).password == "hunter2"
        with pytest.raises(SecretUnreadableError):
            imap_login(s, SecretBox(Fernet.generate_key()), acc.id)
