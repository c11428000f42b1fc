"""Engine, sessions and migrations.

SQLite (the embedded default) runs in WAL mode with a busy timeout, and every transaction is
``BEGIN IMMEDIATE``: writers queue up instead of failing halfway, which is what makes the
numbering gap-free there too. ``read_scope`` is the exception: a plain (deferred) BEGIN for units of
work that only read, such as the bot loading a chat's state on every update. PostgreSQL uses row
locks (``SELECT ... FOR UPDATE``).
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
READ_ONLY_OPTION = "klerk_read_only"     # execution option: a read_scope's deferred BEGIN on SQLite


def make_engine(url: str, *, echo: bool = False) -> Engine:
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, echo=echo, connect_args={"timeout": 60, "check_same_thread": False})
        _configure_sqlite(engine, in_memory=url in ("sqlite://", "sqlite:///:memory:"))
        return engine
    # Reconnecting: pool_pre_ping tests a pooled connection before handing it out (after a server
    # restart every pooled connection is dead; the first failed ping drops them all). A server that
    # is away fails a unit of work at once (the SMTP then answers 451, the worker waits and retries)
    # instead of hanging: connect_timeout bounds a connect, TCP keepalives notice a vanished server.
    connect_args = {"connect_timeout": 10, "keepalives": 1, "keepalives_idle": 30, "keepalives_interval": 10,
                    "keepalives_count": 3} if url.startswith("postgresql") else {}
    return sa.create_engine(url, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=60,
                            connect_args=connect_args)


def _configure_sqlite(engine: Engine, *, in_memory: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        dbapi_connection.isolation_level = None        # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        if not in_memory:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=60000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):  # type: ignore[no-untyped-def]
        read_only = connection.get_execution_options().get(READ_ONLY_OPTION, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


@contextmanager
def read_scope(engine: Engine) -> Iterator[Session]:
    """A unit of work that only reads, rolled back at the end. On SQLite it begins DEFERRED instead of
    IMMEDIATE: in WAL mode readers then neither wait for a writer nor hold up one. A write inside it
    is not kept (and on SQLite may fail with "database is locked"): use ``session_scope`` to write."""
    with Session(engine.execution_options(**{READ_ONLY_OPTION: True}), expire_on_commit=False) as session:
        try:
            yield session
        finally:
            session.rollback()


def get_scoped(session: Session, model: type, company_id: int, row_id: int, what: str):  # type: ignore[no-untyped-def]
    """The row of ``model`` with ``row_id`` if it belongs to ``company_id``; else ``NotFoundError``
    (which never says whether the row exists in another company)."""
    from core.errors import NotFoundError

    row = session.get(model, row_id)
    if row is None or row.company_id != company_id:
        raise NotFoundError(f"{what} {row_id}")
    return row


def save_fields(session: Session, row, cleaned: dict) -> None:  # type: ignore[no-untyped-def]
    """Set already-validated fields on a row and flush."""
    for name, value in cleaned.items():
        setattr(row, name, value)
    session.add(row)
    session.flush()


def alembic_config(engine: Engine):  # type: ignore[no-untyped-def]
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "heads") -> None:
    """Bring the schema to ``revision`` (alembic); "heads" = every branch's newest migration."""
    from alembic import command

    command.upgrade(alembic_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        heads = MigrationContext.configure(conn).get_current_heads()
    return ",".join(sorted(heads)) or None
