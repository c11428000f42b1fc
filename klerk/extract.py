"""``klerk extract FILE...`` and ``klerk bench extract DIR``: reading receipts from the command line.

``extract_files`` prints what the reading cascade (``ingest.reading``) found in each file.
``bench_extract`` measures it on a directory laid out like ``../shared/datasets/receipts-dev``
(``images/``, ``pdfs/``, ``truth/<stem>.json``): accuracy per field, seconds per document, and the
pipeline's time against the bare ``tesseract`` CLI on the same images in the same run (the goal),
and, for reference, against bare ``tesseract`` + rapidocr's full reading, written to BENCHMARKS.md. The documents are only measured, never named in code.
"""
from __future__ import annotations

import json
import mimetypes
import os
import re
import statistics
import subprocess
import sys
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from difflib import SequenceMatcher
from functools import partial
from pathlib import Path
from typing import Any

from core.errors import ReceiptRejectedError
from core.extraction import Extraction
from core.money import amount_str

REPO = Path(__file__).resolve().parents[1]
FIELDS = ("total", "vat", "date", "vendor", "invoice_number", "currency")


# --------------------------------------------------------------------------- klerk extract

def extraction_summary(file: str, extraction: Extraction) -> dict[str, Any]:
    """The JSON shape of ``klerk extract --json``: amounts as strings with two decimals, ISO dates."""
    def money(value: Decimal | None) -> str | None:
        return amount_str(value) if value is not None else None

    return {
        "file": file,
        "total": money(extraction.total),
        "vat": [{"rate": _rate_str(v.rate), "amount": money(v.amount)} for v in extraction.vat],
        "net": money(extraction.net),
        "date": extraction.date.isoformat() if extraction.date else None,
        "vendor": extraction.vendor,
        "invoice_number": extraction.invoice_number,
        "currency": extraction.currency,
        "confidence": dict(extraction.confidence),
    }


def _rate_str(rate: Decimal) -> str:
    return str(rate.quantize(Decimal(1))) if rate == rate.to_integral_value() else str(rate.normalize())


def read_file(path: Path) -> Extraction:
    from ingest.reading import read_attachment

    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return read_attachment(path.name, path.read_bytes(), mime)


def extract_files(paths: list[Path], *, as_json: bool = False, out: Callable[[str], None] = print,
                  err: Callable[[str], None] = lambda s: print(s, file=sys.stderr)) -> int:
    """Read each file and print its fields; 0 when all were read, 2 when any was refused or unreadable."""
    status = 0
    results = []
    for path in paths:
        try:
            extraction = read_file(path)
        except ReceiptRejectedError as exc:
            err(f"{path}: refused: {exc}")
            status = 2
            continue
        except OSError as exc:
            err(f"{path}: cannot read: {exc.strerror}")
            status = 2
            continue
        summary = extraction_summary(str(path), extraction)
        if as_json:
            results.append(summary)
        else:
            out(_human(summary, extraction.source))
    if as_json:
        out(json.dumps(results if len(paths) != 1 or not results else results[0], ensure_ascii=False, indent=2))
    return status


def _human(summary: dict[str, Any], source: str) -> str:
    conf = summary["confidence"]

    def show(name: str, value: Any) -> str:
        score = conf.get(name)
        return f"{value if value not in (None, []) else '—'}" + (f"  ({score:.2f})" if score is not None else "")

    vat = ", ".join(f"{v['rate']}%: {v['amount']}" for v in summary["vat"]) or None
    lines = [f"{summary['file']}  [{source}]",
             f"  total           {show('total', summary['total'])} {summary['currency'] or ''}".rstrip(),
             f"  vat             {show('vat', vat)}",
             f"  net             {show('net', summary['net'])}",
             f"  date            {show('date', summary['date'])}",
             f"  vendor          {show('vendor', summary['vendor'])}",
             f"  invoice number  {show('invoice_number', summary['invoice_number'])}"]
    return "\n".join(lines)


# --------------------------------------------------------------------------- scoring against truth

def _norm(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.lower())
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9 ]", "", " ".join(folded.split())).strip()


