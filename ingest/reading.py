"""Reading one incoming document into an ``Extraction``: the cascade from the most exact source down.

    read_attachment(filename, content, mime) -> Extraction
    read_html_body(html) -> Extraction

1. An e-invoice: a UBL / CII XML file, or the CII embedded in a Factur-X / ZUGFeRD PDF -> every
   field exact (``core.einvoice_read``, source ``ubl``/``cii``, confidence 1.0).
2. A PDF with a text layer -> its text (pypdfium2) -> ``core.receipt_text`` (source ``pdf_text``).
3. A photo or scan (JPEG, PNG, HEIC, WebP, TIFF, a scanned PDF or a receipt image inside a PDF)
   -> tesseract, and rapidocr on the lines that decide the total and date (``ingest.ocr``) ->
   ``core.receipt_text`` with both texts (source ``ocr``); when the total or date is still unsure,
   rapidocr reads the whole page and the fields are taken again.
4. A webshop mail without attachment -> its HTML body as text (source ``html``).

The type is decided by the bytes, never by the file name or the declared MIME type (those only
appear in messages). Hostile input raises ``ReceiptRejectedError`` with a reason the sender may
read: encrypted PDFs, PDFs with more than ``MAX_PDF_PAGES`` pages (counted before anything is
rendered), decompression bombs (pixels counted from the header before decoding), archives,
executables and anything else we do not read.

Synchronous and CPU-bound: call it from a worker, or via ``asyncio.to_thread`` from async code.
"""
from __future__ import annotations

import logging
import re
from collections.abc import Sequence

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from lxml import etree
from lxml import html as lxml_html
from PIL import Image

from core.einvoice_read import einvoice_kind, read_einvoice
from core.errors import ReceiptRejectedError
from core.extraction import Extraction
from core.receipt_text import extract_fields
from ingest.ocr import OcrEngine, OcrResult, engine_for_process, map_in_pool, open_image

log = logging.getLogger(__name__)

MAX_ATTACHMENT_BYTES = 40 * 1024 * 1024
MAX_PDF_PAGES = 300
MAX_TEXT_PAGES = 50           # pages whose text layer is read
MAX_OCR_PAGES = 4             # pages of a scanned PDF that are rendered and read
MAX_EMBEDDED_XML_BYTES = 20 * 1024 * 1024
MAX_HTML_CHARS = 2_000_000
RENDER_DPI = 300
MAX_RENDER_SIDE = 3600        # pixels, longest side of a rendered page
MIN_TEXT_CHARS_PER_PAGE = 25  # fewer letters and digits than this: a scan, read it with OCR
OCR_DIGIT_TRUST = (0.0, 1.0)  # rapidocr (second text) reads digits better than tesseract
FULL_READING_BELOW = 0.6      # total or date less sure than this: rapidocr reads the whole page

_IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a", b"II*\x00", b"MM\x00*", b"BM")
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1", b"avif"}
_HTML_START = re.compile(rb"<(?:p|div|table|body|head|meta|span|br|font|center|h[1-6]|!--)[\s>/]")
_BLOCK_TAGS = {"p", "div", "br", "tr", "li", "ul", "ol", "table", "tbody", "thead", "tfoot", "section",
               "article", "header", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "dt", "dd", "blockquote",
               "pre", "address", "center", "form", "fieldset", "main", "aside", "nav", "caption"}


# --------------------------------------------------------------------------- entry points

def read_attachment(filename: str, content: bytes, mime: str, *, ocr: OcrEngine | None = None) -> Extraction:
    """Read one attachment (or a photo sent to the bot). ``ocr`` defaults to this process's engines,
    loaded only when a document needs OCR. Raises ``ReceiptRejectedError`` on hostile or unknown input.
    """
    if not content:
        raise ReceiptRejectedError("empty file")
    if len(content) > MAX_ATTACHMENT_BYTES:
        raise ReceiptRejectedError(f"file too large ({len(content) // (1024 * 1024)} MB; at most "
                                   f"{MAX_ATTACHMENT_BYTES // (1024 * 1024)} MB)")
    kind = sniff(content)
    if kind == "pdf":
        return _read_pdf(content, ocr)
    if kind == "xml":
        return read_einvoice(content)
    if kind == "image":
        return _read_image(content, ocr)
    if kind == "html":
        return read_html_body(_decode(content))
    raise ReceiptRejectedError(_unsupported_reason(kind, filename, mime))


