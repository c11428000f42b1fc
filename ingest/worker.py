"""The ingest worker: takes ``inbox_message``, ``receipt_reply`` and ``accountant_share`` jobs.

One job at a time, each isolated (STYLE §3): whatever one mail does, the loop goes on. A job's
final transaction records the outcome *and* completes the job, so a worker killed at any moment
leaves either nothing or everything; the job's lease runs out and another worker redoes it, and
``lock_pending`` makes the redo a no-op when the first one had committed. Mail sending is the one
effect outside the database: at least once, with the Message-ID fixed beforehand. The lease is short
(``DEFAULT_LEASE``) and renewed every third of it while the job runs, so a killed worker's job is
taken again within half a minute, while a slow document keeps its worker.

Reading (PDF text, OCR) runs through a ``Reader``: ``ingest.reading`` itself in tests, or an
``IsolatedReader`` (a child process with a time and memory limit) in production, so a
decompression bomb or a 20,000-page PDF costs one refused document, never the worker.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from typing import Protocol

from sqlalchemy.engine import Engine
from sqlmodel import Session

from core import jobs, storage
from core.errors import ReceiptRejectedError
from core.extraction import Extraction
from core.inbox.accountant import (
    SHARE_JOB,
    find_share_for_reply,
    give_up_share,
    mark_share_failed,
    mark_share_sent,
    prepare_share,
    record_accountant_reply,
)
from core.inbox.bounces import record_bounce
from core.inbox.filing import REPLY_JOB, extension, file_readings
from core.inbox.incoming import PartReading
from core.inbox.messages import (
    JOB_KIND,
    fail_message,
    finish_message,
    get_message,
    is_repeat,
    lock_pending,
    quarantine_message,
    raw_content,
    set_reply_status,
)
from core.inbox.models import MessageStatus
from core.inbox.replies import receipt_reply
from core.inbox.store import FileStore
from core.logcontext import log_context
from core.mail import MailDeliveryError, Relay, build_message, send_message
from core.models import Job
from ingest.mail_parsing import Candidate, ParsedMail, body_document, parse_mail, text_as_html

log = logging.getLogger(__name__)
KINDS = (JOB_KIND, REPLY_JOB, SHARE_JOB)
DEFAULT_LEASE = timedelta(seconds=30)
Finish = Callable[[Session], None]


class Reader(Protocol):
    def read_attachment(self, filename: str, content: bytes, mime: str) -> Extraction: ...
    def read_html_body(self, html: str) -> Extraction: ...


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Worker:
    def __init__(self, engine: Engine, store: FileStore, reader: Reader, *, ingest_domain: str, relay: Relay,
                 name: str | None = None, clock: Callable[[], datetime] = _utcnow,
                 lease: timedelta = DEFAULT_LEASE) -> None:
        self.engine, self.store, self.reader = engine, store, reader
        self.ingest_domain, self.relay, self.clock, self.lease = ingest_domain, relay, clock, lease
        self.name = (name or f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}")[:100]
        self._handlers: dict[str, Callable[[dict, Finish], None]] = {
            JOB_KIND: self._inbox_message, REPLY_JOB: self._receipt_reply, SHARE_JOB: self._accountant_share}

    # ---- the loop -------------------------------------------------------------------------------
    def run(self, stop: threading.Event, *, idle_seconds: float = 1.0) -> None:
        while not stop.is_set():
            try:
                worked = self.run_once()
            except Exception:                      # the database is away: wait, never stop
                log.exception("worker %s: could not claim a job", self.name)
                worked = False
            if not worked:
                stop.wait(idle_seconds)

    def run_until_idle(self, *, limit: int = 10_000) -> int:
        done = 0
        while done < limit and self.run_once():
            done += 1
        return done

    def run_once(self) -> bool:
        with storage.session_scope(self.engine) as s:
            job = jobs.claim(s, KINDS, worker=self.name, now=self.clock(), lease=self.lease)
            if job is None:
                return False
            job_id, kind, payload, company_id = job.id, job.kind, dict(job.payload), job.company_id
            gave_up = job.attempts > job.max_attempts    # it crashed the worker (kill, OOM) each time
        assert job_id is not None

        def finish(session: Session) -> None:
            done = session.get(Job, job_id)
            if done is not None and done.status == "running":
                jobs.complete(session, done, now=self.clock())

        with log_context(job_id=job_id, job_kind=kind, company_id=company_id):
            try:
                if gave_up:
                    raise RuntimeError("the job was taken too often without finishing (worker crashed or killed)")
                with self._keeping_lease(job_id):
                    self._handlers[kind](payload, finish)
            except Exception as exc:                   # isolate: record on the job, go on with the next
                log.exception("job %s (%s) failed", job_id, kind)
                self._record_failure(job_id, kind, payload, exc, gave_up=gave_up)
        return True

    @contextmanager
    def _keeping_lease(self, job_id: int) -> Iterator[None]:
        """A heartbeat: renew the job's lease every third of it for as long as the job runs."""
        done = threading.Event()
        beat = threading.Thread(target=self._renew_lease, args=(job_id, done), name=f"lease-{job_id}", daemon=True)
        beat.start()
        try:
            yield
        finally:
            done.set()
            beat.join(timeout=1)

    def _renew_lease(self, job_id: int, done: threading.Event) -> None:
        every = max(self.lease.total_seconds() / 3, 0.05)
        while not done.wait(every):
            try:
                with storage.session_scope(self.engine) as s:
                    if not jobs.renew(s, job_id, worker=self.name, until=self.clock() + self.lease):
                        return                 # taken over or finished: lock_pending keeps it once
            except Exception:                  # the database is away: the next beat tries again
                log.warning("worker %s: could not renew the lease of job %s", self.name, job_id)

    def _record_failure(self, job_id: int, kind: str, payload: dict, exc: Exception, *, gave_up: bool) -> None:
        now = self.clock()
        with storage.session_scope(self.engine) as s:
            job = s.get(Job, job_id)
            if job is None or job.status != "running":
                return
            if gave_up:
                job.attempts = max(job.attempts, job.max_attempts)
            jobs.fail(s, job, exc, now=now)
            if job.status != "failed":
                return
            text = job.last_error
            if kind == JOB_KIND:
                fail_message(s, payload["inbound_id"], text, now=now)
            elif kind == REPLY_JOB:
                set_reply_status(s, payload["inbound_id"], "failed")
            elif kind == SHARE_JOB:
                give_up_share(s, payload["document_id"], str(exc) or "could not be sent", now=now)

    # ---- inbox_message --------------------------------------------------------------------------
    def _inbox_message(self, payload: dict, finish: Finish) -> None:
        inbound_id = int(payload["inbound_id"])
        with storage.session_scope(self.engine) as s:
            msg = get_message(s, inbound_id)
            if msg.status != MessageStatus.PENDING.value:
                finish(s)
                return
            source, envelope_from, filename, mime = msg.source, msg.envelope_from, msg.filename, msg.mime
            s.expunge(msg)
        raw = raw_content(self.store, msg)       # file I/O outside the transaction (SQLite: a write lock)
        if source == "upload":
            reading = self._read(Candidate(filename, mime, raw))
            self._file(inbound_id, [reading], None, finish)
            return
        try:
            parsed = parse_mail(raw, envelope_from=envelope_from, ingest_domain=self.ingest_domain)
        except ReceiptRejectedError as exc:
            self._quarantine(inbound_id, str(exc), finish)
            return
        if self._settled_without_reading(inbound_id, parsed, finish):
            return
        readings = [self._read(c) for c in parsed.candidates]
        body = body_document(parsed)
        if body is not None:
            reading = self._read(Candidate(*body))
            readings.append(PartReading(reading.filename, reading.mime, reading.content, reading.extraction,
                                        reading.rejection, from_body=True))
        self._file(inbound_id, readings, parsed, finish)

    def _settled_without_reading(self, inbound_id: int, parsed: ParsedMail, finish: Finish) -> bool:
        """Repeats, bounces and the accountant's answers are recorded without reading anything."""
        now = self.clock()
        with storage.session_scope(self.engine) as s:
            msg = lock_pending(s, inbound_id)
            if msg is None:
                finish(s)
                return True
            if is_repeat(s, msg):
                finish_message(s, msg, MessageStatus.DUPLICATE, now=now, reason="same Message-ID as an earlier mail")
            elif parsed.report is not None:
                record_bounce(s, msg, parsed.report, now=now)
            elif parsed.accountant is not None and (
                    share := find_share_for_reply(s, msg.company_id, parsed.accountant)) is not None:
                record_accountant_reply(s, msg, share, parsed.accountant, now=now)
            elif msg.source == "bounce":          # an out-of-office or spam to a bounce address: no receipt
                finish_message(s, msg, MessageStatus.QUARANTINED, now=now, kind="bounce",
                               reason="sent to a bounce address and not a delivery report")
            else:
                return False
            finish(s)
            return True

    def _file(self, inbound_id: int, readings: list[PartReading], parsed: ParsedMail | None, finish: Finish) -> None:
        for r in readings:                       # originals on disk first, outside the transaction;
            if not r.from_body:                  # filing finds them there (a mail body it may skip)
                self.store.write_original(r.content, extension(r.filename, r.mime))
        with storage.session_scope(self.engine) as s:
            msg = lock_pending(s, inbound_id)
            if msg is not None:
                file_readings(s, self.store, msg, readings, parsed.facts if parsed else None, now=self.clock())
            finish(s)

    def _quarantine(self, inbound_id: int, reason: str, finish: Finish) -> None:
        with storage.session_scope(self.engine) as s:
            msg = lock_pending(s, inbound_id)
            if msg is not None:
                quarantine_message(s, msg, reason, now=self.clock())
            finish(s)

    def _read(self, c: Candidate) -> PartReading:
        if c.rejection:
            return PartReading(c.filename, c.mime, c.content, rejection=c.rejection)
        try:
            if c.mime in ("text/html", "text/plain"):
                text = c.content.decode("utf-8", errors="replace")
                extraction = self.reader.read_html_body(text if c.mime == "text/html" else text_as_html(text))
            else:
                extraction = self.reader.read_attachment(c.filename, c.content, c.mime)
        except ReceiptRejectedError as exc:
            return PartReading(c.filename, c.mime, c.content, rejection=str(exc)[:500] or "refused")
        except Exception:                          # a reader bug costs this document, not the mail
            log.exception("reading a %s attachment failed", c.mime)
            return PartReading(c.filename, c.mime, c.content, rejection="could not be read")
        return PartReading(c.filename, c.mime, c.content, extraction=extraction)

    # ---- receipt_reply --------------------------------------------------------------------------
    def _receipt_reply(self, payload: dict, finish: Finish) -> None:
        inbound_id = int(payload["inbound_id"])
        with storage.session_scope(self.engine) as s:
            if get_message(s, inbound_id).reply_status != "queued":
                finish(s)
                return
            if not self.relay.configured:
                set_reply_status(s, inbound_id, "skipped:no relay")
                finish(s)
                return
            mail = receipt_reply(s, inbound_id)
        try:
            send_message(self.relay, build_message(mail, self.relay, domain=self.ingest_domain))
        except MailDeliveryError as exc:
            if not exc.permanent:
                raise
            with storage.session_scope(self.engine) as s:
                set_reply_status(s, inbound_id, f"failed:{exc.code}")
                finish(s)
            return
        with storage.session_scope(self.engine) as s:
            set_reply_status(s, inbound_id, "sent")
            finish(s)

    # ---- accountant_share -----------------------------------------------------------------------
    def _accountant_share(self, payload: dict, finish: Finish) -> None:
        with storage.session_scope(self.engine) as s:
            share = prepare_share(s, self.store, int(payload["document_id"]), ingest_domain=self.ingest_domain,
                                  now=self.clock())
            if share is None:
                finish(s)
                return
        if not self.relay.configured:
            raise MailDeliveryError("no outgoing mail server configured")
        message = build_message(share.mail, self.relay, domain=self.ingest_domain)
        message.replace_header("Message-ID", share.message_id)
        try:
            send_message(self.relay, message, company_id=share.company_id)
        except MailDeliveryError as exc:
            if not exc.permanent:
                raise
            with storage.session_scope(self.engine) as s:
                mark_share_failed(s, share.share_id, str(exc), now=self.clock())
                finish(s)
            return
        with storage.session_scope(self.engine) as s:
            mark_share_sent(s, share.share_id, now=self.clock())
            finish(s)

