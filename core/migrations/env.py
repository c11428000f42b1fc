"""Alembic environment: the engine is handed in by ``core.storage.upgrade`` (no URL in an ini)."""
from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

from core.schema import load_all_models

load_all_models()   # registers every table on SQLModel.metadata

config = context.config
engine = config.attributes["engine"]
target_metadata = SQLModel.metadata

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            # several services starting at once (compose, scale-out) migrate one after the other: the
            # next one waits here, then finds the schema current and has nothing to do
            connection.exec_driver_sql("SELECT pg_advisory_xact_lock(4242001)")
        context.run_migrations()
    connection.commit()
