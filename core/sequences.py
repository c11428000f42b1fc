"""Gap-free document numbers under concurrency.

``next_seq`` must run inside the transaction that finalises the document: it locks the counter
row (``SELECT ... FOR UPDATE`` on PostgreSQL; on SQLite every transaction is ``BEGIN IMMEDIATE``,
see ``core.storage``), increments it and returns the new value. If the transaction rolls back the
number is not used, so no gap appears; the unique constraint on (company, kind, number) is the
last line of defence against a duplicate.
"""
from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, select

from core.models import NumberCounter


def next_seq(session: Session, company_id: int, series: str, year: int) -> int:
    dialect = session.get_bind().dialect.name
    values = {"company_id": company_id, "series": series, "year": year, "last_seq": 0}
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(insert(NumberCounter).values(**values).on_conflict_do_nothing())
    counter = session.exec(
        select(NumberCounter)
        .where(NumberCounter.company_id == company_id, NumberCounter.series == series,
               NumberCounter.year == year)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    counter.last_seq += 1
    session.add(counter)
    session.flush()
    return counter.last_seq
