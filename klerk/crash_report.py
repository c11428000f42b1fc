"""What the crash test found: the shoebox compared with what the senders were told."""
from __future__ import annotations

import platform
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import Protocol

from sqlalchemy.engine import Engine
from sqlmodel import select

from core import storage
from core.inbox.models import InboundMessage, InboxDocument, MessageStatus
from core.models import Job

ACCEPTED, REFUSED, NOT_SENT, UNKNOWN = "accepted", "refused", "not_sent", "unknown"


class _Attempt(Protocol):
    number: int
    key: str
    outcome: str
    code: int | None


class _Receipt(Protocol):
    number: int
    message_id: str
    invoice_number: str
    total: Decimal


@dataclass
class CrashReport:
    messages: int = 0
    attempts: int = 0
    accepted: int = 0                          # messages that got a 250
    refused: Counter[int] = field(default_factory=Counter)    # reply code -> attempts
    not_sent: int = 0                          # connection refused or cut before the final dot
    unknown: int = 0                           # the reply to the final dot was lost
    kills: Counter[str] = field(default_factory=Counter)
    restarts: int = 0
    pg_restarts: int = 0
    pg_down_seconds: float | None = None
    pg_refused: Counter[int] = field(default_factory=Counter)  # replies while PostgreSQL restarted
    smtp_back_seconds: float | None = None     # first 250 after PostgreSQL was back
    worker_back_seconds: float | None = None   # first job done after PostgreSQL was back
    arrivals: int = 0
    duplicate_arrivals: int = 0
    documents: int = 0
    jobs: dict[str, int] = field(default_factory=dict)
    orphan_raw_files: int = 0
    temp_files: int = 0
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        refused = ", ".join(f"{code}: {n}" for code, n in sorted(self.refused.items())) or "none"
        return (f"{self.messages} messages, {self.attempts} attempts; accepted {self.accepted}; refused {refused}; "
                f"not sent {self.not_sent}; reply lost {self.unknown}; kills {dict(self.kills)}; "
                f"restarts {self.restarts}; PostgreSQL restarts {self.pg_restarts}; arrivals {self.arrivals} "
                f"({self.duplicate_arrivals} duplicate); documents {self.documents}; jobs {self.jobs}; "
                f"{self.seconds:.0f} s; " + ("PASS" if self.ok else "FAIL: " + "; ".join(self.problems[:20])))

    def markdown(self, command: str, setup: str) -> str:
        refused = ", ".join(f"{n} × {code}" for code, n in sorted(self.refused.items())) or "none"
        pg = "none"
        if self.pg_restarts:
            pg = (f"{self.pg_restarts} (`pg_ctl restart -m fast`, down {_s(self.pg_down_seconds)}; "
                  f"replies meanwhile: {', '.join(f'{n} × {c}' for c, n in sorted(self.pg_refused.items())) or 'none'}; "
                  f"SMTP accepting again after {_s(self.smtp_back_seconds)}, a worker done with a job after "
                  f"{_s(self.worker_back_seconds)}, neither restarted)")
        rows = [
            ("messages mailed (distinct Message-IDs)", f"{self.messages}"),
            ("SMTP attempts", f"{self.attempts}"),
            ("accepted (250)", f"{self.accepted} messages"),
            ("refused by the server (4xx/5xx)", refused),
            ("not sent: connection refused or cut before the final dot", f"{self.not_sent}"),
            ("reply lost after the final dot (sent again)", f"{self.unknown}"),
            ("`kill -9`", ", ".join(f"{role} {n}" for role, n in sorted(self.kills.items())) or "none"),
            ("restarts after a kill", f"{self.restarts}"),
            ("PostgreSQL restarts", pg),
            ("arrivals stored", f"{self.arrivals} ({self.duplicate_arrivals} marked duplicate: a resent message)"),
            ("documents in the shoebox", f"{self.documents}"),
            ("jobs", ", ".join(f"{k} {v}" for k, v in sorted(self.jobs.items()))),
            ("left in the store", f"{self.orphan_raw_files} raw mails without arrival (killed before the commit), "
                                  f"{self.temp_files} temp files"),
            ("result", "PASS: every 250 stored, no refused mail stored, each accepted message in the shoebox "
                       "exactly once" if self.ok else "FAIL: " + "; ".join(self.problems[:10])),
            ("seconds", f"{self.seconds:.0f}"),
        ]
        table = "\n".join(f"| {k} | {v} |" for k, v in rows)
        return (f"## Crash test: kill -9 and a PostgreSQL restart under mail load\n\n"
                f"Command: `{command}` — {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, "
                f"{platform.python_implementation()} {platform.python_version()}.\n{setup}\n\n"
                f"| measure | value |\n|---|---|\n{table}\n")


