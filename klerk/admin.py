"""``klerk admin``: for whoever hosts Klerk (a bookkeeping office hosting its clients, or the
freelancer herself). The same database and the same rules as the bot: every command goes through
core's services. Output is for operators (English); ``--json`` gives stable keys, amounts as strings
with two decimals and ISO dates. Errors: one clear line on stderr and exit 1, no traceback.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional, TypeVar

import typer

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine
    from sqlmodel import Session

    from core.settings import Settings

admin_app = typer.Typer(help="For whoever hosts Klerk: companies, invitations, documents, backups, the store.",
                        no_args_is_help=True)

EXIT_FAILED = 1
T = TypeVar("T")


class AdminError(Exception):
    """A command that cannot be done; the message is for the operator."""


def _now() -> datetime:
    return datetime.now(timezone.utc)


@contextmanager
def _errors() -> Iterator[None]:
    """Every expected failure becomes one line on stderr and exit 1."""
    from pydantic import ValidationError as SettingsError
    from sqlalchemy.exc import SQLAlchemyError

    from core.errors import CoreError, NotFoundError, ValidationError
    from klerk.backup import BackupError

    try:
        yield
    except ValidationError as exc:
        _fail(f"{exc.field}: {exc.translated('en')}")
    except NotFoundError as exc:
        _fail(f"not found: {exc}")
    except CoreError as exc:
        _fail(str(exc))
    except (AdminError, BackupError) as exc:
        _fail(str(exc))
    except SettingsError as exc:
        _fail(f"the settings are not valid: {exc}")
    except SQLAlchemyError as exc:
        _fail(f"database error: {getattr(exc, 'orig', None) or exc}".splitlines()[0])
    except OSError as exc:
        _fail(f"{exc.filename or ''}: {exc.strerror or exc}".lstrip(": "))
    except Exception as exc:
        if not type(exc).__module__.startswith("botocore"):
            raise
        _fail(f"S3 storage: {exc}")                   # KLERK_STORAGE_URL=s3://...: bucket, keys, endpoint


def _fail(text: str) -> None:
    typer.echo(f"error: {text}", err=True)
    raise typer.Exit(EXIT_FAILED)


@contextmanager
def _open() -> Iterator[tuple[Settings, Engine]]:
    """The settings and the database, migrated first (a fresh data dir works); closed afterwards."""
    from core import settings as settings_module
    from klerk.runtime import make_engine

    settings = settings_module.load()
    engine = make_engine(settings)
    try:
        yield settings, engine
    finally:
        engine.dispose()


def _unit(engine: Engine, fn: Callable[[Session], T]) -> T:
    from core import storage

    with storage.session_scope(engine) as session:
        return fn(session)


def _echo_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))


def _money(value: Any) -> str | None:
    if value in (None, ""):
        return None
    try:
        return f"{Decimal(str(value)):.2f}"
    except InvalidOperation:
        return str(value)


# ---- companies --------------------------------------------------------------------------------

def _company_rows(session: Session, *, domain: str, now: datetime) -> list[dict[str, Any]]:
    from core.companies import company_members, list_companies
    from core.inbox.addresses import address_of, ingest_address

    rows = []
    for company in list_companies(session):
        assert company.id is not None
        rows.append({
            "id": company.id, "name": company.name, "trade_name": company.trade_name or None,
            "kvk": company.kvk or None,
            "ingest_address": address_of(ingest_address(session, company.id, now=now), domain),
            "members": [{"person_id": person.id, "name": person.name, "telegram_user_id": person.telegram_user_id,
                         "role": role.value} for person, role in company_members(session, company.id)],
        })
    return rows


@admin_app.command("companies")
def companies(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Every company: id, names, KvK, members with their role, and its ingest address."""
    with _errors(), _open() as (settings, engine):
        rows = _unit(engine, lambda s: _company_rows(s, domain=settings.ingest_domain, now=_now()))
    if as_json:
        _echo_json(rows)
        return
    if not rows:
        typer.echo("no companies yet: `klerk admin company-add NAME` makes one")
    for row in rows:
        names = row["name"] + (f" ({row['trade_name']})" if row["trade_name"] else "")
        typer.echo(f"#{row['id']} {names} · KvK {row['kvk'] or '—'} · {row['ingest_address']}")
        for m in row["members"]:
            telegram = f"telegram {m['telegram_user_id']}" if m["telegram_user_id"] else "no telegram"
            typer.echo(f"    {m['name'] or '(no name)'} ({telegram}): {m['role']}")
        if not row["members"]:
            typer.echo("    nobody yet (waiting for its owner to open the invitation)")


