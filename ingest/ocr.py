"""OCR of receipt photos and scans: the only module importing pytesseract, and where rapidocr lives.

Two engines read every image (measured in ``../shared/recipes/README.md``): tesseract (``nld+eng+deu``,
``--psm 6``) is good at words (vendor names, "btw", "totaal"); rapidocr's recogniser (models inside
its wheel, offline) is good at digits, so together the true total is in one of the texts for nearly
every receipt. The field extractor (``core.receipt_text``) gets both texts.

Image preparation, cheapest first:
- the size is checked from the header before any pixel is decoded (decompression bombs);
- a JPEG larger than an A4 page at ~300 dpi is decoded at half or quarter scale (``Image.draft``);
- EXIF orientation is applied; the page angle comes for free from rapidocr's text boxes (deskew),
  and tesseract's OSD runs only when those boxes say the page lies on its side or tesseract's
  own confidence is poor;
- tesseract gets grayscale with stretched contrast, never a binarised image (binarising hurt).

One ``OcrEngine`` per process (``engine_for_process()``); ``read_images_in_pool`` spreads a batch
over worker processes, each with its own engine and one thread per engine.
"""
from __future__ import annotations

import io
import math
import multiprocessing
import os
import re
import statistics
import struct
import threading
import warnings
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pytesseract
from PIL import Image, ImageOps, UnidentifiedImageError

from core.errors import ReceiptRejectedError

TESSERACT_LANGUAGES = "nld+eng+deu"
TESSERACT_CONFIG = "--psm 6"
MAX_IMAGE_PIXELS = 60_000_000        # an A4 page at 600 dpi is 35 MP; a phone photo 12-50 MP
MAX_IMAGE_SIDE = 20_000
TARGET_LONG_SIDE = 3600              # beyond this (A4 > ~300 dpi) the image is scaled down first
TESSERACT_TIMEOUT = 60               # seconds per page
LOW_TESSERACT_CONFIDENCE = 0.45      # below this, ask OSD whether the page is upside down
LOW_WORD_AGREEMENT = 0.3             # ... or when so few of rapidocr's words are in tesseract's text
_ROTATION_FLAGS = {90: Image.Transpose.ROTATE_90, 180: Image.Transpose.ROTATE_180,
                   270: Image.Transpose.ROTATE_270}

_heif_registered = False
T = TypeVar("T")
R = TypeVar("R")


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


@dataclass(frozen=True)
class OcrResult:
    tesseract_text: str
    rapid_text: str
    tesseract_confidence: float      # mean word confidence, 0..1
    rapid_confidence: float          # mean line score, 0..1
    rotation: int = 0                # degrees the page was turned (counter-clockwise) before reading
    skew: float = 0.0                # degrees corrected for tesseract

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


def prepare_for_tesseract(img: Image.Image, skew: float = 0.0) -> Image.Image:
    """Grayscale, contrast stretched (1 % clipped), turned by ``-skew`` degrees when it matters."""
    gray = ImageOps.autocontrast(img.convert("L"), cutoff=1)
    if abs(skew) >= 0.5:
        gray = gray.rotate(skew, resample=Image.Resampling.BILINEAR, expand=True, fillcolor=255)
    gray.format = "PPM"          # pytesseract writes it uncompressed: no PNG encode per page
    return gray


# --------------------------------------------------------------------------- the engines