def read_attachments_in_pool(attachments: Sequence[tuple[str, bytes, str]], *,
                             workers: int | None = None) -> list[Extraction | ReceiptRejectedError]:
    """``read_attachment`` for a batch of ``(filename, content, mime)``, one process per core."""
    return map_in_pool(_read_one, attachments, workers=workers)


def _read_one(attachment: tuple[str, bytes, str]) -> Extraction:
    return read_attachment(*attachment)


def read_html_body(html: str) -> Extraction:
    """The fields of a webshop order confirmation or e-mailed invoice, from its HTML body."""
    text = html_to_text(html)
    if not text.strip():
        return Extraction(source="html")
    return extract_fields(text, source="html")


# --------------------------------------------------------------------------- what is it?

def sniff(content: bytes) -> str:
    """``pdf``, ``xml``, ``image``, ``html``, or what we refuse: ``zip``, ``executable``, ``unknown``."""
    head = content[:1024]
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06", b"Rar!", b"7z\xbc\xaf", b"\x1f\x8b", b"BZh")):
        return "zip"                     # first: an archive may hold a PDF's bytes near its start
    if head.startswith((b"MZ", b"\x7fELF", b"\xca\xfe\xba\xbe", b"\xcf\xfa\xed\xfe", b"#!")):
        return "executable"
    if b"%PDF-" in head:
        return "pdf"
    if head.startswith(_IMAGE_MAGIC) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP"):
        return "image"
    if head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS:
        return "image"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = head.decode("utf-16", errors="ignore").encode("ascii", errors="ignore").lstrip().lower()
    if text.startswith((b"<!doctype html", b"<html")) or b"<html" in text[:512] or _HTML_START.match(text):
        return "html"
    if text.startswith(b"<"):
        return "xml"
    return "unknown"


def _unsupported_reason(kind: str, filename: str, mime: str) -> str:
    what = {"zip": "archives (zip, rar, gzip, office files) are not accepted",
            "executable": "programs and scripts are not accepted"}.get(kind, "unsupported file type")
    shown = re.sub(r"[^\w.\- /+]", "", f"{filename[-60:]} ({mime[:60]})")
    return f"{what}: {shown}"


