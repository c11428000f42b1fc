"""The alembic migrations build exactly the schema the models describe, on both databases."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel

from core import storage


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
