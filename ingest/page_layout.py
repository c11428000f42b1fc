"""Where the print is on a page, and the boxes the OCR engines put around it. Pure geometry
(numpy and Pillow): no engine is called here.

- ``text_area``: the part of a photo or scan that holds text (a receipt on a table, on an A4 scan);
- ``TesseractWord`` / ``TesseractLine``: tesseract's words and lines with their boxes, and the
  pieces of a line a second engine should read (``digit_groups``);
- ``skipped_header_lines``: bands of print in the header no tesseract line covers (psm 6 drops a
  headline set far larger than the rest), for rapidocr to read; ``with_lines`` puts them in place;
- ``TextBox`` / ``lines_from_boxes``: rapidocr's pieces put back into lines, deskewed.
"""
from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFilter

from core.receipt_lines import find_amounts

MAX_PIECE_RATIO = 30                 # width / height of a line worth reading again
SKIPPED_HEADER_LINES = 8             # the header, for lines tesseract skipped: at most this many lines
MAX_SKIPPED_LINES = 3                # bands of print in the header read again when tesseract read none
INK_LEVEL = 110                      # grey value below which a pixel is print (after contrast stretching)


# --------------------------------------------------------------------------- where the text is

def text_area(img: Image.Image) -> tuple[int, int, int, int]:
    """Where the text is (left, top, right, bottom), from the density of sharp edges on a thumbnail:
    a receipt photographed on a table or scanned on an A4 page gives tesseract a fraction of the
    pixels and none of the background. The whole page when the text fills most of it."""
    small = img.convert("L")
    small.thumbnail((400, 400))
    edges = np.asarray(small.filter(ImageFilter.FIND_EDGES)) > 60
    height, width = edges.shape
    border = max(1, round(0.02 * max(height, width)))       # a scan's own edge is no text
    edges[:border, :] = edges[-border:, :] = False
    edges[:, :border] = edges[:, -border:] = False
    rows, cols = np.flatnonzero(edges.sum(axis=1) >= 2), np.flatnonzero(edges.sum(axis=0) >= 2)
    whole = (0, 0, img.width, img.height)
    if len(rows) < 3 or len(cols) < 3:
        return whole
    sx, sy, margin = img.width / width, img.height / height, 0.03 * max(height, width)
    left, top = max(0, round((cols[0] - margin) * sx)), max(0, round((rows[0] - margin) * sy))
    right = min(img.width, round((cols[-1] + 1 + margin) * sx))
    bottom = min(img.height, round((rows[-1] + 1 + margin) * sy))
    if (right - left) * (bottom - top) > 0.85 * img.width * img.height:
        return whole
    return left, top, right, bottom


# --------------------------------------------------------------------------- tesseract's words and lines

@dataclass(frozen=True)
class TesseractWord:
    """A word (or a run of words) tesseract read, with its bounding box in the image it read."""

    text: str
    left: int
    top: int
    right: int
    bottom: int


def _span(words: Sequence[TesseractWord]) -> TesseractWord:
    return TesseractWord(" ".join(w.text for w in words), min(w.left for w in words), min(w.top for w in words),
                         max(w.right for w in words), max(w.bottom for w in words))


@dataclass(frozen=True)
class TesseractLine:
    """One line tesseract read: its words, left to right."""

    words: tuple[TesseractWord, ...]

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)

    @property
    def box(self) -> TesseractWord:
        return _span(self.words)

    def digit_groups(self) -> list[TesseractWord]:
        """The words with digits in them, a number tesseract split ("40 ,00") joined into one: what a
        second engine should read again on a line whose numbers matter (one piece per number: a
        long piece of several numbers comes back with digits lost)."""
        groups: list[list[TesseractWord]] = []
        previous = None                   # the word before, when it had digits
        for word in self.words:
            if not any(c.isdigit() for c in word.text):
                previous = None
                continue
            if previous is not None and word.left - previous.right < 0.6 * (word.bottom - word.top):
                groups[-1].append(word)
            else:
                groups.append([word])
            previous = word
        return [_span(g) for g in groups]


