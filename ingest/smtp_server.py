"""The SMTP ingest (aiosmtpd): accept fast, process later.

    RCPT  bon-<token>@<domain> of an active address, or a company's bounce address
          bounce-<company>-<signature>@<domain> (``core.mail``: the envelope sender of its mail, for
          delivery reports) -> 250; anything else -> 550 5.1.1;
          more than ``max_recipients`` -> 452 4.5.3; a company over ``max_per_hour`` mails in this
          process's last hour -> 451 4.7.1 (a flood waits, a real sender retries); the database
          away -> 451 4.3.0
    DATA  over ``max_message_bytes`` -> 552 (aiosmtpd, also for a too large SIZE= on MAIL);
          not a mail at all -> 554 5.6.0; stored (file fsynced, row + job committed) -> 250;
          any other fault -> 451 4.3.0 and a log entry. Never a 250 for mail that is not stored.

The database and file work runs in a thread pool of its own; the event loop only talks SMTP.
"""
from __future__ import annotations

import asyncio
import functools
import logging
import re
import time
import weakref
from collections import defaultdict, deque
from concurrent.futures import ThreadPoolExecutor
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope
from sqlalchemy.engine import Engine

from core import storage
from core.errors import ReceiptRejectedError
from core.inbox.addresses import company_for_token, token_from_address
from core.inbox.messages import accept_mail
from core.inbox.store import FileStore
from core.mail import company_of_bounce_address
from core.models import Company
from ingest.mail_parsing import check_acceptable, peek_headers, redact

log = logging.getLogger(__name__)
TEMPORARY = "451 4.3.0 Temporary failure, please try again later"
_UNSAFE_REPLY = re.compile(r"[^\x20-\x7e]")


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


class IngestEnvelope(Envelope):
    def __init__(self) -> None:
        super().__init__()
        self.companies: list[int] = []          # by their receipt address
        self.bounces: list[int] = []            # by their bounce address (delivery reports of their mail)


class IngestSMTP(SMTP):
    # RFC 5321 allows 1000 octets per line; real senders exceed it and real MTAs accept it.
    line_length_limit = 64 * 1024

    def _create_envelope(self) -> IngestEnvelope:
        return IngestEnvelope()


