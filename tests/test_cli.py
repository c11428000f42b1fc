"""The ``klerk`` command line, run as a user runs it (a real subprocess)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

KLERK = [sys.executable, "-m", "klerk"]


def klerk(*args: str, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*KLERK, *args], cwd=cwd or REPO, capture_output=True, text=True, timeout=180,
                          env={**os.environ, **(env or {})})


def write_spec(tmp_path: Path, name: str, change=None) -> Path:  # type: ignore[no-untyped-def]
    data = json.loads((REPO / "examples" / f"{name}.json").read_text())
    if change:
        change(data)
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(data))
    return path


@pytest.mark.pdf
def test_render_writes_pdf_ubl_png_and_prints_the_summary(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = klerk("document", "render", str(REPO / "examples/invoice-standard.json"), "--out", str(out))
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["number"] == "2026-0042"
    assert summary["vat_breakdown"] == [
        {"rate": "21.00", "category": "S", "base": "954.75", "vat": "200.50"},
        {"rate": "9.00", "category": "S", "base": "35.20", "vat": "3.17"},
    ]
    assert (summary["total_excl"], summary["total_vat"], summary["total_incl"]) == ("989.95", "203.67", "1193.62")
    assert summary["due_date"] == "2026-12-14"
    files = summary["files"]
    assert Path(files["pdf"]).read_bytes().startswith(b"%PDF-")
    assert Path(files["png"]).read_bytes().startswith(b"\x89PNG")
    assert b"<cbc:PayableAmount currencyID=\"EUR\">1193.62</cbc:PayableAmount>" in Path(files["xml"]).read_bytes()
    assert sorted(p.name for p in out.iterdir()) == ["2026-0042.pdf", "2026-0042.png", "2026-0042.xml"]


@pytest.mark.pdf
def test_render_a_quote_has_no_ubl(tmp_path: Path) -> None:
    result = klerk("document", "render", str(REPO / "examples/quote.json"), "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert "xml" not in summary["files"] and summary["valid_until"] == "2026-12-30"


def test_bad_spec_exits_2_naming_fields_and_writes_nothing(tmp_path: Path) -> None:
    def spoil(d: dict) -> None:
        d["lines"][0]["quantity"] = "12,5,0"
        d["issue_date"] = "2026-02-31"
        d["colour"] = "red"
    out = tmp_path / "out"
    result = klerk("document", "render", str(write_spec(tmp_path, "invoice-standard", spoil)), "--out", str(out))
    assert result.returncode == 2
    assert "lines[0].quantity" in result.stderr and "issue_date" in result.stderr and "colour: unknown field" in result.stderr
    assert not out.exists()


def test_not_json_and_missing_file_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{ not json")
    assert klerk("document", "check", str(bad)).returncode == 2
    assert klerk("document", "check", str(tmp_path / "missing.json")).returncode == 2


def test_check_lists_blocking_findings_in_dutch_and_exits_1(tmp_path: Path) -> None:
    def spoil(d: dict) -> None:
        d["seller"]["kvk"] = ""
        del d["buyer"]["vat_id"]
    result = klerk("document", "check", str(write_spec(tmp_path, "invoice-reverse-charge", spoil)), "--lang", "nl")
    assert result.returncode == 1
    assert "seller.kvk: Het KvK-nummer van de verkoper ontbreekt" in result.stderr
    assert "buyer.vat_id" in result.stderr


def test_check_passes_a_good_invoice_and_render_refuses_a_blocked_one(tmp_path: Path) -> None:
    ok = klerk("document", "check", str(REPO / "examples/invoice-kor.json"))
    assert ok.returncode == 0 and "Alles in orde" in ok.stdout

    def spoil(d: dict) -> None:
        d["lines"][0]["vat_rate"] = "21"
    out = tmp_path / "out"
    blocked = klerk("document", "render", str(write_spec(tmp_path, "invoice-kor", spoil)), "--out", str(out))
    assert blocked.returncode == 1 and not out.exists()


def test_db_upgrade_creates_the_sqlite_database(tmp_path: Path) -> None:
    result = klerk("db", "upgrade", env={"KLERK_DATA_DIR": str(tmp_path / "data"), "KLERK_DATABASE_URL": ""})
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "data" / "klerk.sqlite3").exists()