def vendor_matches(predicted: str | None, truth: str, mode: str) -> bool:
    """Normalised similarity >= 0.8; for ``contains`` (truth is a chain name) the best partial match."""
    if not predicted:
        return False
    p, t = _norm(predicted), _norm(truth)
    if mode == "contains":
        if t in p or t.replace(" ", "") in p.replace(" ", ""):
            return True
        windows = range(max(1, len(p) - len(t) + 1))
        return max(SequenceMatcher(None, p[i:i + len(t)], t).ratio() for i in windows) >= 0.8
    return SequenceMatcher(None, p, t).ratio() >= 0.8


def score_fields(extraction: Extraction, truth: dict[str, Any]) -> dict[str, bool]:
    """Per labelled field, whether ``extraction`` has it right (the dataset README's rules)."""
    result: dict[str, bool] = {}
    cent = Decimal("0.01")
    if truth.get("total") is not None:
        expected = Decimal(str(truth["total"])).quantize(cent)
        result["total"] = extraction.total is not None and extraction.total.quantize(cent) == expected
    if truth.get("vat") is not None:
        expected = Decimal(str(truth["vat"])).quantize(cent)
        found = sum((v.amount for v in extraction.vat), Decimal(0)).quantize(cent) if extraction.vat else None
        result["vat"] = found == expected
    if truth.get("date") is not None:
        result["date"] = extraction.date is not None and extraction.date.isoformat() == truth["date"]
    if truth.get("vendor") is not None:
        result["vendor"] = vendor_matches(extraction.vendor, truth["vendor"], truth.get("vendor_match", "fuzzy"))
    if truth.get("invoice_number") is not None:
        def clean(s: str) -> str:
            return s.upper().replace(" ", "").replace("#", "")
        result["invoice_number"] = clean(extraction.invoice_number or "") == clean(truth["invoice_number"])
    if truth.get("currency") is not None:
        result["currency"] = extraction.currency == truth["currency"]
    return result


# --------------------------------------------------------------------------- klerk bench extract

@dataclass
class _Document:
    stem: str
    path: Path
    truth: dict[str, Any]

    @property
    def is_pdf(self) -> bool:
        return self.path.suffix.lower() == ".pdf"


@dataclass
class _Tally:
    right: dict[str, int] = field(default_factory=dict)
    labelled: dict[str, int] = field(default_factory=dict)

    def add(self, scores: dict[str, bool]) -> None:
        for name, ok in scores.items():
            self.labelled[name] = self.labelled.get(name, 0) + 1
            self.right[name] = self.right.get(name, 0) + int(ok)

    def cell(self, name: str) -> str:
        n = self.labelled.get(name, 0)
        return f"{100 * self.right.get(name, 0) / n:.0f} % ({self.right.get(name, 0)}/{n})" if n else "—"


def _documents(directory: Path) -> list[_Document]:
    docs = []
    for truth_path in sorted((directory / "truth").glob("*.json")):
        stem = truth_path.stem
        candidates = [p for sub in ("images", "pdfs") for p in (directory / sub).glob(f"{stem}.*")]
        if candidates:
            docs.append(_Document(stem, candidates[0], json.loads(truth_path.read_text())))
    return docs


def _bare_tesseract(path: Path, languages: str, config: str) -> float:
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    t0 = time.perf_counter()
    subprocess.run(["tesseract", str(path), "stdout", "-l", languages, *config.split()],
                   check=True, capture_output=True, env=env, timeout=300)
    return time.perf_counter() - t0


def _bare_rapidocr(engine: Any, content: bytes) -> None:
    """rapidocr's own full reading of the image (detection, direction, recognition), for reference."""
    from ingest.ocr import open_image

    engine.read_boxes(open_image(content))


