"""Hostile and unusable input is refused with ``ReceiptRejectedError`` and a reason, cheaply: nothing
is rendered or decoded before its size is known."""
from __future__ import annotations

import io
import struct
import time
import zlib

import pytest
from pypdf import PdfReader, PdfWriter

from core.errors import ReceiptRejectedError
from ingest.reading import MAX_PDF_PAGES, read_attachment


def refused(content: bytes, name: str = "file", mime: str = "application/octet-stream") -> str:
    with pytest.raises(ReceiptRejectedError) as info:
        read_attachment(name, content, mime)
    return str(info.value)


def blank_pdf(pages: int, *, width: float = 595, height: float = 842) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width, height)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def bomb_png(width: int, height: int, *, rows: int | None = None) -> bytes:
    """A real grayscale PNG of ``width`` x ``height`` white pixels (``rows``: only that many rows of
    data, the header still claims the full height) - a few hundred KB that decode to ``width*height`` bytes."""
    compressor = zlib.compressobj(9)
    row = b"\x00" + b"\xff" * width
    data = b"".join(compressor.compress(row) for _ in range(height if rows is None else rows)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", data) + png_chunk(b"IEND", b"")


def test_encrypted_pdf_is_refused() -> None:
    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    writer.encrypt("geheim")
    buffer = io.BytesIO()
    writer.write(buffer)
    assert "encrypted" in refused(buffer.getvalue(), "factuur.pdf", "application/pdf")


@pytest.mark.pdf
def test_pdf_with_only_an_owner_password_is_read(make_invoice_pdf) -> None:
    """Permissions-only encryption (no password to open) is common on real invoices and hides
    nothing from a reader: it is accepted. Only a PDF that needs a password is refused."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(make_invoice_pdf())))
    writer.encrypt(user_password="", owner_password="eigenaar")
    buffer = io.BytesIO()
    writer.write(buffer)
    e = read_attachment("factuur.pdf", buffer.getvalue(), "application/pdf")
    assert e.source == "pdf_text" and str(e.total) == "1193.62"


def test_pdf_with_too_many_pages_is_refused_before_anything_is_rendered() -> None:
    content = blank_pdf(MAX_PDF_PAGES + 1)     # no text layer: reading it would mean OCR of each page
    t0 = time.perf_counter()
    assert f"{MAX_PDF_PAGES + 1} pages" in refused(content, "boek.pdf", "application/pdf")
    assert time.perf_counter() - t0 < 2


def test_damaged_pdf_is_refused() -> None:
    assert "damaged" in refused(b"%PDF-1.7\n1 0 obj << /Type /Catalog >>\ntrailer garbage", "x.pdf")


def test_decompression_bomb_png_is_refused_from_its_header() -> None:
    bomb = bomb_png(10_000, 10_000)            # 100 megapixels in ~100 KB
    assert len(bomb) < 1_000_000
    t0 = time.perf_counter()
    assert "too large" in refused(bomb, "bon.png", "image/png")
    assert time.perf_counter() - t0 < 1


def test_header_that_lies_about_its_size_is_refused() -> None:
    assert "too large" in refused(bomb_png(60_000, 60_000, rows=1), "bon.png", "image/png")


@pytest.mark.parametrize("content", [
    b"\x89PNG\r\n\x1a\n" + b"\x00" * 200,
    b"\xff\xd8\xff\xe0" + b"\x13" * 200,
    b"RIFF\x00\x00\x00\x00WEBPVP8 " + b"\x00" * 50,
])
def test_image_magic_with_garbage_behind_it_is_refused(content: bytes) -> None:
    assert "image" in refused(content, "bon.jpg", "image/jpeg")


@pytest.mark.parametrize("content, reason", [
    (b"PK\x03\x04" + b"\x00" * 100, "archives"),
    (b"MZ\x90\x00" + b"\x00" * 100, "programs"),
    (b"\x7fELF\x02\x01\x01" + b"\x00" * 100, "programs"),
    (b"#!/bin/sh\nrm -rf /\n", "programs"),
    (b"\x1f\x8b\x08\x00" + b"\x00" * 50, "archives"),
    (b"just some bytes \x00\x01\x02", "unsupported"),
    (b"", "empty"),
])
def test_types_we_do_not_read_are_refused_with_a_reason(content: bytes, reason: str) -> None:
    assert reason in refused(content, "bon.pdf", "application/pdf")      # the name does not fool it


def test_oversized_file_is_refused_before_sniffing() -> None:
    assert "too large" in refused(b"%PDF-1.7\n" + b"0" * (41 * 1024 * 1024))


def test_entity_bomb_xml_is_refused() -> None:
    xml = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
           b'<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"><ID>&b;</ID></Invoice>')
    assert "DTD" in refused(xml, "invoice.xml", "application/xml")


@pytest.mark.pdf
def test_hostile_xml_inside_a_pdf_is_ignored_and_the_text_read(make_invoice_pdf) -> None:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(make_invoice_pdf())))
    writer.add_attachment("factur-x.xml", b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]>'
                          b'<rsm:CrossIndustryInvoice xmlns:rsm="urn:x">&a;</rsm:CrossIndustryInvoice>')
    buffer = io.BytesIO()
    writer.write(buffer)
    e = read_attachment("factuur.pdf", buffer.getvalue(), "application/pdf")
    assert e.source == "pdf_text" and str(e.total) == "1193.62"


def test_a_giant_blank_page_is_rendered_small_and_not_read() -> None:
    """A 5 x 5 metre page would be 3.5 gigapixels at 300 dpi; it is rendered at most 3600 px wide,
    and a blank page is not sent to OCR at all."""
    content = blank_pdf(1, width=14_400, height=14_400)
    t0 = time.perf_counter()
    e = read_attachment("scan.pdf", content, "application/pdf")
    assert e.source == "ocr" and e.total is None and e.text == ""
    assert time.perf_counter() - t0 < 5
