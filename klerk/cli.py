"""The ``klerk`` command line: the composition root that wires settings, core and the edges."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from klerk.admin import admin_app

app = typer.Typer(help="Klerk — administratie voor zzp'ers via chat en e-mail.", no_args_is_help=True,
                  add_completion=False)
document_app = typer.Typer(help="Render and check documents described by a JSON spec.", no_args_is_help=True)
db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)
bench_app = typer.Typer(help="Benchmarks; results go to BENCHMARKS.md.", no_args_is_help=True)
app.add_typer(document_app, name="document")
app.add_typer(db_app, name="db")
app.add_typer(admin_app, name="admin")
app.add_typer(bench_app, name="bench")

EXIT_BLOCKED = 1
EXIT_BAD_INPUT = 2


def _err(text: str) -> None:
    typer.echo(text, err=True)


def _load_spec(path: Path):  # type: ignore[no-untyped-def]
    from core.spec import SpecError, parse_spec

    try:
        raw = path.read_bytes()
    except OSError as exc:
        _err(f"{path}: cannot read: {exc.strerror}")
        raise typer.Exit(EXIT_BAD_INPUT) from None
    if len(raw) > 5 * 1024 * 1024:
        _err(f"{path}: larger than 5 MB")
        raise typer.Exit(EXIT_BAD_INPUT)
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        _err(f"{path}: not valid JSON: {exc}")
        raise typer.Exit(EXIT_BAD_INPUT) from None
    try:
        return parse_spec(data, base_dir=path.parent)
    except SpecError as exc:
        for field, message in exc.problems:
            _err(f"{path}: {field}: {message}")
        raise typer.Exit(EXIT_BAD_INPUT) from None


def _print_findings(findings, language: str) -> None:  # type: ignore[no-untyped-def]
    for f in findings:
        mark = "✗" if f.blocking else "!"
        _err(f"{mark} {f.field}: {f.text(language)}")


@document_app.command("check")
def document_check(spec: Path, language: Annotated[Optional[str], typer.Option("--lang", help="nl or en")] = None,
                   as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """The factuur-APK: list what is missing or inconsistent; exit 1 if anything blocks sending."""
    from core.compliance import check_document, has_blocking

    doc = _load_spec(spec)
    lang = language or doc.language
    findings = check_document(doc)
    if as_json:
        typer.echo(json.dumps([{"code": f.code, "field": f.field, "blocking": f.blocking,
                                "message": f.text(lang)} for f in findings], ensure_ascii=False, indent=2))
    else:
        _print_findings(findings, lang)
        if not findings:
            typer.echo("✓ " + ("Alles in orde: deze factuur kan verstuurd worden." if lang == "nl"
                               else "All good: this document can be sent."))
    raise typer.Exit(EXIT_BLOCKED if has_blocking(findings) else 0)


@document_app.command("render")
def document_render(
    spec: Path,
    out: Annotated[Path, typer.Option("--out", help="Directory for <number>.pdf/.xml/.png")] = Path("out"),
    profile: Annotated[str, typer.Option(help="UBL flavour: peppol or nlcius")] = "peppol",
    facturx: Annotated[bool, typer.Option("--facturx", help="Make the PDF a Factur-X (PDF/A-3 + CII)")] = False,
    terms: Annotated[Optional[Path], typer.Option(help="Terms and conditions PDF to append")] = None,
) -> None:
    """Render a document spec to PDF, UBL and a PNG preview; print a JSON summary."""
    from core.compliance import check_document, has_blocking
    from core.document_files import build_files, summary
    from core.errors import ValidationError

    if profile not in ("peppol", "nlcius"):
        _err("--profile must be peppol or nlcius")
        raise typer.Exit(EXIT_BAD_INPUT)
    doc = _load_spec(spec)
    findings = check_document(doc)
    if has_blocking(findings):
        _print_findings([f for f in findings if f.blocking], doc.language)
        raise typer.Exit(EXIT_BLOCKED)
    terms_pdf = None
    if terms is not None:
        try:
            terms_pdf = terms.read_bytes()
        except OSError as exc:
            _err(f"{terms}: cannot read: {exc.strerror}")
            raise typer.Exit(EXIT_BAD_INPUT) from None
    try:
        files = build_files(doc, terms_pdf=terms_pdf, ubl_profile=profile, facturx=facturx)
    except ValidationError as exc:       # e.g. SI-UBL without the Dutch customer's KvK number
        _err(f"✗ {exc.field}: {exc.translated(doc.language)}")
        raise typer.Exit(EXIT_BLOCKED) from None
    out.mkdir(parents=True, exist_ok=True)
    written = {"pdf": out / f"{files.name}.pdf", "png": out / f"{files.name}.png"}
    if files.xml is not None:
        written["xml"] = out / f"{files.name}.xml"
    for kind, path in written.items():
        _write_atomically(path, {"pdf": files.pdf, "png": files.png, "xml": files.xml}[kind])
    result = summary(doc, files.totals) | {"files": {k: str(p) for k, p in written.items()}}
    typer.echo(json.dumps(result, ensure_ascii=False, indent=2))


def _write_atomically(path: Path, data: bytes | None) -> None:
    assert data is not None
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Bring the database schema up to date (alembic)."""
    from core import settings, storage

    cfg = settings.load()
    cfg.data_dir.mkdir(parents=True, exist_ok=True)
    engine = storage.make_engine(cfg.effective_database_url)
    storage.upgrade(engine)
    typer.echo(f"database at revision {storage.current_revision(engine)}")