def _bot_username(settings: Settings, given: str | None) -> str | None:
    """The bot's @name for the deep link: given, else asked from Telegram (getMe); None without a token."""
    if given:
        return given.strip().lstrip("@")
    token = settings.telegram_bot_token.get_secret_value()
    if not token:
        return None
    import httpx

    try:
        response = httpx.get(f"{settings.telegram_api_base_url.rstrip('/')}/bot{token}/getMe", timeout=15)
        username = response.json()["result"]["username"] if response.status_code == 200 else None
    except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
        raise AdminError(f"cannot ask Telegram for the bot's name ({type(exc).__name__}): "
                         "pass --bot-username") from None
    if not username:
        raise AdminError(f"Telegram did not tell the bot's name (HTTP {response.status_code}): "
                         "check TELEGRAM_BOT_TOKEN or pass --bot-username")
    return str(username)


def _add_company(session: Session, name: str, *, settings: Settings, now: datetime,
                 ttl: timedelta) -> dict[str, Any]:
    from core.companies import create_company
    from core.inbox.addresses import address_of, ingest_address
    from core.invites import invite_first_owner

    company = create_company(session, name, language=settings.language)
    assert company.id is not None
    address = address_of(ingest_address(session, company.id, now=now), settings.ingest_domain)
    token = invite_first_owner(session, company.id, now=now, ttl=ttl)
    return {"id": company.id, "name": company.name, "ingest_address": address, "token": token,
            "expires_at": (now + ttl).isoformat()}


