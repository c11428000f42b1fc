"""The alembic migrations build exactly the schema the models describe, on both databases."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel

from core import storage
from core.companies import create_company
from core.company_settings import get_settings
from core.inbox.models import ShareMode
from core.inbox.preferences import replies_to_senders, sharing_mode
from tests.conftest import fresh_database


def test_migrations_match_the_models(engine) -> None:  # type: ignore[no-untyped-def]
    assert storage.current_revision(engine) is not None
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, SQLModel.metadata)
    assert diff == []


def test_upgrade_is_idempotent(engine) -> None:  # type: ignore[no-untyped-def]
    before = storage.current_revision(engine)
    storage.upgrade(engine)
    assert storage.current_revision(engine) == before



def test_services_starting_at_once_migrate_one_after_the_other(postgres_url) -> None:  # type: ignore[no-untyped-def]
    """compose starts the bot, smtp, worker and scheduler services together on one empty database:
    four processes (alembic's context is per process) upgrade it at the same moment."""
    import subprocess
    import sys
    import time

    script = ("import sys, time; from core import storage; e = storage.make_engine(sys.argv[1]); "
              "time.sleep(max(0.0, float(sys.argv[2]) - time.time())); storage.upgrade(e)")
    start_at = str(time.time() + 4)
    with fresh_database("klerk_fresh") as url:
        procs = [subprocess.Popen([sys.executable, "-c", script, url, start_at], stderr=subprocess.PIPE, text=True)
                 for _ in range(4)]
        results = [(p.wait(timeout=120), p.stderr.read() if p.stderr else "") for p in procs]
        assert [rc for rc, _ in results] == [0, 0, 0, 0], [err[-2000:] for _, err in results]
        engine, reference = storage.make_engine(url), storage.make_engine(postgres_url)
        assert storage.current_revision(engine) == storage.current_revision(reference)
        engine.dispose(), reference.dispose()


@contextmanager
def _empty_database(backend: str, tmp_path: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.sqlite3'}"
    else:
        with fresh_database("klerk_0008") as url:
            yield url


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_inbox_preferences_move_into_the_company_settings_and_back(backend: str, tmp_path: Path) -> None:
    """0008: the inbox_preference rows of an installation become company settings, none is lost;
    the way down puts them back."""
    with _empty_database(backend, tmp_path) as url:
        engine = storage.make_engine(url)
        try:
            storage.upgrade(engine, "0007")
            with storage.session_scope(engine) as s:
                ids = [create_company(s, name).id for name in ("Alles Delen", "Niets Delen", "Standaard", "Zonder")]
            with engine.begin() as conn:
                conn.execute(sa.text("INSERT INTO inbox_preference (company_id, share_mode, reply_to_sender) "
                                     "VALUES (:a, 'all', true), (:o, 'off', false), (:c, 'confirmed', true)"),
                             {"a": ids[0], "o": ids[1], "c": ids[2]})
            storage.upgrade(engine)
            with storage.session_scope(engine) as s:
                assert [sharing_mode(s, i) for i in ids] == [ShareMode.ALL, ShareMode.OFF, ShareMode.CONFIRMED,
                                                             ShareMode.CONFIRMED]
                assert [replies_to_senders(s, i) for i in ids] == [True, False, True, True]
                assert get_settings(s, ids[2]) == {} and get_settings(s, ids[3]) == {}
            assert "inbox_preference" not in sa.inspect(engine).get_table_names()
            command.downgrade(storage.alembic_config(engine), "0007")
            with engine.connect() as conn:
                back = conn.execute(sa.text("SELECT company_id, share_mode, reply_to_sender FROM inbox_preference "
                                            "ORDER BY company_id")).fetchall()
                left = conn.execute(sa.text("SELECT count(*) FROM company_setting")).scalar_one()
            assert [tuple(r) for r in back] == [(ids[0], "all", True), (ids[1], "off", False)] and left == 0
        finally:
            engine.dispose()