class IngestHandler:
    def __init__(self, engine: Engine, store: FileStore, *, domain: str, max_recipients: int = 50,
                 max_per_hour: int | None = 1000, clock: Callable[[], datetime] = _utcnow,
                 io_threads: int = 32, bounce_key: bytes = b"") -> None:
        self.engine, self.store, self.domain = engine, store, domain.lower()
        self.bounce_key = bounce_key             # checks bounce-<company>-<signature>@domain (core.mail)
        self.max_recipients, self.max_per_hour, self.clock = max_recipients, max_per_hour, clock
        self._recent: dict[int, deque[float]] = defaultdict(deque)   # company -> accept times (event loop only)
        # The lookups and the durable writes wait on fsync and the database, not on the CPU: a pool of
        # their own, bigger than asyncio's default (cores + 4), lets the sessions' commits overlap.
        self._io = ThreadPoolExecutor(max_workers=io_threads, thread_name_prefix="smtp-io")

    async def _off_loop(self, function: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._io, functools.partial(function, *args))

    def _over_limit(self, company_id: int) -> bool:
        if self.max_per_hour is None:
            return False
        recent, now = self._recent[company_id], time.monotonic()
        while recent and recent[0] < now - 3600:
            recent.popleft()
        if len(recent) >= self.max_per_hour:
            return True
        recent.append(now)
        return False

    async def handle_RCPT(self, server: SMTP, session: Any, envelope: IngestEnvelope, address: str,
                          rcpt_options: list[str]) -> str:
        if len(envelope.rcpt_tos) >= self.max_recipients:
            return "452 4.5.3 Too many recipients"
        token = token_from_address(address, self.domain)
        bounce_of = None if token is not None else company_of_bounce_address(address, self.bounce_key, self.domain)
        if token is None and bounce_of is None:
            return "550 5.1.1 No such mailbox here"
        try:
            company_id = await self._off_loop(self._company_for, token, bounce_of)
        except Exception:
            log.exception("looking up an ingest address failed")
            return TEMPORARY
        if company_id is None:
            log.info("refused mail for unknown %s", redact(address))
            return "550 5.1.1 No such mailbox here"
        if self._over_limit(company_id):
            log.warning("company %s is over %s mails an hour: deferred", company_id, self.max_per_hour)
            return "451 4.7.1 Too many mails for this address, try again later"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        (envelope.companies if bounce_of is None else envelope.bounces).append(company_id)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Any, envelope: IngestEnvelope) -> str:
        raw = envelope.original_content or b""
        try:
            check_acceptable(raw)
            inbound_ids = await self._off_loop(self._store, raw, envelope.mail_from or "", list(envelope.companies),
                                               list(envelope.bounces))
        except ReceiptRejectedError as exc:
            return f"554 5.6.0 {_UNSAFE_REPLY.sub('?', str(exc))[:200]}"
        except Exception:
            log.exception("storing an incoming mail failed")
            return TEMPORARY
        log.info("accepted %d bytes for %d compan%s as arrival %s", len(raw), len(inbound_ids),
                 "y" if len(inbound_ids) == 1 else "ies", ",".join(map(str, inbound_ids)))
        return "250 2.0.0 Stored"

    async def handle_exception(self, error: Exception) -> str:
        log.error("SMTP session error: %s", type(error).__name__, exc_info=error)
        return TEMPORARY

    def _company_for(self, token: str | None, bounce_of: int | None) -> int | None:
        with storage.read_scope(self.engine) as s:        # a read: on SQLite it does not queue behind writers
            if token is not None:
                return company_for_token(s, token)
            return bounce_of if s.get(Company, bounce_of) is not None else None

    def _store(self, raw: bytes, envelope_from: str, companies: list[int], bounces: list[int]) -> list[int]:
        """One transaction: an arrival per company, source "bounce" for those reached by their bounce
        address (the worker takes only delivery reports from there)."""
        peek = peek_headers(raw)
        rows = []
        with storage.session_scope(self.engine) as s:
            for source, ids in (("smtp", companies), ("bounce", bounces)):
                if ids:
                    rows += accept_mail(s, self.store, raw, company_ids=ids, source=source, now=self.clock(),
                                        envelope_from=envelope_from, message_id=peek.message_id, subject=peek.subject)
            return [r.id for r in rows if r.id is not None]


class IngestController(Controller):
    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.sessions: weakref.WeakSet[IngestSMTP] = weakref.WeakSet()

    def factory(self) -> IngestSMTP:
        session = IngestSMTP(self.handler, **self.SMTP_kwargs)
        self.sessions.add(session)
        return session

    def _in_transaction(self) -> bool:
        """A session between MAIL FROM and the reply to its DATA (a sender we owe an answer)."""
        return any(s.envelope is not None and s.envelope.mail_from is not None and s.transport is not None
                   and not s.transport.is_closing() for s in list(self.sessions))

    def drain(self, timeout: float = 15.0) -> None:
        """Stop gracefully (SIGTERM): no new connections; a mail in hand gets its answer; then stop.
        After ``timeout`` the rest is cut off: those senders got no 250 and will try again."""
        if self.loop.is_running() and self.server is not None:
            self.loop.call_soon_threadsafe(self.server.close)
        deadline = time.monotonic() + timeout
        while self._in_transaction() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.1)                     # let the last reply leave the socket
        self.stop()


def make_controller(handler: IngestHandler, *, host: str, port: int, max_message_bytes: int,
                    server_hostname: str | None = None) -> IngestController:
    """A threaded aiosmtpd controller; ``start()`` it, ``stop()`` it. Pick a free port first
    (aiosmtpd 1.4.6 cannot listen on port 0)."""
    logging.getLogger("mail.log").setLevel(logging.WARNING)   # aiosmtpd logs full addresses at INFO
    return IngestController(handler, hostname=host, port=port, data_size_limit=max_message_bytes,
                            enable_SMTPUTF8=True, decode_data=False, ident="Klerk ingest",
                            server_hostname=server_hostname or "klerk-ingest",
                            command_call_limit={"RCPT": 1000, "*": 5000}, timeout=120)
