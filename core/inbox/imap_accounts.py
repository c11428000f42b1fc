"""Mailboxes Klerk reads receipts from, and the UIDs it has taken from them.

The poller (``ingest.imap_poller``) is idempotent on (account, folder, UIDVALIDITY, UID): an
``ImapUid`` row is written in the same transaction as the stored arrival, so after a crash a
message is either fully taken (and only its server-side flag/move is redone) or not at all.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, select

from core import outbox
from core.errors import NotFoundError, ValidationError
from core.inbox.messages import accept_mail, message_id_seen
from core.inbox.models import ImapAccount, ImapUid, InboundMessage, MessageStatus
from core.secrets import SecretBox
from core.inbox.store import FileStore
from core.models import Company


@dataclass(frozen=True)
class ImapLogin:
    """What the poller needs to connect; the password decrypted only in memory."""

    account_id: int
    company_id: int
    host: str
    port: int
    use_ssl: bool
    username: str
    password: str
    folders: tuple[str, ...]
    action: str
    move_to: str


def add_imap_account(session: Session, box: SecretBox, company_id: int, *, host: str, username: str,
                     password: str, port: int = 993, use_ssl: bool = True, folders: tuple[str, ...] = ("INBOX",),
                     action: str = "flag", move_to: str = "", now: datetime) -> ImapAccount:
    if session.get(Company, company_id) is None:
        raise NotFoundError("no such company")
    if not host.strip() or any(c in host for c in " /\r\n"):
        raise ValidationError("host", "Not a server name: {value}", value=host[:60])
    if not 0 < int(port) < 65536:
        raise ValidationError("port", "Not a port number: {value}", value=str(port)[:10])
    if not username.strip() or not password:
        raise ValidationError("username", "The user name and password are required")
    if action not in ("flag", "move") or (action == "move" and not move_to.strip()):
        raise ValidationError("action", "Processed mail is flagged, or moved to a folder you name")
    names = tuple(f.strip() for f in folders if f.strip()) or ("INBOX",)
    if any("," in f or "\r" in f or "\n" in f for f in names):
        raise ValidationError("folders", "A folder name cannot contain a comma or a line break")
    account = ImapAccount(company_id=company_id, host=host.strip(), port=int(port), use_ssl=use_ssl,
                          username=username.strip(), password_encrypted=box.encrypt(password),
                          folders=",".join(names), action=action, move_to=move_to.strip(), created_at=now)
    session.add(account)
    session.flush()
    return account


def remove_imap_account(session: Session, company_id: int, account_id: int) -> None:
    account = session.get(ImapAccount, account_id)
    if account is None or account.company_id != company_id:
        raise NotFoundError("no such mailbox")
    account.active = False
    session.add(account)


def active_imap_accounts(session: Session) -> list[int]:
    return list(session.exec(select(ImapAccount.id).where(ImapAccount.active.is_(True)).order_by(ImapAccount.id)))


def imap_login(session: Session, box: SecretBox, account_id: int) -> ImapLogin:
    account = session.get(ImapAccount, account_id)
    if account is None or not account.active:
        raise NotFoundError("no such mailbox")
    return ImapLogin(account.id, account.company_id, account.host, account.port, account.use_ssl, account.username,
                     box.decrypt(account.password_encrypted), tuple(account.folders.split(",")),
                     account.action, account.move_to)


def taken_uids(session: Session, account_id: int, folder: str, uidvalidity: int, uids: list[int]) -> set[int]:
    """Which of ``uids`` were taken before (their server-side flag or move may still be due)."""
    taken: set[int] = set()
    for start in range(0, len(uids), 500):
        chunk = uids[start:start + 500]
        taken.update(session.exec(select(ImapUid.uid).where(
            ImapUid.account_id == account_id, ImapUid.folder == folder, ImapUid.uidvalidity == uidvalidity,
            ImapUid.uid.in_(chunk))))
    return taken


def take_imap_message(session: Session, store: FileStore, login: ImapLogin, folder: str, uidvalidity: int,
                      uid: int, raw: bytes, *, message_id: str, subject: str, envelope_from: str,
                      now: datetime) -> InboundMessage | None:
    """Store one fetched message and remember its UID, in one transaction. None: its Message-ID
    reached this company before (the UID is remembered all the same)."""
    if message_id_seen(session, login.company_id, message_id):
        remember_uid(session, login.account_id, folder, uidvalidity, uid, outcome="duplicate", now=now)
        return None
    msg = accept_mail(session, store, raw, company_ids=[login.company_id], source="imap",
                      envelope_from=envelope_from, message_id=message_id, subject=subject, now=now,
                      imap_account_id=login.account_id)[0]
    remember_uid(session, login.account_id, folder, uidvalidity, uid, outcome="stored", now=now, inbound_id=msg.id)
    return msg


def refuse_imap_message(session: Session, login: ImapLogin, folder: str, uidvalidity: int, uid: int, *,
                        reason: str, message_id: str, subject: str, now: datetime) -> InboundMessage:
    """A message we will not take (too large): remembered and recorded with the reason, so it is
    neither fetched again nor silently ignored."""
    msg = InboundMessage(company_id=login.company_id, source="imap", status=MessageStatus.QUARANTINED.value,
                         kind="refused", message_id=message_id[:300], subject=subject[:300], reason=reason[:500],
                         imap_account_id=login.account_id, received_at=now, processed_at=now)
    session.add(msg)
    session.flush()
    remember_uid(session, login.account_id, folder, uidvalidity, uid, outcome="refused", now=now, inbound_id=msg.id)
    outbox.notify(session, login.company_id, "receipt_rejected",
                  {"inbound_id": msg.id, "receipt_id": None, "filename": None, "reason": reason[:500],
                   "source": "imap"}, dedupe_key=f"inbox-refused-{msg.id}", now=now)
    return msg


def remember_uid(session: Session, account_id: int, folder: str, uidvalidity: int, uid: int, *, outcome: str,
                 now: datetime, inbound_id: int | None = None) -> None:
    session.add(ImapUid(account_id=account_id, folder=folder, uidvalidity=uidvalidity, uid=uid,
                        inbound_id=inbound_id, outcome=outcome, created_at=now))
    session.flush()


def record_poll(session: Session, account_id: int, *, error: str = "", now: datetime) -> None:
    session.execute(sa.update(ImapAccount).where(ImapAccount.id == account_id).values(
        last_polled_at=now, last_error=error[:500]))
