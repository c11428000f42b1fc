"""The layers of STYLE.md §1, enforced: import-linter's contracts in pyproject.toml must hold."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_import_contracts_hold() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint), "--no-cache"], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_core_reads_no_environment_outside_settings() -> None:
    offenders = [str(p.relative_to(REPO)) for p in (REPO / "core").rglob("*.py")
                 if p.name != "settings.py" and ("os.environ" in p.read_text() or "getenv(" in p.read_text())]
    assert offenders == []


def test_core_has_no_asyncio() -> None:
    offenders = [str(p.relative_to(REPO)) for p in (REPO / "core").rglob("*.py")
                 if "import asyncio" in p.read_text() or "async def" in p.read_text()]
    assert offenders == []