def bench_extract(directory: Path, *, write: Path | None = REPO / "BENCHMARKS.md", limit: int | None = None,
                  texts: Path | None = None, out: Callable[[str], None] = print) -> dict[str, Any]:
    """Measure the reading cascade on ``directory``; write the section ``extract`` to ``write``.
    ``texts``: a directory to keep what was read from each document (``<stem>.txt``), to see why a
    field came out wrong."""
    from core.receipt_text import extract_fields
    from ingest.ocr import TESSERACT_CONFIG, TESSERACT_LANGUAGES, engine_for_process, open_image
    from ingest.reading import pdf_text_layer, read_attachment

    docs = _documents(directory)[:limit]
    if not docs:
        raise SystemExit(f"{directory}: no documents with truth found")
    engine = engine_for_process()
    warm = next((d for d in docs if not d.is_pdf), None)
    if warm is not None:                      # load the models and fill the caches before timing
        read_attachment(warm.path.name, warm.path.read_bytes(), "image/jpeg", ocr=engine)
        engine.read_boxes(open_image(warm.path.read_bytes()))
        _bare_tesseract(warm.path, TESSERACT_LANGUAGES, TESSERACT_CONFIG)

    tallies: dict[str, _Tally] = {}
    text_layer = _Tally()
    seconds: dict[str, list[float]] = {"image": [], "pdf": []}
    bare_tess: list[float] = []
    bare_rapid: list[float] = []
    pipeline_images: list[float] = []
    failures: list[str] = []
    full_before = engine.full_readings
    for n, doc in enumerate(docs):
        content = doc.path.read_bytes()
        mime = mimetypes.guess_type(doc.path.name)[0] or "application/octet-stream"

        steps: list[tuple[str, Callable[[], Any]]] = [
            ("pipeline", partial(read_attachment, doc.path.name, content, mime, ocr=engine))]
        if not doc.is_pdf:
            steps += [("tesseract", partial(_bare_tesseract, doc.path, TESSERACT_LANGUAGES, TESSERACT_CONFIG)),
                      ("rapidocr", partial(_bare_rapidocr, engine, content))]
            shift = n % len(steps)            # interleave the order: no step always runs first
            steps = steps[shift:] + steps[:shift]
        extraction: Extraction | None = None
        for name, step in steps:
            t0 = time.perf_counter()
            try:
                result = step()
            except ReceiptRejectedError as exc:
                failures.append(f"{doc.stem}: {exc}")
                result = None
            elapsed = time.perf_counter() - t0
            if name == "pipeline":
                extraction = result
                seconds["pdf" if doc.is_pdf else "image"].append(elapsed)
                if not doc.is_pdf:
                    pipeline_images.append(elapsed)
            elif name == "tesseract":
                bare_tess.append(elapsed)
            else:
                bare_rapid.append(elapsed)
        group = doc.stem.split("_")[0]
        if texts is not None and extraction is not None:
            texts.mkdir(parents=True, exist_ok=True)
            (texts / f"{doc.stem}.txt").write_text(extraction.text, encoding="utf-8")
        scores = score_fields(extraction or Extraction(source="none"), doc.truth)
        tallies.setdefault(group, _Tally()).add(scores)
        tallies.setdefault("pdfs" if doc.is_pdf else "images", _Tally()).add(scores)
        if doc.is_pdf:                         # the generic text logic alone, without the embedded XML
            text_layer.add(score_fields(extract_fields(pdf_text_layer(content), source="pdf_text"), doc.truth))
        wrong = [k for k, ok in scores.items() if not ok]
        out(f"{n + 1:3}/{len(docs)} {doc.stem[:50]:50} {seconds['pdf' if doc.is_pdf else 'image'][-1]:6.2f} s"
            + (f"  wrong: {', '.join(wrong)}" if wrong else ""))

    figures = _figures(pipeline_images, bare_tess, bare_rapid)
    if pipeline_images:
        figures["full_readings"] = engine.full_readings - full_before
    body = _report(directory, docs, tallies, text_layer, seconds, figures, failures)
    out(body)
    if write is not None:
        from klerk.bench import _update_section

        _update_section(write, "extract", body)
        out(f"written to {write}")
    return {"tallies": {k: {"right": v.right, "labelled": v.labelled} for k, v in tallies.items()},
            "seconds": seconds, **figures}


