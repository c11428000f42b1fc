"""OCR of receipt photos and scans: the only module importing pytesseract, and where rapidocr lives.

Tesseract (``nld+eng+deu``, ``--psm 6``) reads the whole page; it is good at words (vendor names,
"btw", "totaal") but misreads digits on photos. rapidocr's recogniser (models inside its wheel,
offline) reads digits better, but running its detector and recogniser over a whole page costs 1-3x
tesseract (``../shared/recipes/README.md``). So rapidocr only reads again, with its recogniser alone,
the pieces of tesseract's lines that decide a field: the numbers on total, payment, cash and change
lines, dates and times (``core.receipt_text.lines_to_check``), and the lines that may hold the
seller's name (``core.receipt_vendor.name_lines``, and the first line: often a logo). It also reads
the bands of print in the header that tesseract left out (psm 6 drops a headline set much larger
than the rest: often the shop's name; ``ingest.page_layout.skipped_header_lines``). The field
extractor (``core.receipt_text``) gets both readings.

Image preparation, cheapest first:
- the size is checked from the header before any pixel is decoded (decompression bombs);
- a JPEG larger than an A4 page at ~300 dpi is decoded at half or quarter scale (``Image.draft``);
- EXIF orientation is applied; tesseract's OSD runs only when its confidence is poor or it read no
  price at all (a page on its side or upside down);
- tesseract gets grayscale with stretched contrast, never a binarised image (binarising hurt).

One ``OcrEngine`` per process (``engine_for_process()``); ``read_images_in_pool`` spreads a batch
over worker processes, each with its own engine and one thread per engine.
"""
from __future__ import annotations

import io
import multiprocessing
import os
import re
import statistics
import struct
import threading
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np
import pytesseract
from PIL import Image, ImageOps, UnidentifiedImageError

from core.errors import ReceiptRejectedError
from core.receipt_lines import find_amounts
from core.receipt_text import lines_to_check
from core.receipt_vendor import name_lines
from ingest.page_layout import (
    MAX_PIECE_RATIO,
    TesseractLine,
    TesseractWord,
    TextBox,
    box_of,
    lines_from_boxes,
    skew_of,
    skipped_header_lines,
    text_area,
    with_lines,
)

TESSERACT_LANGUAGES = "nld+eng+deu"
TESSERACT_CONFIG = "--psm 6"
MAX_IMAGE_PIXELS = 60_000_000        # an A4 page at 600 dpi is 35 MP; a phone photo 12-50 MP
MAX_IMAGE_SIDE = 20_000
TARGET_LONG_SIDE = 3600              # beyond this (A4 > ~300 dpi) the image is scaled down first
TESSERACT_TIMEOUT = 60               # seconds per page
LOW_TESSERACT_CONFIDENCE = 0.45      # below this, ask OSD whether the page is upside down
DETECTION_LONG_SIDE = 960            # rapidocr's full reading finds its boxes on the page scaled to this
NAME_LINES = 3                       # lines rapidocr reads again for the seller's name
MAX_SECOND_READINGS = 24             # pieces rapidocr reads again at most per page
MIN_SKIPPED_SCORE = 0.6              # rapidocr's confidence to keep a line tesseract skipped
_ROTATION_FLAGS = {90: Image.Transpose.ROTATE_90, 180: Image.Transpose.ROTATE_180,
                   270: Image.Transpose.ROTATE_270}

_heif_registered = False
T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class OcrResult:
    tesseract_text: str              # the whole page (with the header lines it skipped, as rapidocr read them)
    rapid_text: str                  # tesseract's lines, those that matter as rapidocr read them
    tesseract_confidence: float      # mean word confidence, 0..1
    rapid_confidence: float          # mean score of the pieces rapidocr read, 0..1
    rotation: int = 0                # degrees the page was turned (counter-clockwise) before reading

    @property
    def texts(self) -> tuple[str, str]:
        return (self.tesseract_text, self.rapid_text)


# --------------------------------------------------------------------------- opening images safely

def _register_heif() -> None:
    global _heif_registered
    if not _heif_registered:
        from pillow_heif import register_heif_opener

        register_heif_opener()
        _heif_registered = True


