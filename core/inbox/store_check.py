"""Are the inbox's files and the database in step? What ``klerk admin check-store`` runs.

- Every raw mail and every original a row points at must be in the store with the bytes it had
  (its sha256; with ``quick`` only its size, without reading it). One that is not is *missing* or
  *damaged*: the operator restores it from a backup.
- A file under ``raw/`` or ``originals/`` that no row points at is *unreferenced*: left by a crash
  between writing the file and committing its row (the SMTP peer got no 250 and sent the mail again;
  a worker read the mail again). Harmless, listed. On request raw mails are moved aside to
  ``unreferenced/`` — never deleted, an operator decides. Unreferenced originals are only listed:
  they are content addressed, and a new arrival of the same bytes may be about to point at one.

Files younger than ``GRACE`` are never called unreferenced: their row may not be committed yet.
Safe while Klerk is serving. Synchronous, through the store's interface (a directory or S3).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel import Session, select

from core.errors import NotFoundError
from core.inbox.models import InboundMessage, InboxDocument
from core.inbox.store import InboxStore, sha256_hex

GRACE = timedelta(hours=24)
UNREFERENCED = "unreferenced/"
_OURS = ("raw/", "originals/")


@dataclass
class StoreCheck:
    location: str
    checked: int = 0                                         # files rows point at, checked
    missing: list[str] = field(default_factory=list)        # "mail #12: raw/2026/..."
    damaged: list[str] = field(default_factory=list)
    unreferenced: list[str] = field(default_factory=list)   # names in the store
    moved: list[str] = field(default_factory=list)          # new names under unreferenced/

    @property
    def ok(self) -> bool:
        """No file a row points at is missing or damaged (unreferenced files are no fault)."""
        return not self.missing and not self.damaged


def check_store(session: Session, store: InboxStore, *, now: datetime, quick: bool = False,
                move_unreferenced: bool = False, grace: timedelta = GRACE) -> StoreCheck:
    expected = _expected_files(session)
    report = StoreCheck(store.location)
    for rel, (size, digest, what) in sorted(expected.items()):
        report.checked += 1
        problem = _problem(store, rel, size, digest, quick=quick)
        if problem == "missing":
            report.missing.append(f"{what}: {rel}")
        elif problem:
            report.damaged.append(f"{what}: {rel} ({problem})")
    for rel, modified in store.list_files():
        if rel in expected or not rel.startswith(_OURS) or modified > now - grace:
            continue
        report.unreferenced.append(rel)
        if move_unreferenced and rel.startswith("raw/"):
            store.move(rel, UNREFERENCED + rel)
            report.moved.append(UNREFERENCED + rel)
    return report


def _expected_files(session: Session) -> dict[str, tuple[int, str, str]]:
    """name -> (size, sha256, which row) of every file a row points at (a mail sent to two
    companies is one file with two rows: the first row names it)."""
    expected: dict[str, tuple[int, str, str]] = {}
    mails = select(InboundMessage.id, InboundMessage.path, InboundMessage.size, InboundMessage.sha256).where(
        InboundMessage.path != "").order_by(InboundMessage.id)
    for row_id, rel, size, digest in session.exec(mails):
        expected.setdefault(rel, (size, digest, f"mail #{row_id}"))
    documents = select(InboxDocument.id, InboxDocument.path, InboxDocument.size, InboxDocument.sha256).where(
        InboxDocument.path != "").order_by(InboxDocument.id)
    for row_id, rel, size, digest in session.exec(documents):
        expected.setdefault(rel, (size, digest, f"document #{row_id}"))
    return expected


def _problem(store: InboxStore, rel: str, size: int, digest: str, *, quick: bool) -> str:
    """``""`` when the file is as its row says, else ``"missing"`` or what differs."""
    if quick:
        actual = store.size(rel)
        if actual is None:
            return "missing"
        return f"{actual} bytes, the row says {size}" if size and actual != size else ""
    try:
        data = store.read(rel)
    except NotFoundError:
        return "missing"
    if digest and sha256_hex(data) != digest:
        return "its sha256 differs from the row's"
    if size and len(data) != size:
        return f"{len(data)} bytes, the row says {size}"
    return ""