@app.command()
def serve(
    role: Annotated[Optional[list[str]], typer.Option(help="Run only this role (repeatable): bot, smtp, imap, "
                                                            "worker, web, scheduler")] = None,
) -> None:
    """Run Klerk: the bot (or a local chat without a token), the receipt ingest, workers, HTTP, scheduler."""
    from klerk.serve import ROLES, run_serve

    chosen = tuple(role) if role else ROLES
    unknown = [r for r in chosen if r not in ROLES]
    if unknown:
        _err(f"unknown role: {', '.join(unknown)} (choose from {', '.join(ROLES)})")
        raise typer.Exit(EXIT_BAD_INPUT)
    run_serve(chosen)


@app.command()
def healthcheck(url: Annotated[Optional[str], typer.Option(
        help="Default: /healthz of the `klerk serve` on this machine (KLERK_HTTP_PORT)")] = None) -> None:
    """Exit 0 when `klerk serve` answers /healthz with 200, else 1 (for Docker health checks)."""
    from core import settings as settings_module
    from klerk.health import local_health_url, probe_health

    ok, text = probe_health(url or local_health_url(settings_module.load()))
    typer.echo(text, err=not ok)
    raise typer.Exit(0 if ok else 1)


@app.command("examples")
def examples() -> None:
    """Render the bundled example documents into <data_dir>/examples."""
    from klerk.showcase import run_showcase

    run_showcase()