def open_image(content: bytes, *, max_pixels: int = MAX_IMAGE_PIXELS) -> Image.Image:
    """Decode an image (JPEG, PNG, HEIC, WebP, TIFF, ...) safely, upright (EXIF), in RGB or L.

    The pixel count is read from the header and checked before decoding; large JPEGs are decoded
    at reduced scale. Raises ``ReceiptRejectedError`` for anything that is not a usable image.
    """
    _register_heif()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(content))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ReceiptRejectedError("image too large (decompression bomb)") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, struct.error):
        raise ReceiptRejectedError("not a readable image") from None
    width, height = img.size
    if width <= 0 or height <= 0 or width * height > max_pixels or max(width, height) > MAX_IMAGE_SIDE:
        raise ReceiptRejectedError(f"image too large: {width}x{height} pixels (at most {max_pixels // 1_000_000} MP)")
    if img.format == "JPEG" and max(width, height) > TARGET_LONG_SIDE:
        # The decoder halves the scale while the result stays >= the size asked for: asking for
        # half the target lands between 1/2 and 1 x TARGET_LONG_SIDE, with no resize after.
        scale = TARGET_LONG_SIDE / max(width, height) / 2
        img.draft("RGB", (max(1, int(width * scale)), max(1, int(height * scale))))
    try:
        img.load()       # a truncated file may load padded: WeasyPrint sets LOAD_TRUNCATED_IMAGES
        img = ImageOps.exif_transpose(img)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ReceiptRejectedError("image too large (decompression bomb)") from None
    except (OSError, ValueError, SyntaxError, struct.error, EOFError):
        raise ReceiptRejectedError("image is damaged and cannot be decoded") from None
    if img.mode not in ("RGB", "L"):
        img = _flatten(img)
    if max(img.size) > TARGET_LONG_SIDE:
        scale = TARGET_LONG_SIDE / max(img.size)
        img = img.resize((max(1, round(img.width * scale)), max(1, round(img.height * scale))),
                         Image.Resampling.LANCZOS)
    return img


def _flatten(img: Image.Image) -> Image.Image:
    """RGB on a white background (transparency, palettes, CMYK, 16-bit grey)."""
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    if img.mode in ("I;16", "I;16B", "I", "F"):
        return ImageOps.autocontrast(img.convert("L"))
    return img.convert("RGB")


def prepare_for_tesseract(img: Image.Image) -> Image.Image:
    """Grayscale, contrast stretched (1 % clipped)."""
    gray = ImageOps.autocontrast(img.convert("L"), cutoff=1)
    gray.format = "PPM"          # pytesseract writes it uncompressed: no PNG encode per page
    return gray


# --------------------------------------------------------------------------- the engines

