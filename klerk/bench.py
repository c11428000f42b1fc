"""``klerk bench ...``: measurements written to BENCHMARKS.md with the command that made them.

Timings on these shared 2-core machines are noisy: each measurement interleaves the candidate and
its baseline run by run (side by side, same process, same warm caches) and reports medians.
"""
from __future__ import annotations

import json
import platform
import re
import statistics
import time
from datetime import datetime, timezone
from pathlib import Path

import typer

REPO = Path(__file__).resolve().parents[1]


def _update_section(path: Path, name: str, body: str) -> None:
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    text = path.read_text() if path.exists() else "# Benchmarks\n\nFigures measured on this project's machines; each section names the command that produced it.\n"
    block = f"{start}\n{body.rstrip()}\n{end}"
    if start in text:
        text = re.sub(re.escape(start) + r".*?" + re.escape(end), lambda _: block, text, flags=re.S)
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    path.write_text(text)


def _machine() -> str:
    import os
    return f"{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} cores, {platform.machine()}"


def bench_documents(*, runs: int, write: Path | None) -> None:
    import weasyprint

    from core.document_files import build_files
    from core.rendering import TEMPLATES_DIR, render_html
    from core.spec import parse_spec
    from core.vat import compute_totals

    doc = parse_spec(json.loads((REPO / "examples/invoice-standard.json").read_text()))
    totals = compute_totals(doc)
    html = render_html(doc, totals)
    base_url = str(TEMPLATES_DIR) + "/"

    def bare() -> None:
        weasyprint.HTML(string=html, base_url=base_url).write_pdf()

    def klerk() -> None:
        build_files(doc)

    for _ in range(3):      # warm both: imports, fonts, template cache
        bare()
        klerk()
    t_bare, t_klerk = [], []
    for _ in range(runs):
        for fn, sink in ((bare, t_bare), (klerk, t_klerk)):
            t0 = time.perf_counter()
            fn()
            sink.append(time.perf_counter() - t0)
    ratios = [k / b for k, b in zip(t_klerk, t_bare)]
    m_bare, m_klerk = statistics.median(t_bare), statistics.median(t_klerk)
    t0 = time.perf_counter()
    warm = max(10, runs // 2)
    for _ in range(warm):
        klerk()
    per_second = warm / (time.perf_counter() - t0)
    body = f"""## Documents: PDF + UBL + preview per invoice

Command: `klerk bench documents --runs {runs}` — {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {_machine()}.
Input: `examples/invoice-standard.json` (3 lines, 9 % + 21 %, document discount). Each run renders the
same HTML with bare WeasyPrint (baseline) and then with Klerk's full pipeline (PDF + Peppol UBL +
PNG preview of page 1), interleaved, {runs} runs after 3 warm-ups.

| measure | value |
|---|---|
| bare WeasyPrint `HTML(string).write_pdf()`, median | {m_bare * 1000:.1f} ms |
| Klerk PDF + UBL + preview, median | {m_klerk * 1000:.1f} ms |
| ratio, median of per-run ratios (goal ≤ 1.5×) | **{statistics.median(ratios):.2f}×** |
| ratio of the medians | {m_klerk / m_bare:.2f}× |
| documents per second, warm, one process | {per_second:.1f} |
"""
    typer.echo(body)
    if write is not None:
        _update_section(write, "documents", body)
        typer.echo(f"written to {write}")
