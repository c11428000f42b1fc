"""Shared fixtures: a real database per test (SQLite file, and PostgreSQL when `./dev test` started
one), a fixed clock, and factories for companies and contacts.
"""
from __future__ import annotations

import os
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import SQLModel

from core import storage
from core.companies import create_company
from core.contacts import create_contact
from core.schema import load_all_models

load_all_models()

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("KLERK_SHARED_DIR", REPO.parent / "shared"))
TODAY = date(2026, 11, 30)
NOW = datetime(2026, 11, 30, 10, 0, tzinfo=timezone.utc)

SELLER = dict(trade_name="Studio Vos Ontwerp", street="Keizersgracht 123", postcode="1015 CJ",
              city="Amsterdam", kvk="12345678", vat_id="NL000099998B57", iban="NL91ABNA0417164300",
              email="facturen@studiovos.nl")
BUYER = dict(street="Dorpsstraat 1", postcode="3512 AB", city="Utrecht", vat_id="NL853746333B01",
             kvk="87654321", email="administratie@bakkerijdevries.nl")

BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "klerk.sqlite3"
    engine = storage.make_engine(f"sqlite:///{path}")
    storage.upgrade(engine)
    engine.dispose()
    return path


def postgres_base() -> str:
    """The URL of the cluster ``./dev test`` started; skips (fails under CI) without one."""
    base = os.environ.get("KLERK_TEST_POSTGRES_URL")
    if not base:
        if os.environ.get("CI"):
            pytest.fail("KLERK_TEST_POSTGRES_URL is not set: run the tests with ./dev test")
        pytest.skip("no PostgreSQL: run ./dev test to include it")
    return base


@contextmanager
def fresh_database(prefix: str = "klerk", *, keep: bool = False) -> Iterator[str]:
    """An empty database on the test cluster (dropped afterwards unless ``keep``); yields its URL."""
    base = postgres_base()
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield base.rsplit("/", 1)[0] + "/" + name
    finally:
        if not keep:
            _drop(admin, name)
        admin.dispose()


def _drop(admin: sa.Engine, name: str) -> None:
    """Drop a test database. FORCE cannot end an autovacuum worker that just started on it (not our
    role): try again shortly; a database left in the throw-away test cluster harms nothing."""
    for _ in range(10):
        try:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            return
        except sa.exc.DBAPIError:
            time.sleep(0.5)


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """A fresh database for this test session, migrated to head."""
    with fresh_database(keep=True) as url:
        pass
    engine = storage.make_engine(url)
    storage.upgrade(engine)
    engine.dispose()
    return url


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path: Path):  # type: ignore[no-untyped-def]
    if request.param == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        path = tmp_path / "klerk.sqlite3"
        shutil.copyfile(template, path)
        eng = storage.make_engine(f"sqlite:///{path}")
        yield eng
        eng.dispose()
        return
    url = request.getfixturevalue("postgres_url")
    eng = storage.make_engine(url)
    yield eng
    tables = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
    with eng.begin() as conn:
        conn.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    eng.dispose()


@pytest.fixture
def session(engine):  # type: ignore[no-untyped-def]
    with storage.session_scope(engine) as s:
        yield s


@pytest.fixture
def make_company(session):  # type: ignore[no-untyped-def]
    def make(name: str = "Studio Vos", **overrides):  # type: ignore[no-untyped-def]
        return create_company(session, name, **{**SELLER, **overrides})
    return make


@pytest.fixture
def make_contact(session):  # type: ignore[no-untyped-def]
    def make(company, name: str = "Bakkerij de Vries B.V.", **overrides):  # type: ignore[no-untyped-def]
        return create_contact(session, company.id, name, **{**BUYER, **overrides})
    return make