class OcrEngine:
    """Both OCR engines, loaded once; ``read(image)`` returns both texts of one page."""

    def __init__(self, *, threads: int | None = 1, languages: str = TESSERACT_LANGUAGES) -> None:
        """``threads``: onnxruntime threads for rapidocr (``None``: one per core). One is the
        default: measured on the 2-core machines, a second thread gained little when idle and lost
        up to 2x when other processes were busy; a batch gets its parallelism from processes."""
        # Tesseract's OpenMP threads only fight each other on small machines (recipes/README).
        os.environ.setdefault("OMP_THREAD_LIMIT", "1")
        self.languages = languages
        self.rapid = _load_rapidocr(threads)
        self._lock = threading.Lock()    # rapidocr keeps per-call state: one page at a time

    def read(self, img: Image.Image) -> OcrResult:
        """Both engines' text of one page (RGB or L, upright per EXIF), turned and deskewed as needed."""
        with self._lock:
            return self._read(img)

    def _read(self, img: Image.Image) -> OcrResult:
        boxes = self.read_boxes(img)
        rotation = 0
        if _lies_on_its_side(boxes):
            rotation = self._osd_rotation(img) or 90
            img = img.transpose(_ROTATION_FLAGS[rotation])
            boxes = self.read_boxes(img)
        skew = _skew_of(boxes)
        text, confidence = self.read_tesseract(prepare_for_tesseract(_crop_to_text(img, boxes), skew))
        doubtful = confidence < LOW_TESSERACT_CONFIDENCE or _word_agreement(boxes, text) < LOW_WORD_AGREEMENT
        if doubtful and rotation == 0 and self._osd_rotation(img) == 180:
            # Upside down. rapidocr already turned each line (its classifier), so only the order
            # of its boxes is wrong: mirror their positions instead of reading the page again.
            rotation = 180
            img = img.transpose(_ROTATION_FLAGS[180])
            boxes = [TextBox(b.text, img.width - b.x, img.height - b.y, b.width, b.height, b.angle, b.score)
                     for b in boxes]
            text, confidence = self.read_tesseract(prepare_for_tesseract(_crop_to_text(img, boxes), skew))
        rapid_confidence = statistics.fmean([b.score for b in boxes]) if boxes else 0.0
        return OcrResult(text, lines_from_boxes(boxes, skew), confidence, rapid_confidence, rotation, skew)

    def read_boxes(self, img: Image.Image) -> list[TextBox]:
        rgb = img if img.mode == "RGB" else img.convert("RGB")
        output = self.rapid(rgb)
        if output.boxes is None or output.txts is None:
            return []
        boxes = []
        for quad, text, score in zip(output.boxes, output.txts, output.scores):
            (x0, y0), (x1, y1), (x2, y2), (x3, y3) = [(float(p[0]), float(p[1])) for p in quad]
            width = math.hypot(x1 - x0, y1 - y0)
            height = math.hypot(x3 - x0, y3 - y0)
            angle = math.degrees(math.atan2(y1 - y0, x1 - x0)) if width else 0.0
            boxes.append(TextBox(str(text), (x0 + x1 + x2 + x3) / 4, (y0 + y1 + y2 + y3) / 4,
                                 width, height, angle, float(score)))
        return boxes

    def read_tesseract(self, gray: Image.Image) -> tuple[str, float]:
        """Tesseract's text (lines as it found them) and its mean word confidence (0..1)."""
        data = pytesseract.image_to_data(gray, lang=self.languages, config=TESSERACT_CONFIG,
                                         output_type=pytesseract.Output.DICT, timeout=TESSERACT_TIMEOUT)
        lines: dict[tuple[int, int, int], list[str]] = {}
        confidences = []
        for word, conf, block, par, line in zip(data["text"], data["conf"], data["block_num"],
                                                data["par_num"], data["line_num"]):
            word = word.strip()
            if not word:
                continue
            lines.setdefault((block, par, line), []).append(word)
            if float(conf) >= 0:
                confidences.append(float(conf) / 100)
        text = "\n".join(" ".join(words) for words in lines.values())
        return text, (statistics.fmean(confidences) if confidences else 0.0)

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
    params: dict[str, object] = {"Global.log_level": "error", **{k: str(v) for k, v in pinned.items()}}
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


# --------------------------------------------------------------------------- geometry of boxes

def _lies_on_its_side(boxes: Sequence[TextBox]) -> bool:
    """Most longer text boxes taller than wide: the page is turned by 90 degrees."""
    long_ones = [b for b in boxes if len(b.text.strip()) >= 4]
    if len(long_ones) < 3:
        return False
    tall = sum(1 for b in long_ones if b.height > 1.5 * b.width)
    return tall > len(long_ones) / 2


def _word_agreement(boxes: Sequence[TextBox], text: str) -> float:
    """Share of rapidocr's words (3+ letters) that tesseract read too; 1.0 when there are too few."""
    words = {w for b in boxes for w in re.findall(r"[^\W\d_]{3,}", b.text.lower())}
    if len(words) < 5:
        return 1.0
    found = set(re.findall(r"[^\W\d_]{3,}", text.lower()))
    return len(words & found) / len(words)


def _crop_to_text(img: Image.Image, boxes: Sequence[TextBox]) -> Image.Image:
    """The part of the page rapidocr found text in, with a margin: a receipt on a scanned A4 page
    gives tesseract a fraction of the pixels and none of the background noise."""
    if len(boxes) < 3:
        return img
    margin = 0.03 * max(img.size)
    left = max(0, min(b.x - b.width / 2 for b in boxes) - margin)
    top = max(0, min(b.y - b.height / 2 for b in boxes) - margin)
    right = min(img.width, max(b.x + b.width / 2 for b in boxes) + margin)
    bottom = min(img.height, max(b.y + b.height / 2 for b in boxes) + margin)
    if (right - left) * (bottom - top) > 0.85 * img.width * img.height:
        return img
    return img.crop((int(left), int(top), int(right), int(bottom)))


def _skew_of(boxes: Sequence[TextBox]) -> float:
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