def _decode(content: bytes) -> str:
    for encoding in ("utf-8", "cp1252"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    return content.decode("latin-1")


# --------------------------------------------------------------------------- PDF

def _open_pdf(content: bytes) -> pdfium.PdfDocument:
    try:
        pdf = pdfium.PdfDocument(content)
    except pdfium.PdfiumError as exc:
        if getattr(exc, "err_code", None) == pdfium_c.FPDF_ERR_PASSWORD:
            raise ReceiptRejectedError("encrypted PDF (protected with a password)") from None
        raise ReceiptRejectedError("damaged or unreadable PDF") from None
    pages = len(pdf)
    if pages == 0:
        pdf.close()
        raise ReceiptRejectedError("PDF without pages")
    if pages > MAX_PDF_PAGES:
        pdf.close()
        raise ReceiptRejectedError(f"PDF has {pages} pages (at most {MAX_PDF_PAGES})")
    return pdf


def _read_pdf(content: bytes, ocr: OcrEngine | None) -> Extraction:
    pdf = _open_pdf(content)
    try:
        embedded = _embedded_einvoice(pdf)
        if embedded is not None:
            return embedded
        pages = min(len(pdf), MAX_TEXT_PAGES)
        texts = [_page_text(pdf, i) for i in range(pages)]
        meaningful = sum(len(re.findall(r"\w", t)) for t in texts)
        if meaningful >= MIN_TEXT_CHARS_PER_PAGE * min(pages, MAX_OCR_PAGES):
            return extract_fields("\n".join(texts), source="pdf_text")
        pictures = [_render(pdf, i) for i in range(min(len(pdf), MAX_OCR_PAGES))]
        pictures = [p for p in pictures if not _is_blank(p)]
        if not pictures:
            return Extraction(source="ocr")
        return _read_pictures(ocr or engine_for_process(), pictures)
    finally:
        pdf.close()


def pdf_text_layer(content: bytes) -> str:
    """The text layer of a PDF (first ``MAX_TEXT_PAGES`` pages); '' for a scan. Same refusals as
    ``read_attachment``."""
    pdf = _open_pdf(content)
    try:
        return "\n".join(_page_text(pdf, i) for i in range(min(len(pdf), MAX_TEXT_PAGES)))
    finally:
        pdf.close()


def _embedded_einvoice(pdf: pdfium.PdfDocument) -> Extraction | None:
    """The CII (or UBL) XML a Factur-X / ZUGFeRD / XRechnung PDF carries, read exactly."""
    for i in range(pdf.count_attachments()):
        attachment = pdf.get_attachment(i)
        name = (attachment.get_name() or "").lower()
        if not name.endswith(".xml"):
            continue
        try:
            data = bytes(attachment.get_data())
        except pdfium.PdfiumError:
            continue
        if len(data) > MAX_EMBEDDED_XML_BYTES or einvoice_kind(data) is None:
            continue
        try:
            return read_einvoice(data)
        except ReceiptRejectedError as exc:
            log.info("embedded XML %s not usable: %s", name[:40], exc)
    return None


def _page_text(pdf: pdfium.PdfDocument, index: int) -> str:
    page = pdf[index]
    try:
        textpage = page.get_textpage()
        try:
            return textpage.get_text_bounded()
        finally:
            textpage.close()
    finally:
        page.close()


def _render(pdf: pdfium.PdfDocument, index: int):  # type: ignore[no-untyped-def]
    """Page ``index`` as a PIL image at ~300 dpi, its longest side capped (a huge page is no bomb)."""
    page = pdf[index]
    try:
        width, height = page.get_size()
        longest = max(width, height, 1.0)
        scale = min(RENDER_DPI / 72, MAX_RENDER_SIDE / longest)
        bitmap = page.render(scale=scale)
        try:
            return bitmap.to_pil().convert("RGB")
        finally:
            bitmap.close()
    finally:
        page.close()


def _is_blank(image) -> bool:  # type: ignore[no-untyped-def]
    """An empty page (a blank back side of a scan): nothing darker than light grey on it."""
    small = image.convert("L")
    small.thumbnail((400, 400))
    low, high = small.getextrema()
    return high - low < 24


# --------------------------------------------------------------------------- images

def _read_image(content: bytes, ocr: OcrEngine | None) -> Extraction:
    return _read_pictures(ocr or engine_for_process(), [open_image(content)])


def _read_pictures(engine: OcrEngine, pictures: list[Image.Image]) -> Extraction:
    first = [engine.read(p) for p in pictures]
    extraction = _fields_from_ocr(first)
    if not _needs_full_reading(extraction):
        return extraction
    return _fields_from_ocr([engine.read_fully(p, r) for p, r in zip(pictures, first)])


def _needs_full_reading(extraction: Extraction) -> bool:
    """Tesseract's page and rapidocr's second look at its lines left the total or the date unsure:
    rapidocr reads the whole page itself (costs 1-3x a tesseract run, so only then)."""
    return any(extraction.confidence.get(name, 0.0) < FULL_READING_BELOW for name in ("total", "date"))


def _fields_from_ocr(results: list[OcrResult]) -> Extraction:
    tesseract = "\n".join(r.tesseract_text for r in results)
    rapid = "\n".join(r.rapid_text for r in results)
    return extract_fields((tesseract, rapid), source="ocr", digit_trust=OCR_DIGIT_TRUST)


# --------------------------------------------------------------------------- HTML

def html_to_text(html: str) -> str:
    """Visible text of an HTML mail, one line per block and per table row, cells side by side."""
    html = html[:MAX_HTML_CHARS]
    if not html.strip():
        return ""
    parser = lxml_html.HTMLParser(no_network=True, remove_comments=True, remove_pis=True)
    try:
        doc = lxml_html.document_fromstring(html, parser=parser)
    except (etree.ParserError, ValueError):
        return ""
    for bad in doc.xpath("//script|//style|//head|//noscript|//template"):
        bad.drop_tree()
    for el in doc.iter():
        if not isinstance(el.tag, str):
            continue
        tag = el.tag.lower()
        if tag in _BLOCK_TAGS:
            el.tail = "\n" + (el.tail or "")
            if tag != "br":
                el.text = "\n" + (el.text or "")
        elif tag in ("td", "th"):
            el.tail = "  " + (el.tail or "")
    text = doc.text_content().replace("\xa0", " ")
    lines = (" ".join(line.split()) for line in text.splitlines())
    return "\n".join(line for line in lines if line)