class OcrEngine:
    """Both OCR engines, loaded once; ``read(image)`` returns both readings of one page."""

    def __init__(self, *, threads: int | None = 1, languages: str = TESSERACT_LANGUAGES) -> None:
        """``threads``: onnxruntime threads for rapidocr (``None``: one per core). One is the
        default: measured on the 2-core machines, a second thread gained little when idle and lost
        up to 2x when other processes were busy; a batch gets its parallelism from processes."""
        # Tesseract's OpenMP threads only fight each other on small machines (recipes/README).
        os.environ.setdefault("OMP_THREAD_LIMIT", "1")
        self.languages = languages
        self.rapid = _load_rapidocr(threads)
        self._lock = threading.Lock()    # rapidocr keeps per-call state: one page at a time
        self.full_readings = 0           # pages rapidocr read whole (``read_fully``), for the bench

    def read(self, img: Image.Image) -> OcrResult:
        """Both readings of one page (RGB or L, upright per EXIF), turned as needed."""
        with self._lock:
            return self._read(img)

    def _read(self, img: Image.Image) -> OcrResult:
        gray = prepare_for_tesseract(img.crop(text_area(img)))
        lines, confidence = self.read_tesseract_lines(gray)
        rotation = 0
        if confidence < LOW_TESSERACT_CONFIDENCE or not any(find_amounts(line.text) for line in lines):
            rotation = self._osd_rotation(img)     # on its side or upside down: tesseract reads no prices
            if rotation:
                img = img.transpose(_ROTATION_FLAGS[rotation])
                gray = prepare_for_tesseract(img.crop(text_area(img)))
                lines, confidence = self.read_tesseract_lines(gray)
        texts = [line.text for line in lines]
        top, checked = _name_lines(lines), lines_to_check(texts)
        strips = [(i, lines[i].box) for i in top]
        strips += [(i, group) for i in checked if i not in top for group in lines[i].digit_groups()]
        strips = strips[:MAX_SECOND_READINGS]
        skipped = skipped_header_lines(gray, lines)
        read = self.recognise(gray, [box for _, box in strips] + skipped)
        second = list(texts)            # tesseract's page with rapidocr's reading of the pieces that matter
        for (i, box), (text, _) in zip(strips, read):
            if text:
                second[i] = text if i in top else second[i].replace(box.text, text, 1)
        # Lines tesseract skipped (a headline in a much larger font) exist only in rapidocr's
        # reading; both texts get them, in their place on the page.
        found = [(box.top, text) for box, (text, score) in zip(skipped, read[len(strips):])
                 if score >= MIN_SKIPPED_SCORE and re.search(r"[^\W\d_]{2}", text)]
        scores = [score for text, score in read if text]
        return OcrResult(with_lines(lines, texts, found), with_lines(lines, second, found), confidence,
                         statistics.fmean(scores) if scores else 0.0, rotation)

    def read_fully(self, img: Image.Image, first: OcrResult) -> OcrResult:
        """``first`` with rapidocr's own reading of the whole page (detection, direction, recognition)
        instead of its second look at tesseract's lines: for pages tesseract could not make sense of."""
        with self._lock:
            self.full_readings += 1
            if first.rotation:
                img = img.transpose(_ROTATION_FLAGS[first.rotation])
            boxes = self.read_boxes(img.crop(text_area(img)))
        scores = [b.score for b in boxes]
        return OcrResult(first.tesseract_text, lines_from_boxes(boxes, skew_of(boxes)), first.tesseract_confidence,
                         statistics.fmean(scores) if scores else 0.0, first.rotation)

    def recognise(self, gray: Image.Image, boxes: Sequence[TesseractWord]) -> list[tuple[str, float]]:
        """rapidocr's reading of the pieces of ``gray`` where tesseract found ``boxes``, in order
        (its recogniser only, in batches: no detection, no direction classifier); ``""`` where it
        read nothing."""
        if not boxes:
            return []
        crops = []
        for box in boxes:
            pad = max(2, round(0.2 * (box.bottom - box.top)))
            piece = gray.crop((max(0, box.left - 2 * pad), max(0, box.top - pad), box.right + 2 * pad, box.bottom + pad))
            crops.append(np.asarray(piece.convert("RGB")))
        output = self.rapid.recognize_txt(crops)
        return [(str(text).strip(), float(score)) for text, score in zip(output.txts or (), output.scores)]

    def read_boxes(self, img: Image.Image) -> list[TextBox]:
        """Every text box of the page, read (detection, direction and recognition: the bare engine)."""
        rgb = img if img.mode == "RGB" else img.convert("RGB")
        output = self.rapid(rgb, use_det=True, use_cls=True, use_rec=True)
        if output.boxes is None or output.txts is None:
            return []
        return [box_of(quad, str(text), float(score)) for quad, text, score in zip(output.boxes, output.txts, output.scores)]

    def read_tesseract_lines(self, gray: Image.Image) -> tuple[list[TesseractLine], float]:
        """Tesseract's lines as it found them (with their words' boxes) and its mean word confidence (0..1)."""
        data = pytesseract.image_to_data(gray, lang=self.languages, config=TESSERACT_CONFIG,
                                         output_type=pytesseract.Output.DICT, timeout=TESSERACT_TIMEOUT)
        lines: dict[tuple[int, int, int], list[TesseractWord]] = {}
        confidences = []
        for word, conf, block, par, line, left, top, width, height in zip(
                data["text"], data["conf"], data["block_num"], data["par_num"], data["line_num"],
                data["left"], data["top"], data["width"], data["height"]):
            word = word.strip()
            if not word:
                continue
            box = TesseractWord(word, int(left), int(top), int(left) + int(width), int(top) + int(height))
            lines.setdefault((block, par, line), []).append(box)
            if float(conf) >= 0:
                confidences.append(float(conf) / 100)
        found = [TesseractLine(tuple(words)) for words in lines.values()]
        return found, (statistics.fmean(confidences) if confidences else 0.0)

    def _osd_rotation(self, img: Image.Image) -> int:
        """Tesseract's orientation guess (0/90/180/270, clockwise to apply), 0 when it cannot tell."""
        small = img.convert("L")
        if max(small.size) > 1600:
            small.thumbnail((1600, 1600))
        small.format = "PPM"
        try:
            osd = pytesseract.image_to_osd(small, config="--psm 0", output_type=pytesseract.Output.DICT,
                                           timeout=TESSERACT_TIMEOUT)
        except pytesseract.TesseractError:
            return 0                       # too little text to tell
        if float(osd.get("orientation_conf", 0)) < 2.0:
            return 0
        # "rotate" is the counter-clockwise angle that makes the page upright.
        return {90: 270, 180: 180, 270: 90}.get(int(osd.get("rotate", 0)), 0)


