"""The IMAP poller (imapclient, synchronous, one thread per mailbox).

Idempotent on (account, folder, UIDVALIDITY, UID) in the database, like paperless's
``ProcessedMail``, and on the Message-ID per company. A message is stored (raw file fsynced, row,
job and UID record committed together) before its server-side mark is set: a keyword
(``$KlerkDone``) or a move to a folder. Every taken message is marked — also the ones that held
nothing usable, the duplicates and the refused ones — so nothing is fetched again and again
(paperless-ngx's refetch storm). A crash between the commit and the mark only means the mark is
set on the next poll, without fetching the message again.

Only mail of the last ``max_age_days`` (by arrival in the mailbox) is considered, as paperless's
"maximum age": connecting a mailbox does not turn its whole history into receipts.

``run`` waits with IDLE where the server has it (on the first folder; the others are polled when
IDLE returns), else polls every ``poll_interval``. Mail that arrives between the poll and the start
of IDLE is caught by comparing UIDNEXT, so it waits for no IDLE timeout. On any error it reconnects
with exponential back-off and jitter, and never stops until told to: up to ``max_backoff`` when the
server answered (a wrong password is not retried every second), up to ``max_unreachable_backoff``
when it could not be reached, so a restarted server has its pollers back within seconds.
"""
from __future__ import annotations

import imaplib
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from imapclient import IMAPClient
from sqlalchemy.engine import Engine

from core import storage
from core.errors import NotFoundError
from core.inbox.imap_accounts import (
    ImapLogin,
    imap_login,
    message_id_seen,
    record_poll,
    refuse_imap_message,
    remember_uid,
    take_imap_message,
    taken_uids,
)
from core.secrets import SecretBox
from core.inbox.store import FileStore
from ingest.mail_parsing import first_address, peek_headers

log = logging.getLogger(__name__)
KEYWORD = "$KlerkDone"
SEEN = b"\\Seen"
_HEADER_FIELDS = "BODY.PEEK[HEADER.FIELDS (MESSAGE-ID SUBJECT RETURN-PATH FROM)]"


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class PollResult:
    stored: int = 0
    skipped: int = 0       # duplicates by Message-ID
    refused: int = 0       # too large
    marked: int = 0        # server-side marks set (new and redone)

    def __iadd__(self, other: PollResult) -> PollResult:
        self.stored += other.stored
        self.skipped += other.skipped
        self.refused += other.refused
        self.marked += other.marked
        return self


def _field(data: dict, prefix: bytes) -> bytes:
    for key, value in data.items():
        if isinstance(key, bytes) and key.upper().startswith(prefix):
            return value or b""
    return b""


