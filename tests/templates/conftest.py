"""Fixtures for the document templates: the example specs as DocumentData + Totals, and HTML -> text."""
from __future__ import annotations

import dataclasses
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from core.document import DocumentData
from core.spec import parse_spec
from core.vat import Totals, compute_totals

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(scope="session")
def examples_dir() -> Path:
    return EXAMPLES


@pytest.fixture
def make_document():
    """``make_document("invoice-standard", language="en", number=None)`` -> (DocumentData, Totals)."""
    def make(name: str, **overrides) -> tuple[DocumentData, Totals]:
        doc = parse_spec(json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8")), base_dir=EXAMPLES)
        doc = dataclasses.replace(doc, **overrides)
        return doc, compute_totals(doc)
    return make


class _TextOf(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("style", "script", "svg", "title"):
            self._skip += 1
        self.parts.append(" ")

    def handle_endtag(self, tag):
        if tag in ("style", "script", "svg", "title"):
            self._skip -= 1
        self.parts.append(" ")

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def normalize_space(text: str) -> str:
    """Collapse all whitespace, no-break spaces included, to single spaces."""
    return re.sub(r"\s+", " ", text.replace("\xa0", " ")).strip()


@pytest.fixture
def text_of():
    """The visible text of an HTML page (tags, CSS and the QR's SVG dropped), whitespace collapsed."""
    def text(html: str) -> str:
        parser = _TextOf()
        parser.feed(html)
        return normalize_space("".join(parts for parts in parser.parts))
    return text