@admin_app.command("company-add")
def company_add(
    name: str,
    bot_username: Annotated[Optional[str], typer.Option(help="The bot's @name for the link (default: asked "
                                                             "from Telegram with TELEGRAM_BOT_TOKEN)")] = None,
    days: Annotated[int, typer.Option(min=1, max=90, help="Days the invitation stays valid")] = 7,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Create a company ready for onboarding, with its ingest address and an owner invitation.

    The invitation is single use: a Telegram deep link; whoever opens it becomes the owner and
    continues the set-up in the chat (the name is already filled in)."""
    with _errors(), _open() as (settings, engine):
        username = _bot_username(settings, bot_username)
        made = _unit(engine, lambda s: _add_company(s, name, settings=settings, now=_now(),
                                                    ttl=timedelta(days=days)))
    link = f"https://t.me/{username}?start={made['token']}" if username else None
    if as_json:
        _echo_json({"company_id": made["id"], "name": made["name"], "ingest_address": made["ingest_address"],
                    "invite": {"token": made["token"], "link": link, "role": "owner",
                               "expires_at": made["expires_at"]}})
        return
    typer.echo(f"company #{made['id']} {made['name']} created")
    typer.echo(f"ingest address: {made['ingest_address']}")
    if link:
        typer.echo(f"invitation for the owner (single use, until {made['expires_at'][:10]}): {link}")
    else:
        typer.echo(f"invitation token for the owner (single use, until {made['expires_at'][:10]}): {made['token']}")
        typer.echo(f"  no Telegram token is set: in `klerk chat`, type /start {made['token']} — or pass "
                   "--bot-username to get the https://t.me/... link")


# ---- documents --------------------------------------------------------------------------------

def _document_rows(session: Session, company_id: int | None) -> list[dict[str, Any]]:
    from core.companies import get_company, list_companies
    from core.inbox.facts import receipt_facts
    from core.inbox.models import ReceiptStatus
    from core.inbox.receipts import list_receipts

    companies = [get_company(session, company_id)] if company_id is not None else list_companies(session)
    statuses = [s.value for s in ReceiptStatus]
    rows: list[dict[str, Any]] = []
    for company in companies:
        assert company.id is not None
        offset = 0
        while True:
            page = list_receipts(session, company.id, statuses=statuses, limit=500, offset=offset)
            for doc in page:
                facts = receipt_facts(doc)
                rows.append({
                    "id": doc.id, "company_id": company.id, "status": doc.status, "vendor": facts["vendor"],
                    "date": facts["date"], "invoice_number": facts["invoice_number"],
                    "total": _money(facts["total"]), "net": _money(facts["net"]), "currency": facts["currency"],
                    "vat": [{"rate": str(v.get("rate", "")), "amount": _money(v.get("amount")),
                             "base": _money(v.get("base"))} for v in facts["vat"]],
                    "filename": facts["filename"], "source": facts["source"],
                    "received_at": doc.created_at.isoformat() if doc.created_at else None,
                    "duplicate_of": doc.duplicate_of, "reason": doc.reason or None,
                })
            if len(page) < 500:
                break
            offset += 500
    return rows


@admin_app.command("documents")
def documents(
    company: Annotated[Optional[int], typer.Option(help="Only this company (its id)")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Ingested receipts and purchase invoices with their status and extracted fields."""
    with _errors(), _open() as (_settings, engine):
        rows = _unit(engine, lambda s: _document_rows(s, company))
    if as_json:
        _echo_json(rows)
        return
    if not rows:
        typer.echo("no documents")
    for r in rows:
        vat = ", ".join(f"{v['rate']}%: {v['amount']}" for v in r["vat"]) or "no VAT"
        total = f"{r['currency']} {r['total']}" if r["total"] else "total ?"
        number = f" · nr {r['invoice_number']}" if r["invoice_number"] else ""
        typer.echo(f"#{r['id']} company {r['company_id']} · {r['status']} · {r['date'] or 'date ?'} · "
                   f"{r['vendor'] or 'vendor ?'} · {total} ({vat}){number}")


# ---- backup and restore -----------------------------------------------------------------------

@admin_app.command("backup")
def backup(out: Annotated[Path, typer.Argument(help="The archive to write, e.g. klerk-2026-12-01.tar.gz")]) -> None:
    """A consistent backup of the database, the originals and the key file (safe while serving).

    The originals are included when they are in a local or shared directory (on S3: back up the bucket
    with its own tools); the key file when the secret key comes from KLERK_DATA_DIR."""
    from core.inbox.store import store_from_settings
    from klerk.backup import create_backup

    with _errors(), _open() as (settings, engine):
        outcome = create_backup(settings, engine, store_from_settings(settings), out, now=_now())
    for line in outcome.lines:
        typer.echo(line)


@admin_app.command("restore")
def restore(
    src: Annotated[Path, typer.Argument(help="An archive made by `klerk admin backup`")],
    force: Annotated[bool, typer.Option("--force", help="Replace a database that is not empty")] = False,
) -> None:
    """Restore a backup into this installation (stop `klerk serve` first).

    Refuses a database that is not empty, or a different key file, unless --force."""
    from core.inbox.store import store_from_settings
    from klerk.backup import restore_backup

    if not src.is_file():
        _fail(f"{src}: no such file")
    with _errors(), _open() as (settings, engine):
        outcome = restore_backup(settings, engine, store_from_settings(settings), src, force=force)
    for line in outcome.lines:
        typer.echo(line)


# ---- the store --------------------------------------------------------------------------------

@admin_app.command("check-store")
def check_store(
    quick: Annotated[bool, typer.Option("--quick", help="Compare sizes only, without reading the files")] = False,
    move_unreferenced: Annotated[bool, typer.Option(
        "--move-unreferenced", help="Move raw mails no row points at (older than a day) to unreferenced/")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Check that every stored mail and original is there with its bytes (sha256), and list files no
    row points at (left by a crash before their row was committed; never deleted).

    Exit 1 when a file is missing or damaged: restore it from a backup. Safe while serving."""
    from core.inbox.store import store_from_settings
    from core.inbox.store_check import check_store as run_check

    with _errors(), _open() as (settings, engine):
        store = store_from_settings(settings)
        report = _unit(engine, lambda s: run_check(s, store, now=_now(), quick=quick,
                                                   move_unreferenced=move_unreferenced))
    if as_json:
        _echo_json({"location": report.location, "checked": report.checked, "missing": report.missing,
                    "damaged": report.damaged, "unreferenced": report.unreferenced, "moved": report.moved,
                    "ok": report.ok})
    else:
        typer.echo(f"store: {report.location}")
        typer.echo(f"checked: {report.checked} files the database points at ({'sizes' if quick else 'sha256'})")
        for title, names in (("MISSING", report.missing), ("DAMAGED", report.damaged),
                             ("unreferenced", report.unreferenced), ("moved to", report.moved)):
            for name in names:
                typer.echo(f"{title}: {name}")
        typer.echo("ok" if report.ok else f"{len(report.missing)} missing, {len(report.damaged)} damaged: "
                   "restore those files from a backup")
    if not report.ok:
        raise typer.Exit(EXIT_FAILED)