class ImapPoller:
    def __init__(self, engine: Engine, store: FileStore, box: SecretBox, account_id: int, *, max_message_bytes: int,
                 clock: Callable[[], datetime] = _utcnow, poll_interval: float = 60.0, idle_timeout: float = 300.0,
                 timeout: float = 30.0, batch: int = 50, min_backoff: float = 1.0, max_backoff: float = 300.0,
                 max_unreachable_backoff: float = 4.0, max_age_days: int | None = 30) -> None:
        self.engine, self.store, self.box, self.account_id = engine, store, box, account_id
        self.max_age_days = max_age_days
        self.max_message_bytes, self.clock, self.batch = max_message_bytes, clock, batch
        self.poll_interval, self.idle_timeout, self.timeout = poll_interval, idle_timeout, timeout
        self.min_backoff, self.max_backoff = min_backoff, max_backoff
        self.max_unreachable_backoff = min(max_unreachable_backoff, max_backoff)
        self._uidnext: dict[str, int] = {}       # folder -> UIDNEXT when it was last searched

    # ---- one pass -------------------------------------------------------------------------------
    def connect(self) -> tuple[IMAPClient, ImapLogin]:
        with storage.session_scope(self.engine) as s:
            login = imap_login(s, self.box, self.account_id)
        client = IMAPClient(login.host, port=login.port, ssl=login.use_ssl, timeout=self.timeout)
        try:
            client.login(login.username, login.password)
        except BaseException:
            _close(client)
            raise
        return client, login

    def poll_once(self) -> PollResult:
        client, login = self.connect()
        try:
            return self.poll_folders(client, login)
        finally:
            _close(client)

    def poll_folders(self, client: IMAPClient, login: ImapLogin) -> PollResult:
        result = PollResult()
        for folder in login.folders:
            while True:
                step = self._poll_folder(client, login, folder)
                result += step
                if step.stored + step.skipped + step.refused < self.batch:
                    break
        with storage.session_scope(self.engine) as s:
            record_poll(s, login.account_id, now=self.clock())
        return result

    def _poll_folder(self, client: IMAPClient, login: ImapLogin, folder: str) -> PollResult:
        info = client.select_folder(folder)
        uidvalidity = int(info[b"UIDVALIDITY"])
        self._uidnext[folder] = int(info.get(b"UIDNEXT") or 0)
        marker = KEYWORD if b"\\*" in (info.get(b"PERMANENTFLAGS") or ()) else SEEN
        criteria: list = ["UNDELETED"]
        if self.max_age_days is not None:          # a mailbox's history is not a pile of receipts
            criteria += ["SINCE", (self.clock() - timedelta(days=self.max_age_days)).date()]
        if login.action != "move":
            criteria += ["UNSEEN"] if marker == SEEN else ["NOT", "KEYWORD", KEYWORD]
        uids = client.search(criteria)
        uids = sorted(int(u) for u in uids)
        with storage.session_scope(self.engine) as s:
            taken = taken_uids(s, login.account_id, folder, uidvalidity, uids)
        fresh = [u for u in uids if u not in taken][: self.batch]
        result = PollResult()
        done = [u for u in uids if u in taken]
        if fresh:
            meta = client.fetch(fresh, ["RFC822.SIZE", _HEADER_FIELDS])
            for uid in fresh:
                if uid not in meta:          # expunged meanwhile
                    continue
                self._take(client, login, folder, uidvalidity, uid, meta[uid], result)
                done.append(uid)
        if done:
            self._mark(client, login, sorted(done), marker)
            result.marked = len(done)
        return result

    def _take(self, client: IMAPClient, login: ImapLogin, folder: str, uidvalidity: int, uid: int, meta: dict,
              result: PollResult) -> None:
        peek = peek_headers(_field(meta, b"BODY[HEADER"))
        size = int(meta.get(b"RFC822.SIZE") or 0)
        now = self.clock()
        if size > self.max_message_bytes:
            with storage.session_scope(self.engine) as s:
                refuse_imap_message(s, login, folder, uidvalidity, uid, now=now, message_id=peek.message_id,
                                    subject=peek.subject, reason=f"the mail is too large (over {self.max_message_bytes // 2**20} MB)")
            result.refused += 1
            return
        with storage.session_scope(self.engine) as s:
            if message_id_seen(s, login.company_id, peek.message_id):
                remember_uid(s, login.account_id, folder, uidvalidity, uid, outcome="duplicate", now=now)
                result.skipped += 1
                return
        raw = _field(client.fetch([uid], ["BODY.PEEK[]"]).get(uid, {}), b"BODY[]")
        envelope = peek.return_path.strip() or first_address(peek.sender)   # no Return-Path: answer From
        with storage.session_scope(self.engine) as s:
            msg = take_imap_message(s, self.store, login, folder, uidvalidity, uid, raw or b" ",
                                    message_id=peek.message_id, subject=peek.subject, envelope_from=envelope, now=now)
        if msg is None:
            result.skipped += 1
        else:
            result.stored += 1

    def _mark(self, client: IMAPClient, login: ImapLogin, uids: list[int], marker: str | bytes) -> None:
        if login.action != "move":
            client.add_flags(uids, [marker])
            return
        if not client.folder_exists(login.move_to):
            client.create_folder(login.move_to)
        if client.has_capability("MOVE"):
            client.move(uids, login.move_to)
            return
        client.copy(uids, login.move_to)
        client.add_flags(uids, [b"\\Deleted"])
        if client.has_capability("UIDPLUS"):
            client.uid_expunge(uids)
        else:
            client.expunge()

    # ---- forever --------------------------------------------------------------------------------
    def run(self, stop: threading.Event) -> None:
        delay = self.min_backoff
        while not stop.is_set():
            client = None
            try:
                client, login = self.connect()
                delay = self.min_backoff
                while not stop.is_set():
                    self.poll_folders(client, login)
                    self._wait(client, login, stop)
            except NotFoundError:
                log.info("imap account %s is gone: its poller stops", self.account_id)
                return
            except Exception as exc:               # the edge loop never stops: back off, reconnect
                unreachable = isinstance(exc, (OSError, imaplib.IMAP4.abort))
                if unreachable:
                    delay = min(delay, self.max_unreachable_backoff)
                log.warning("imap account %s: %s; reconnecting in %.0f s", self.account_id,
                            type(exc).__name__, delay)
                self._record_error(type(exc).__name__)
                stop.wait(delay * random.uniform(0.8, 1.2))
                delay = min(delay * 2, self.max_unreachable_backoff if unreachable else self.max_backoff)
            finally:
                if client is not None:
                    _close(client)

    def _wait(self, client: IMAPClient, login: ImapLogin, stop: threading.Event) -> None:
        if not client.has_capability("IDLE"):
            stop.wait(self.poll_interval)
            return
        folder = login.folders[0]
        info = client.select_folder(folder)
        if int(info.get(b"UIDNEXT") or 0) != self._uidnext.get(folder):
            return                               # mail came in after the search: poll again first
        client.idle()
        deadline = time.monotonic() + self.idle_timeout
        try:
            while not stop.is_set() and time.monotonic() < deadline:
                if client.idle_check(timeout=0.5):
                    break
        finally:
            client.idle_done()

    def _record_error(self, error: str) -> None:
        try:
            with storage.session_scope(self.engine) as s:
                record_poll(s, self.account_id, error=error, now=self.clock())
        except Exception:
            log.warning("imap account %s: could not record the error", self.account_id)


def _close(client: IMAPClient) -> None:
    try:
        client.logout()
    except Exception:
        try:
            client.shutdown()
        except Exception:
            log.debug("closing an IMAP connection failed", exc_info=True)


class ImapSupervisor:
    """One poller thread per active account; picks up added accounts every ``refresh`` seconds."""

    def __init__(self, make_poller: Callable[[int], ImapPoller], list_accounts: Callable[[], list[int]], *,
                 refresh: float = 60.0) -> None:
        self.make_poller, self.list_accounts, self.refresh = make_poller, list_accounts, refresh
        self.threads: dict[int, threading.Thread] = {}

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                for account_id in self.list_accounts():
                    thread = self.threads.get(account_id)
                    if thread is None or not thread.is_alive():
                        poller = self.make_poller(account_id)
                        thread = threading.Thread(target=poller.run, args=(stop,), name=f"imap-{account_id}",
                                                  daemon=True)
                        thread.start()
                        self.threads[account_id] = thread
            except Exception:
                log.exception("listing the IMAP accounts failed")
            stop.wait(self.refresh)
        for thread in self.threads.values():
            thread.join(timeout=5)