def _s(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds:.1f} s"


def check_shoebox(report: CrashReport, engine: Engine, store_root: Path, receipts: list[_Receipt],
                  attempts: list[_Attempt], header: str) -> None:
    """Compare the database and the file store with the senders' ledger; add problems to ``report``."""
    problems = report.problems
    with storage.session_scope(engine) as s:
        rows = list(s.exec(select(InboundMessage).order_by(InboundMessage.id)))
        docs = list(s.exec(select(InboxDocument).order_by(InboxDocument.id)))
        jobs = list(s.exec(select(Job)))
    report.arrivals, report.documents = len(rows), len(docs)
    report.duplicate_arrivals = sum(r.status == MessageStatus.DUPLICATE.value for r in rows)
    report.jobs = dict(Counter(j.status for j in jobs))
    for job in jobs:
        if job.status != "done":
            problems.append(f"job {job.id} ({job.kind}) is {job.status}: {(job.last_error or '').strip()[-300:]}")

    by_key = {a.key: a for a in attempts}
    stored_keys: dict[str, int] = {}
    for row in rows:
        path = store_root / row.path
        if not row.path or not path.is_file():
            problems.append(f"arrival {row.id}: its raw mail {row.path!r} is missing")
            continue
        key = BytesHeaderParser().parsebytes(path.read_bytes()).get(header, "")
        attempt = by_key.get(key)
        if attempt is None:
            problems.append(f"arrival {row.id}: no sender attempt {key!r}")
        elif attempt.outcome in (REFUSED, NOT_SENT):
            problems.append(f"arrival {row.id}: stored although its sender was told it was not "
                            f"({attempt.outcome} {attempt.code or ''})")
        stored_keys[key] = row.id or 0
    for attempt in attempts:
        if attempt.outcome == ACCEPTED and attempt.key not in stored_keys:
            problems.append(f"attempt {attempt.key} got 250 but nothing was stored: mail lost")

    rows_of: dict[str, list[InboundMessage]] = defaultdict(list)
    for row in rows:
        rows_of[row.message_id].append(row)
    docs_of: dict[int, list[InboxDocument]] = defaultdict(list)
    for doc in docs:
        docs_of[doc.inbound_id].append(doc)
        if doc.duplicate_of is not None:
            problems.append(f"document {doc.id} is flagged as a duplicate of {doc.duplicate_of}")
        if not (store_root / doc.path).is_file():
            problems.append(f"document {doc.id}: its original {doc.path!r} is missing")
    outcomes: dict[int, set[str]] = defaultdict(set)
    for attempt in attempts:
        outcomes[attempt.number].add(attempt.outcome)
    for receipt in receipts:
        _check_message(receipt, rows_of.get(receipt.message_id, []), docs_of, outcomes[receipt.number], problems)
    for row in rows:
        if row.status not in (MessageStatus.PROCESSED.value, MessageStatus.DUPLICATE.value):
            problems.append(f"arrival {row.id} is {row.status}: {row.reason or row.error[-200:]}")

    referenced = {r.path for r in rows}
    raw_files = [p for p in (store_root / "raw").rglob("*.eml")] if (store_root / "raw").exists() else []
    report.orphan_raw_files = sum(str(p.relative_to(store_root)) not in referenced for p in raw_files)
    report.temp_files = sum(1 for _ in store_root.rglob(".*.tmp")) if store_root.exists() else 0


def _check_message(receipt: _Receipt, rows: list[InboundMessage], docs_of: dict[int, list[InboxDocument]],
                   outcomes: set[str], problems: list[str]) -> None:
    processed = [r for r in rows if r.status == MessageStatus.PROCESSED.value]
    docs = [d for r in processed for d in docs_of.get(r.id or 0, [])]
    name = receipt.message_id
    if ACCEPTED not in outcomes:
        if UNKNOWN not in outcomes and rows:
            problems.append(f"{name}: never accepted, yet stored {len(rows)}×")
        elif len(processed) > 1 or len(docs) > 1:
            problems.append(f"{name}: never confirmed, yet in the shoebox {len(docs)}×")
        return
    if len(processed) != 1 or len(docs) != 1:
        problems.append(f"{name}: accepted, in the shoebox {len(docs)}× from {len(processed)} processed "
                        f"arrival(s) (statuses {sorted(r.status for r in rows)})")
        return
    doc = docs[0]
    if doc.total != receipt.total or doc.invoice_number != receipt.invoice_number:
        problems.append(f"{name}: read as {doc.invoice_number!r} {doc.total}, sent as "
                        f"{receipt.invoice_number!r} {receipt.total}")