def skipped_header_lines(gray: Image.Image, lines: Sequence[TesseractLine]) -> list[TesseractWord]:
    """Bands of print in the header that no line of tesseract's covers: psm 6 drops a line set in a
    much larger font than the rest (a shop's name as a headline) or squeezed between two others. The
    header ends at the first line with a price or the ``SKIPPED_HEADER_LINES``-th line. At most
    ``MAX_SKIPPED_LINES`` bands, each cropped to its ink; empty boxes (no text) to read again."""
    if not lines:
        return []
    heights = [w.bottom - w.top for line in lines for w in line.words if any(c.isalnum() for c in w.text)]
    if not heights:
        return []
    unit = statistics.median(heights)
    last = next((i for i, line in enumerate(lines) if find_amounts(line.text)), len(lines))
    last = min(last, SKIPPED_HEADER_LINES, len(lines) - 1)
    end = lines[last].box.top
    ink = np.asarray(gray)[:end] < INK_LEVEL
    if not ink.size:
        return []
    per_row = ink.sum(axis=1)
    width = ink.shape[1]
    printed = (per_row >= max(3, 0.01 * width)) & (per_row <= 0.7 * width)
    for line in lines[:last + 1]:
        box = line.box
        pad = round(0.15 * (box.bottom - box.top))
        printed[max(0, box.top - pad):max(0, box.bottom + pad)] = False
    bands: list[TesseractWord] = []
    for top, bottom in _runs(printed, gap=2):
        if not 0.6 * unit <= bottom - top <= 6 * unit:
            continue
        columns = np.flatnonzero(ink[top:bottom].sum(axis=0) >= 2)
        if len(columns) < 2:
            continue
        left, right = int(columns[0]), int(columns[-1]) + 1
        density = float(ink[top:bottom, left:right].mean())
        # Print covers 8-50 % of its box; a shadow, a speckled edge or a black bar does not, and a
        # band from edge to edge of the page is the paper's border, not a line.
        if (not 2 * (bottom - top) <= right - left <= MAX_PIECE_RATIO * (bottom - top)
                or not 0.08 <= density <= 0.5 or (left <= 1 and right >= width - 1)):
            continue
        bands.append(TesseractWord("", left, top, right, bottom))
    return bands[:MAX_SKIPPED_LINES]


def _runs(flags: np.ndarray, *, gap: int) -> list[tuple[int, int]]:
    """``(start, end)`` of the runs of true values, runs apart by at most ``gap`` falses joined."""
    runs: list[tuple[int, int]] = []
    for i in np.flatnonzero(flags):
        i = int(i)
        if runs and i - runs[-1][1] <= gap:
            runs[-1] = (runs[-1][0], i + 1)
        else:
            runs.append((i, i + 1))
    return runs


def with_lines(lines: Sequence[TesseractLine], texts: Sequence[str], extra: Sequence[tuple[int, str]]) -> str:
    """``texts`` (one per tesseract line, in its order) with each ``(top, text)`` line put before the
    first line lower on the page."""
    out = list(texts)
    for top, text in sorted(extra, reverse=True):
        at = next((i for i, line in enumerate(lines) if line.box.top > top), len(lines))
        out.insert(at, text)
    return "\n".join(out)


# --------------------------------------------------------------------------- rapidocr's boxes

@dataclass(frozen=True)
class TextBox:
    """One piece of text rapidocr found, with its centre, size and slope (page coordinates)."""

    text: str
    x: float
    y: float
    width: float
    height: float
    angle: float          # degrees, the slope of the box's top edge
    score: float
    quad: tuple[tuple[float, float], ...] = ()     # the four corners, clockwise from top left


def box_of(quad: Sequence[Sequence[float]], text: str, score: float) -> TextBox:
    (x0, y0), (x1, y1), (x2, y2), (x3, y3) = [(float(p[0]), float(p[1])) for p in quad]
    width = math.hypot(x1 - x0, y1 - y0)
    height = math.hypot(x3 - x0, y3 - y0)
    angle = math.degrees(math.atan2(y1 - y0, x1 - x0)) if width else 0.0
    return TextBox(text, (x0 + x1 + x2 + x3) / 4, (y0 + y1 + y2 + y3) / 4, width, height, angle, score,
                   ((x0, y0), (x1, y1), (x2, y2), (x3, y3)))


def skew_of(boxes: Sequence[TextBox]) -> float:
    """The page's slope in degrees: the median slope of the wide text boxes (0 when unsure)."""
    angles = [b.angle for b in boxes if b.width > 3 * b.height and abs(b.angle) < 15]
    return statistics.median(angles) if len(angles) >= 3 else 0.0


def lines_from_boxes(boxes: Iterable[TextBox], skew: float = 0.0) -> str:
    """rapidocr's pieces put back into lines: boxes whose centres share a (deskewed) row, left to right."""
    cos, sin = math.cos(math.radians(skew)), math.sin(math.radians(skew))
    placed = sorted(((b.y * cos - b.x * sin, b.x * cos + b.y * sin, b) for b in boxes if b.text.strip()),
                    key=lambda item: item[0])
    rows: list[list[tuple[float, float, TextBox]]] = []
    for item in placed:
        y, _, box = item
        if rows:
            row = rows[-1]
            row_y = statistics.fmean(i[0] for i in row)
            row_h = statistics.fmean(i[2].height for i in row)
            if abs(y - row_y) < 0.5 * min(row_h, box.height):
                row.append(item)
                continue
        rows.append([item])
    return "\n".join(" ".join(i[2].text.strip() for i in sorted(row, key=lambda i: i[1])) for row in rows)