def _name_lines(lines: Sequence[TesseractLine]) -> list[int]:
    """The lines that may hold the seller's name: the first line with a word in it (a logo
    tesseract could not read) and the two that look most like a name to ``core.receipt_vendor``;
    not a line as wide as a page of text (noise along a scan's edge)."""
    texts = [line.text for line in lines]
    first = next((i for i, text in enumerate(texts) if re.search(r"[^\W\d_]{2,}", text)), None)
    wanted = ([] if first is None else [first]) + name_lines(texts)
    found: list[int] = []
    for i in wanted:
        box = lines[i].box
        if i not in found and box.right - box.left <= MAX_PIECE_RATIO * (box.bottom - box.top):
            found.append(i)
    return sorted(found[:NAME_LINES])


def _load_rapidocr(threads: int | None):  # type: ignore[no-untyped-def]
    """rapidocr pinned to the models inside its wheel: a missing file fails here, never downloads."""
    import rapidocr
    from rapidocr import RapidOCR

    models = Path(rapidocr.__file__).parent / "models"
    pinned = {"Det.model_path": models / "PP-OCRv6_det_small.onnx",
              "Rec.model_path": models / "PP-OCRv6_rec_small.onnx",
              "Cls.model_path": models / "ch_ppocr_mobile_v2.0_cls_mobile.onnx"}
    missing = [str(p) for p in pinned.values() if not p.is_file()]
    if missing:
        raise RuntimeError(f"rapidocr's bundled models are missing: {missing}")
    # Rec.rec_img_shape: no padding of short pieces to 320 pixels wide, a number costs what it is wide.
    # Det.limit_*: boxes found on the page scaled down to DETECTION_LONG_SIDE, not up to 736 pixels on
    # its short side (2-5x cheaper; on the receipts measured it found the same totals and dates).
    params: dict[str, object] = {"Global.log_level": "error", **{k: str(v) for k, v in pinned.items()},
                                 "Rec.rec_img_shape": [3, 48, 48], "Det.limit_type": "max",
                                 "Det.limit_side_len": DETECTION_LONG_SIDE}
    if threads is not None:
        params["EngineConfig.onnxruntime.intra_op_num_threads"] = threads
        params["EngineConfig.onnxruntime.inter_op_num_threads"] = 1
    return RapidOCR(params=params)


_process_engine: OcrEngine | None = None
_process_engine_lock = threading.Lock()


def engine_for_process() -> OcrEngine:
    """This process's engines, created on first use (the models load once). Callers that want
    their own (tests, other settings) pass an ``OcrEngine`` instead of calling this."""
    global _process_engine
    with _process_engine_lock:
        if _process_engine is None:
            _process_engine = OcrEngine()
        return _process_engine


# --------------------------------------------------------------------------- batches

def _init_worker() -> None:
    os.environ["OMP_THREAD_LIMIT"] = "1"
    engine_for_process()                 # load the models before the first document arrives


def _read_in_worker(content: bytes) -> OcrResult:
    return engine_for_process().read(open_image(content))


def map_in_pool(function: Callable[[T], R], items: Sequence[T], *,
                workers: int | None = None) -> list[R | ReceiptRejectedError]:
    """``function`` over ``items`` in ``workers`` processes (default: one per core), in input order.

    ``function`` must be importable (a module-level function). Each worker is a fresh interpreter
    (spawn: no forked onnxruntime threads) that loads its OCR engines once, single-threaded. A
    refused item yields its ``ReceiptRejectedError`` in its place: one bad file does not sink the batch.
    """
    workers = max(1, min(workers or os.cpu_count() or 1, len(items) or 1))
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_init_worker) as pool:
        futures = [pool.submit(function, item) for item in items]
        results: list[R | ReceiptRejectedError] = []
        for future in futures:
            try:
                results.append(future.result())
            except ReceiptRejectedError as exc:
                results.append(exc)
        return results


def read_images_in_pool(images: Sequence[bytes], *, workers: int | None = None) -> list[OcrResult | ReceiptRejectedError]:
    """Both OCR texts of many images, spread over processes (see ``map_in_pool``)."""
    return map_in_pool(_read_in_worker, images, workers=workers)
