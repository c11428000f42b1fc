"""``klerk extract`` and the scoring behind ``klerk bench extract`` (``klerk/extract.py``)."""
from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from core.extraction import Extraction, VatAmount
from klerk.extract import (
    extract_files,
    extraction_summary,
    score_fields,
    vendor_matches,
)


def run(paths: list[Path], *, as_json: bool) -> tuple[int, str, str]:
    out: list[str] = []
    err: list[str] = []
    status = extract_files(paths, as_json=as_json, out=out.append, err=err.append)
    return status, "\n".join(out), "\n".join(err)


@pytest.mark.pdf
def test_extract_json_for_a_facturx_pdf_and_a_refused_zip(tmp_path: Path, make_invoice_pdf) -> None:
    pdf = tmp_path / "factuur.pdf"
    pdf.write_bytes(make_invoice_pdf(facturx=True))
    archive = tmp_path / "bonnen.zip"
    archive.write_bytes(b"PK\x03\x04" + b"\x00" * 64)
    status, out, err = run([pdf, archive], as_json=True)
    assert status == 2
    assert "bonnen.zip: refused: archives" in err
    [summary] = json.loads(out)
    confidence = summary.pop("confidence")
    assert summary == {
        "file": str(pdf), "total": "1193.62", "vat": [{"rate": "21", "amount": "200.50"}, {"rate": "9", "amount": "3.17"}],
        "net": "989.95", "date": "2026-11-30", "vendor": "Studio Vos", "invoice_number": "2026-0042", "currency": "EUR",
    }
    assert {"total", "vat", "net", "date", "vendor", "invoice_number", "currency", "vendor_vat_id"} <= set(confidence)
    assert set(confidence.values()) == {1.0}


def test_extract_prints_fields_for_people(tmp_path: Path) -> None:
    receipt = tmp_path / "bon.html"
    receipt.write_text("<p>WINKEL HET HOEKJE</p><p>Totaal € 12,50</p><p>Datum 01-02-2025</p>", encoding="utf-8")
    status, out, _ = run([receipt], as_json=False)
    assert status == 0
    assert "[html]" in out and "12.50" in out and "2025-02-01" in out and "WINKEL HET HOEKJE" in out


def test_summary_writes_two_decimals_and_null_for_unknown() -> None:
    e = Extraction(source="ocr", total=Decimal(5), vat=(VatAmount(Decimal("9.0"), Decimal("0.4")),),
                   date=date(2025, 1, 31))
    s = extraction_summary("x.jpg", e)
    assert (s["total"], s["vat"], s["net"], s["date"], s["vendor"]) == ("5.00", [{"rate": "9", "amount": "0.40"}],
                                                                       None, "2025-01-31", None)


@pytest.mark.parametrize("predicted, truth, mode, ok", [
    ("Aldi GmbH & Co. KG, Schloß Holte", "aldi", "contains", True),
    ("MEDIA MARKT TV-Hifi-Elektro GmbH", "mediamarkt", "contains", True),
    ("ALaDI", "aldi", "contains", False),
    ("POPULAR BOOK CO. (M) SDN BHD", "POPULAR BOOK CO. (M) SDN BHD", "fuzzy", True),
    ("POPULAR BOOK", "POPULAR BOOK CO. (M) SDN BHD", "fuzzy", False),
    ("Lieferant GmbH.", "Lieferant GmbH", "fuzzy", True),
    (None, "x", "fuzzy", False),
])
def test_vendor_scoring_follows_the_dataset_rules(predicted: str | None, truth: str, mode: str, ok: bool) -> None:
    assert vendor_matches(predicted, truth, mode) is ok


def test_fields_are_scored_only_where_labelled() -> None:
    e = Extraction(source="ocr", total=Decimal("24.23"), date=date(2020, 3, 2), invoice_number="re 471 102",
                   vat=(VatAmount(Decimal(7), Decimal("1.21")), VatAmount(Decimal(19), Decimal("0.91"))))
    truth = {"total": 24.23, "date": "2020-03-02", "vendor": None, "invoice_number": "RE471102#", "vat": 2.12,
             "currency": None}
    assert score_fields(e, truth) == {"total": True, "date": True, "invoice_number": True, "vat": True}
