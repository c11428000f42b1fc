"""Fixtures for the reading tests: the OCR engines (loaded once: they hold only model weights), and
receipt images and PDFs drawn here with Pillow and WeasyPrint — no dataset file is used in tests."""
from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

from ingest.ocr import OcrEngine

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"

RECEIPT_LINES = [
    "BAKKERIJ DE ZON",
    "Marktstraat 7, 3011 AB Rotterdam",
    "",
    "Desembrood            3,95",
    "Appeltaart            4,50",
    "Koffie                2,60",
    "Schoonmaakmiddel      3,25",
    "",
    "TOTAAL               14,30",
    "PIN                  14,30",
    "",
    "BTW   9%   10,14   0,91",
    "BTW  21%    2,69   0,56",
    "Datum 21-02-2025  09:15",
]


@pytest.fixture(scope="session")
def ocr_engine() -> OcrEngine:
    """Session scope on purpose: the engines are read-only after loading, and loading costs seconds."""
    return OcrEngine()


def draw_receipt(lines: list[str] = RECEIPT_LINES, *, width: int = 640, size: int = 26) -> Image.Image:
    """A clean receipt: dark text on white, one line per entry, Pillow's bundled font."""
    font = ImageFont.load_default(size=size)
    height = 40 + len(lines) * int(size * 1.5)
    img = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(img)
    for i, line in enumerate(lines):
        draw.text((30, 20 + i * int(size * 1.5)), line, font=font, fill=(20, 20, 20))
    return img


def encode(img: Image.Image, fmt: str, **params: object) -> bytes:
    buffer = io.BytesIO()
    img.save(buffer, format=fmt, **params)
    return buffer.getvalue()


@pytest.fixture
def receipt_image() -> Callable[..., Image.Image]:
    return draw_receipt


@pytest.fixture
def make_invoice_pdf() -> Callable[..., bytes]:
    """``make_invoice_pdf(facturx=False)``: the standard example invoice as rendered by Klerk."""
    def make(*, facturx: bool = False) -> bytes:
        from core.document_files import build_files
        from core.spec import parse_spec

        doc = parse_spec(json.loads((EXAMPLES / "invoice-standard.json").read_text(encoding="utf-8")),
                         base_dir=EXAMPLES)
        return build_files(doc, facturx=facturx).pdf
    return make
