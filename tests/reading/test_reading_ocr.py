"""The reading cascade on pictures, with the real engines (tesseract + rapidocr): receipts drawn with
Pillow, saved as PNG, JPEG with an EXIF rotation, HEIC, and as the only content of a PDF."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import numpy as np
from PIL import Image, ImageDraw, ImageFont, ImageOps

from ingest.ocr import OcrEngine, open_image, prepare_for_tesseract
from ingest.page_layout import (
    TesseractLine,
    TesseractWord,
    TextBox,
    lines_from_boxes,
    skipped_header_lines,
    text_area,
)
from ingest.reading import read_attachment
from tests.reading.conftest import RECEIPT_LINES, encode

pytestmark = pytest.mark.ocr


def assert_receipt_read(e) -> None:  # type: ignore[no-untyped-def]
    assert e.source == "ocr"
    assert e.total == Decimal("14.30")
    assert {str(v.rate): str(v.amount) for v in e.vat} == {"9": "0.91", "21": "0.56"}
    assert e.net == Decimal("12.83")
    assert e.date == date(2025, 2, 21)
    assert e.vendor == "BAKKERIJ DE ZON"
    assert e.paid_hint is True
    assert e.confidence["total"] >= 0.8
    assert "Appeltaart" in e.text


def test_png_receipt(ocr_engine: OcrEngine, receipt_image) -> None:
    assert_receipt_read(read_attachment("bon.png", encode(receipt_image(), "PNG"), "image/png", ocr=ocr_engine))


def test_phone_photo_stored_sideways_with_exif_orientation(ocr_engine: OcrEngine, receipt_image) -> None:
    """Phones store the sensor's pixels and an EXIF tag saying how to turn them (6 = 90 degrees)."""
    upright = receipt_image()
    sideways = upright.transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6
    content = encode(sideways, "JPEG", quality=92, exif=exif.tobytes())
    assert open_image(content).size == upright.size
    assert_receipt_read(read_attachment("IMG_0001.jpg", content, "image/jpeg", ocr=ocr_engine))


def test_heic_photo_from_an_iphone(ocr_engine: OcrEngine, receipt_image) -> None:
    content = encode(receipt_image(), "HEIF", quality=90)
    assert content[4:12] == b"ftypheic"
    assert_receipt_read(read_attachment("IMG_0002.HEIC", content, "image/heic", ocr=ocr_engine))


def test_scanned_pdf_without_text_layer_is_read_with_ocr(ocr_engine: OcrEngine, receipt_image) -> None:
    content = encode(receipt_image(), "PDF", resolution=150)
    assert b"%PDF-" in content[:8]
    assert_receipt_read(read_attachment("scan.pdf", content, "application/pdf", ocr=ocr_engine))


def test_rapidocr_pieces_are_put_back_into_lines() -> None:
    boxes = [TextBox("TOTAAL", 60, 100, 100, 20, 0.0, 0.99), TextBox("14,30", 400, 103, 60, 20, 0.0, 0.99),
             TextBox("PIN", 40, 140, 40, 20, 0.0, 0.99), TextBox("14,30", 400, 141, 60, 20, 0.0, 0.99),
             TextBox("BAKKERIJ", 80, 20, 120, 22, 0.0, 0.99)]
    assert lines_from_boxes(boxes) == "BAKKERIJ\nTOTAAL 14,30\nPIN 14,30"


def test_skewed_rows_still_pair_label_and_amount() -> None:
    """On a photo turned by 3 degrees the amount at the right sits 18 px lower than its label."""
    boxes = [TextBox("TOTAAL", 60, 100, 100, 20, 3.0, 0.99), TextBox("14,30", 400, 118, 60, 20, 3.0, 0.99),
             TextBox("PIN", 40, 130, 40, 20, 3.0, 0.99), TextBox("14,30", 400, 149, 60, 20, 3.0, 0.99)]
    assert lines_from_boxes(boxes, skew=3.0) == "TOTAAL 14,30\nPIN 14,30"


def test_upside_down_photo_is_turned(ocr_engine: OcrEngine, receipt_image) -> None:
    content = encode(receipt_image().transpose(Image.Transpose.ROTATE_180), "PNG")
    assert_receipt_read(read_attachment("bon.png", content, "image/png", ocr=ocr_engine))


def test_photo_lying_on_its_side_without_exif_is_turned(ocr_engine: OcrEngine, receipt_image) -> None:
    content = encode(receipt_image().transpose(Image.Transpose.ROTATE_270), "PNG")
    assert_receipt_read(read_attachment("bon.png", content, "image/png", ocr=ocr_engine))


def test_a_batch_is_read_over_worker_processes_in_order(receipt_image) -> None:
    from core.errors import ReceiptRejectedError
    from ingest.reading import read_attachments_in_pool

    batch = [("bon.png", encode(receipt_image(), "PNG"), "image/png"),
             ("bonnen.zip", b"PK\x03\x04" + b"\x00" * 32, "application/zip"),
             ("bon.html", b"<p>WINKEL</p><p>Totaal 3,50</p>", "text/html")]
    results = read_attachments_in_pool(batch, workers=2)
    assert_receipt_read(results[0])
    assert isinstance(results[1], ReceiptRejectedError) and "archives" in str(results[1])
    assert results[2].source == "html" and results[2].total == Decimal("3.50")


