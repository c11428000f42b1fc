"""The load benchmarks run, in a tiny form: ``klerk bench scale`` on the test PostgreSQL (its own
fresh database), the private cluster it starts by itself, ``klerk bench workers`` with real worker
processes, and ``klerk bench smtp`` (against Postfix only where Postfix is installed)."""
from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from core import storage
from core.overview import invoice_overview, quote_overview
from klerk.bench_postfix import postfix_installed
from tests.conftest import SHARED, fresh_database


@pytest.fixture
def empty_postgres() -> Iterator[str]:
    with fresh_database("klerk_bench") as url:
        yield url


def test_scale_bench_loads_times_and_sends_without_gaps(empty_postgres: str, tmp_path: Path) -> None:
    from klerk.bench_scale import bench_scale

    out = tmp_path / "BENCHMARKS.md"
    report = bench_scale(companies=20, invoices=10, quotes=6, calls=20, senders=8, database_url=empty_postgres,
                         write=out, progress=lambda _: None)
    assert (report.companies, report.documents) == (20, 20 * (10 + 6))
    assert set(report.overviews) == {"invoice_overview (/facturen)", "quote_overview (/offertes)"}
    for figures in report.overviews.values():
        assert 0 < figures["p50"] <= figures["p95"] <= figures["p99"] <= figures["max"]
        assert figures["documents"] > 0
    sends = report.sends
    assert sends["gap_free"] and sends["distinct"] and sends["mails"] == 8
    first = sends["first"]
    assert [int(n.rsplit("-", 1)[1]) for n in sends["numbers"]] == list(range(first, first + 8))
    text = out.read_text()
    assert "<!-- bench:scale -->" in text and "klerk bench scale --companies 20 --invoices 10" in text

    engine = storage.make_engine(empty_postgres)      # every copy shows what the company core made shows
    try:
        with storage.session_scope(engine) as s:
            today = date.today()
            template = invoice_overview(s, 1, today=today)
            copy = invoice_overview(s, 20, today=today)
            assert [(x.key, x.count, x.total) for x in template.sections if x.key != "open"] == \
                [(x.key, x.count, x.total) for x in copy.sections if x.key != "open"]
            assert template.section("draft").count == 1      # the 8 made for the sends are sent
            assert template.section("open").count == copy.section("open").count + 8
            assert sum(x.count for x in quote_overview(s, 20, today=today).sections) == 6
            assert copy.section("paid").count > 0 and copy.section("overdue").count > 0
    finally:
        engine.dispose()


def test_scale_bench_refuses_a_database_with_companies(empty_postgres: str) -> None:
    from core.companies import create_company
    from klerk.bench_scale import run_scale

    engine = storage.make_engine(empty_postgres)
    storage.upgrade(engine)
    with storage.session_scope(engine) as s:
        create_company(s, "Echt B.V.")
    engine.dispose()
    with pytest.raises(RuntimeError, match="already holds companies"):
        run_scale(empty_postgres, companies=2, invoices=4, quotes=2, calls=2, senders=1, progress=lambda _: None)


@pytest.mark.slow
def test_private_postgres_cluster_starts_and_goes_away() -> None:
    from klerk.bench_postgres import private_postgres

    try:
        from klerk.bench_postgres import postgres_bin

        postgres_bin()
    except RuntimeError:
        pytest.skip("PostgreSQL is not installed")
    with private_postgres() as url:
        engine = sa.create_engine(url)
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SHOW fsync").scalar_one() == "on"
            assert conn.exec_driver_sql("SHOW synchronous_commit").scalar_one() == "on"
        engine.dispose()
    engine = sa.create_engine(url, connect_args={"connect_timeout": 2})
    with pytest.raises(sa.exc.OperationalError):
        engine.connect()
    engine.dispose()


@pytest.mark.slow
def test_workers_bench_drains_the_queue_with_real_worker_processes(empty_postgres: str) -> None:
    from klerk.bench_workers import bench_workers

    dataset = SHARED / "datasets" / "receipts-dev"
    if not dataset.is_dir():
        pytest.skip(f"no dataset at {dataset}")
    rates = bench_workers(companies=2, pdfs=3, photos=0, processes=(1, 2), runs=1, dataset=dataset,
                          database_url=empty_postgres, write=None, say=lambda _: None)
    assert set(rates) == {1, 2} and all(r > 0 for r in rates.values())
    engine = sa.create_engine(empty_postgres)
    with engine.connect() as conn:
        statuses = dict(conn.exec_driver_sql("SELECT status, count(*) FROM inbox_message GROUP BY status").all())
        open_jobs = conn.exec_driver_sql("SELECT count(*) FROM job WHERE status IN ('queued', 'running')").scalar_one()
    engine.dispose()
    assert statuses == {"processed": 2 * (2 * 3) + 1 + 2}   # two rounds of 2 × 3 PDFs, and a warm-up per worker
    assert open_jobs == 0


def test_smtp_bench_without_postfix_uses_the_python_client(tmp_path: Path) -> None:
    from klerk.bench_smtp import bench_smtp

    out = tmp_path / "BENCHMARKS.md"
    result = bench_smtp(messages=20, runs=1, connections=2, size=2000, postfix=False, write=out, say=lambda _: None)
    assert result["stored"] == 30 and result["klerk_median"] > 0 and result["bare_median"] > 0
    assert "postfix_median" not in result
    assert "--no-postfix" in out.read_text()


@pytest.mark.skipif(not postfix_installed() or shutil.which("smtp-source") is None, reason="Postfix is not installed")
def test_smtp_bench_against_a_private_postfix(tmp_path: Path) -> None:
    from klerk.bench_smtp import bench_smtp

    result = bench_smtp(messages=20, runs=2, connections=2, size=2000, postfix=True, install_postfix=False,
                        write=tmp_path / "B.md", say=lambda _: None)
    assert result["stored"] == 2 * 20 + 10
    assert result["postfix_median"] > 0 and result["ratio_postfix"] == pytest.approx(
        result["klerk_median"] / result["postfix_median"])
    assert "Postfix 3." in (tmp_path / "B.md").read_text()