def _figures(pipeline: list[float], tess: list[float], rapid: list[float]) -> dict[str, float]:
    if not pipeline or not tess:
        return {}
    both = [t + r for t, r in zip(tess, rapid)]
    return {
        "ratio_tesseract_median": statistics.median(p / t for p, t in zip(pipeline, tess)),
        "ratio_tesseract_sum": sum(pipeline) / sum(tess),
        "ratio_engines_median": statistics.median(p / b for p, b in zip(pipeline, both)),
        "ratio_engines_sum": sum(pipeline) / sum(both),
        "bare_tesseract_median": statistics.median(tess),
        "bare_rapidocr_median": statistics.median(rapid),
        "pipeline_median": statistics.median(pipeline),
    }


def _report(directory: Path, docs: list[_Document], tallies: dict[str, _Tally], text_layer: _Tally,
            seconds: dict[str, list[float]], figures: dict[str, float], failures: list[str]) -> str:
    from ingest.ocr import TESSERACT_CONFIG, TESSERACT_LANGUAGES
    from klerk.bench import _machine

    def row(label: str, tally: _Tally) -> str:
        return f"| {label} | " + " | ".join(tally.cell(f) for f in FIELDS) + " |"

    groups = [g for g in tallies if g not in ("images", "pdfs")]
    lines = [
        "## Extract: reading receipts and invoices",
        "",
        f"Command: `klerk bench extract {directory}` — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {_machine()}.",
        (f"{len(docs)} documents ({len(seconds['image'])} images, {len(seconds['pdf'])} PDFs), one process, "
         "engines loaded once and warmed up, one thread each (tesseract `OMP_THREAD_LIMIT=1`, rapidocr one "
         "onnxruntime thread, as in the workers). Scoring as in the dataset README: total and VAT to the cent, "
         "date exact, vendor similarity ≥ 0.8 (chain names: best partial match), invoice number exact."),
        "",
        "| set | total | VAT | date | vendor | invoice number | currency |",
        "|---|---|---|---|---|---|---|",
        row("**images** (OCR)", tallies.get("images", _Tally())),
        row("**PDFs** (full cascade: embedded XML first)", tallies.get("pdfs", _Tally())),
        row("PDFs, text layer only (no XML)", text_layer),
        *[row(f"`{g}_*`", tallies[g]) for g in groups],
        "",
        "| time | value |",
        "|---|---|",
    ]
    if seconds["image"]:
        lines.append(f"| seconds per image, median (pipeline: decode, crop, tesseract, rapidocr on the lines that "
                     f"decide total, date and seller and on header lines tesseract skipped, fields; rapidocr on the whole page when those stay unsure) | "
                     f"{statistics.median(seconds['image']):.2f} s |")
    if seconds["pdf"]:
        lines.append(f"| seconds per PDF, median | {statistics.median(seconds['pdf']) * 1000:.1f} ms |")
    if figures:
        lines += [
            (f"| bare `tesseract` CLI (`-l {TESSERACT_LANGUAGES} {TESSERACT_CONFIG}`, OMP_THREAD_LIMIT=1), median | "
             f"{figures['bare_tesseract_median']:.2f} s |"),
            (f"| bare rapidocr, full reading (same engine instance: detection, direction, recognition), median | "
             f"{figures['bare_rapidocr_median']:.2f} s |"),
            (f"| images where rapidocr read the whole page (total or date unsure after the first pass) | "
             f"{figures.get('full_readings', 0):.0f} of {len(seconds['image'])} |"),
            (f"| **pipeline ÷ bare tesseract, goal ≤ 1.15×**: median of per-image ratios / ratio of sums | "
             f"**{figures['ratio_tesseract_median']:.2f}×** / **{figures['ratio_tesseract_sum']:.2f}×** |"),
            (f"| pipeline ÷ (bare tesseract + bare rapidocr), for reference: median / ratio of sums | "
             f"{figures['ratio_engines_median']:.2f}× / {figures['ratio_engines_sum']:.2f}× |"),
        ]
    if failures:
        lines += ["", "Refused: " + "; ".join(failures)]
    return "\n".join(lines) + "\n"