@app.command()
def extract(files: list[Path], as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Read receipts and purchase invoices: total, VAT per rate, date, vendor, invoice number."""
    from klerk.extract import extract_files

    raise typer.Exit(extract_files(files, as_json=as_json, out=typer.echo, err=_err))


@app.command("send-receipt")
def send_receipt(
    file: Path,
    to: Annotated[Optional[str], typer.Option(help="Ingest address (default: the first company's)")] = None,
) -> None:
    """Mail FILE to the local SMTP ingest, as if you forwarded a receipt."""
    from klerk.mailing import send_receipt_file

    raise typer.Exit(send_receipt_file(file, to=to, echo=typer.echo, err=_err))


@app.command()
def demo(data_dir: Annotated[Optional[Path], typer.Option(help="Where to keep the demo's data (default: temporary)")] = None) -> None:
    """Play the whole story: onboarding, an invoice sent, paid through a Mollie double, "betaald!"."""
    from klerk.demo import main as run_demo

    run_demo(data_dir)


@app.command()
def chat(
    connect: Annotated[Optional[str], typer.Option(help="URL of the local chat of a running `klerk serve`")] = None,
    script: Annotated[Optional[Path], typer.Option(help="Play the lines of this file")] = None,
    transcript: Annotated[Optional[Path], typer.Option(help="Write the conversation as Markdown")] = None,
    lang: Annotated[str, typer.Option(help="Your language: nl or en")] = "nl",
) -> None:
    """Talk to the real Klerk bot in this terminal, without Telegram."""
    from klerk.chat import run_chat

    run_chat(connect=connect, script=script, transcript=transcript, language=lang)


@bench_app.command("documents")
def bench_documents(
    runs: Annotated[int, typer.Option(help="Documents per measurement")] = 30,
    write: Annotated[Optional[Path], typer.Option(help="Markdown file to update")] = Path("BENCHMARKS.md"),
) -> None:
    """Time PDF + UBL + preview per invoice against a bare WeasyPrint render of the same HTML."""
    from klerk.bench import bench_documents as run

    run(runs=runs, write=write)


@bench_app.command("bot")
def bench_bot(
    rate: Annotated[float, typer.Option(help="Offered updates per second")] = 300,
    count: Annotated[int, typer.Option(help="Updates per round")] = 1500,
    users: Annotated[int, typer.Option(help="People chatting at once")] = 100,
    rounds: Annotated[int, typer.Option(help="Rounds (the median is reported)")] = 3,
    database_url: Annotated[Optional[str], typer.Option(help="Database (default: a fresh SQLite file)")] = None,
    webhook: Annotated[bool, typer.Option(help="Webhook mode: bot processes behind the double's routing")] = False,
    processes: Annotated[int, typer.Option(help="Bot processes in webhook mode")] = 1,
    write: Annotated[Optional[Path], typer.Option(help="Markdown file to update")] = Path("BENCHMARKS.md"),
) -> None:
    """p50/p99 per update and updates/s through HTTP to the Bot API double."""
    from klerk.bench_bot import bench_bot as run

    run(rate=rate, count=count, users=users, rounds=rounds, database_url=database_url, write=write,
        webhook=webhook, processes=processes)


@bench_app.command("extract")
def bench_extract_cmd(
    directory: Path,
    limit: Annotated[Optional[int], typer.Option(help="Only the first N documents")] = None,
    write: Annotated[Optional[Path], typer.Option(help="Markdown file to update")] = Path("BENCHMARKS.md"),
) -> None:
    """Per-field accuracy of receipt reading against ground truth, and time against bare tesseract."""
    from klerk.extract import bench_extract

    bench_extract(directory, write=write, limit=limit, out=typer.echo)


@bench_app.command("smtp")
def bench_smtp_cmd(
    messages: Annotated[int, typer.Option(help="Mails per run")] = 500,
    runs: Annotated[int, typer.Option(help="Runs (the median is reported)")] = 5,
    connections: Annotated[int, typer.Option(help="Parallel SMTP sessions")] = 8,
    database_url: Annotated[Optional[str], typer.Option(help="Database (default: a fresh SQLite file)")] = None,
    postgres: Annotated[bool, typer.Option(help="Klerk on a private PostgreSQL cluster (durable defaults)")] = False,
    postfix: Annotated[bool, typer.Option(help="Postfix baseline (installs Debian's postfix if missing)")] = True,
    write: Annotated[Optional[Path], typer.Option(help="Markdown file to update")] = Path("BENCHMARKS.md"),
) -> None:
    """SMTP acceptance with durable storage (mails/s on loopback) against Postfix and a bare aiosmtpd."""
    from klerk.bench_smtp import bench_smtp

    bench_smtp(messages=messages, runs=runs, connections=connections, database_url=database_url, postgres=postgres,
               postfix=postfix, write=write, say=typer.echo)


@bench_app.command("scale")
def bench_scale_cmd(
    companies: Annotated[int, typer.Option(help="Companies to load")] = 10_000,
    invoices: Annotated[int, typer.Option(help="Invoices per company")] = 100,
    quotes: Annotated[int, typer.Option(help="Quotes per company")] = 20,
    calls: Annotated[int, typer.Option(help="Timed calls per overview")] = 500,
    senders: Annotated[int, typer.Option(help="Concurrent invoice sends")] = 64,
    database_url: Annotated[Optional[str], typer.Option(help="An empty PostgreSQL database (default: a private "
                                                              "cluster in a temporary directory)")] = None,
    write: Annotated[Optional[Path], typer.Option(help="Markdown file to update")] = Path("BENCHMARKS.md"),
) -> None:
    """Overview queries (p50/p95) on a large PostgreSQL, and concurrent sends without gaps."""
    from klerk.bench_scale import bench_scale

    bench_scale(companies=companies, invoices=invoices, quotes=quotes, calls=calls, senders=senders,
                database_url=database_url, write=write, progress=typer.echo)


@bench_app.command("workers")
def bench_workers_cmd(
    companies: Annotated[int, typer.Option(help="Companies per batch (each gets the PDFs and one photo)")] = 8,
    pdfs: Annotated[int, typer.Option(help="PDFs per company")] = 14,
    photos: Annotated[int, typer.Option(help="Different photos in a batch")] = 8,
    runs: Annotated[int, typer.Option(help="Runs per worker count (the median is reported)")] = 3,
    dataset: Annotated[Optional[Path], typer.Option(help="receipts-dev (default: ../shared/datasets/receipts-dev)")] = None,
    database_url: Annotated[Optional[str], typer.Option(help="PostgreSQL (default: a private cluster)")] = None,
    write: Annotated[Optional[Path], typer.Option(help="Markdown file to update")] = Path("BENCHMARKS.md"),
) -> None:
    """Receipts per second with 1, 2 and 4 ingest worker processes on PostgreSQL."""
    from klerk.bench_workers import DATASET, bench_workers

    bench_workers(companies=companies, pdfs=pdfs, photos=photos, runs=runs, dataset=dataset or DATASET,
                  database_url=database_url, write=write, say=typer.echo)


@bench_app.command("payments")
def bench_payments_cmd(
    runs: Annotated[int, typer.Option(help="Webhooks to time")] = 50,
    database_url: Annotated[str, typer.Option(help="Database (default: a fresh SQLite file)")] = "",
    write: Annotated[Optional[Path], typer.Option(help="Markdown file to update")] = Path("BENCHMARKS.md"),
) -> None:
    """Time from a Mollie webhook received to the "betaald" notification committed."""
    from klerk.bench_payments import bench_webhook

    result = bench_webhook(runs=runs, write=write, database_url=database_url)
    typer.echo(json.dumps(result, indent=2))


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
