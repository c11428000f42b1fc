"""What ``klerk serve`` does until the chat and ingest services exist: prepare the database and
render the bundled example documents, then say where they are.
"""
from __future__ import annotations

import json
from pathlib import Path

import typer

from core import settings, storage
from core.compliance import check_document, has_blocking
from core.document_files import build_files
from core.spec import parse_spec

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def run_showcase() -> None:
    cfg = settings.load()
    cfg.data_dir.mkdir(parents=True, exist_ok=True)
    engine = storage.make_engine(cfg.effective_database_url)
    storage.upgrade(engine)
    out = cfg.data_dir / "examples"
    out.mkdir(parents=True, exist_ok=True)
    typer.echo(f"Klerk: database ready ({_redact(cfg.effective_database_url)}, revision "
               f"{storage.current_revision(engine)})")
    for spec_path in sorted(EXAMPLES.glob("*.json")):
        doc = parse_spec(json.loads(spec_path.read_text()), base_dir=spec_path.parent)
        if has_blocking(check_document(doc)):
            typer.echo(f"  {spec_path.name}: skipped (does not pass the check)")
            continue
        files = build_files(doc)
        written = [out / f"{files.name}.pdf", out / f"{files.name}.png"]
        written[0].write_bytes(files.pdf)
        written[1].write_bytes(files.png)
        if files.xml:
            written.append(out / f"{files.name}.xml")
            written[2].write_bytes(files.xml)
        typer.echo(f"  {spec_path.stem:<24} € {files.totals.total_incl:>10}  -> "
                   + ", ".join(str(p) for p in written))
    typer.echo(f"\nThe example quote, invoices and credit note are in {out.resolve()}")


def _redact(url: str) -> str:
    if "@" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url