def test_digit_groups_are_the_numbers_of_a_line_with_their_neighbours_joined() -> None:
    """What rapidocr reads again on a total or date line: each number, where tesseract split one
    ("40 ,00") joined into one piece."""
    words = (TesseractWord("CONTANT", 10, 100, 130, 130), TesseractWord("40", 400, 100, 430, 130),
             TesseractWord(",00", 440, 100, 490, 130), TesseractWord("14-02-2025", 560, 100, 700, 130),
             TesseractWord("Kassa", 720, 100, 790, 130), TesseractWord("3", 800, 100, 815, 130))
    groups = TesseractLine(words).digit_groups()
    assert [(g.text, g.left, g.right) for g in groups] == [("40 ,00", 400, 490), ("14-02-2025", 560, 700),
                                                           ("3", 800, 815)]


def test_text_area_finds_a_receipt_on_a_scanned_page(receipt_image) -> None:
    page = Image.new("RGB", (2480, 3508), (235, 235, 230))
    page.paste(receipt_image(), (1500, 200))
    left, top, right, bottom = text_area(page)
    assert left <= 1500 and top <= 200 and right >= 1500 + 640 and bottom >= 200 + 440
    assert (right - left) * (bottom - top) < 0.2 * page.width * page.height


def test_text_area_never_cuts_into_the_text(receipt_image) -> None:
    receipt = receipt_image()
    ink = ImageOps.invert(receipt.convert("L")).point(lambda v: 255 if v > 100 else 0).getbbox()
    left, top, right, bottom = text_area(receipt)
    assert left <= ink[0] and top <= ink[1] and right >= ink[2] and bottom >= ink[3]


def test_rapidocr_reads_the_whole_page_only_when_the_date_or_total_stays_unsure(ocr_engine: OcrEngine,
                                                                               receipt_image) -> None:
    before = ocr_engine.full_readings
    assert_receipt_read(read_attachment("bon.png", encode(receipt_image(), "PNG"), "image/png", ocr=ocr_engine))
    assert ocr_engine.full_readings == before                     # clear total and date: one pass
    no_date = [line for line in RECEIPT_LINES if not line.startswith("Datum")]
    e = read_attachment("bon.png", encode(receipt_image(no_date), "PNG"), "image/png", ocr=ocr_engine)
    assert e.total == Decimal("14.30") and e.date is None
    assert ocr_engine.full_readings == before + 1                 # no date found: the whole page again


def receipt_with_headline(headline: str = "BAKKERIJ DE ZON", *, size: int = 60) -> Image.Image:
    """The test receipt with its name as a headline, far larger than the rest (as shops print it)."""
    img = Image.new("RGB", (900, 120 + size + 36 * len(RECEIPT_LINES)), "white")
    draw = ImageDraw.Draw(img)
    draw.text((40, 20), headline, font=ImageFont.load_default(size=size), fill=(20, 20, 20))
    y = 40 + size
    for line in RECEIPT_LINES[1:]:
        draw.text((40, y), line, font=ImageFont.load_default(size=24), fill=(20, 20, 20))
        y += 36
    return img


def test_a_headline_tesseract_leaves_out_is_read_by_rapidocr(ocr_engine: OcrEngine) -> None:
    """Tesseract (psm 6) drops a line set much larger than the others; the band of print no line of
    its covers is read by rapidocr and put back in its place, in both texts."""
    img = receipt_with_headline()
    gray = prepare_for_tesseract(img.crop(text_area(img)))
    lines, _ = ocr_engine.read_tesseract_lines(gray)
    assert not any("ZON" in line.text for line in lines)          # the case: tesseract skipped it
    bands = skipped_header_lines(gray, lines)
    assert len(bands) == 1 and bands[0].top < lines[0].box.top
    read = ocr_engine.read(img)
    assert read.tesseract_text.splitlines()[0] == read.rapid_text.splitlines()[0] == "BAKKERIJ DE ZON"
    assert read.tesseract_text.splitlines()[1].startswith("Marktstraat 7")
    e = read_attachment("bon.png", encode(img, "PNG"), "image/png", ocr=ocr_engine)
    assert (e.vendor, e.total, e.date) == ("BAKKERIJ DE ZON", Decimal("14.30"), date(2025, 2, 21))


def test_borders_shadows_and_specks_are_no_skipped_lines(ocr_engine: OcrEngine, receipt_image) -> None:
    receipt = receipt_image()
    page = Image.new("RGB", (receipt.width, receipt.height + 200), "white")
    page.paste(receipt, (0, 200))
    draw = ImageDraw.Draw(page)
    draw.rectangle((0, 10, page.width, 30), fill=(0, 0, 0))                 # a black bar edge to edge
    for x in range(0, page.width, 20):
        draw.rectangle((x, 50, x + 8, 70), fill=(0, 0, 0))                    # a perforation, edge to edge
    rng = np.random.default_rng(7)
    for x, y in zip(rng.integers(20, page.width - 20, 3000), rng.integers(100, 180, 3000)):
        draw.point((int(x), int(y)), fill=(30, 30, 30))                       # dust: too thin to be print
    gray = prepare_for_tesseract(page)
    lines, _ = ocr_engine.read_tesseract_lines(gray)
    assert any("BAKKERIJ" in line.text for line in lines)
    assert skipped_header_lines(gray, lines) == []
    assert skipped_header_lines(gray, []) == []
