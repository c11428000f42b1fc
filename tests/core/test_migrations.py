"""The alembic migrations build exactly the schema the models describe, on both databases."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel

from core import storage
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
