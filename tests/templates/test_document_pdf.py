"""PDF, preview PNG, terms appended, PDF/A-3b, and that nothing is fetched from outside."""
from __future__ import annotations

import base64
import dataclasses
import io
import socket
import threading

import pypdf
import pytest
from weasyprint import HTML
from weasyprint.urls import URLFetcher

from core import rendering
from core.document import Branding
from core.document_view import format_money
from core.errors import ValidationError
from core.rendering import (
    TEMPLATES_DIR,
    LocalResourceFetcher,
    ResourceRefusedError,
    render_html,
    render_pdf,
    render_preview_png,
)

pytestmark = pytest.mark.pdf

HOSTILE = "<img src=http://127.0.0.1:9/x>"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def pdf_text(pdf: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join(page.extract_text().replace("\xa0", " ").split()) for page in reader.pages)


def page_count(pdf: bytes) -> int:
    return len(pypdf.PdfReader(io.BytesIO(pdf)).pages)


def png_size(png: bytes) -> tuple[int, int]:
    assert png[12:16] == b"IHDR"
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


def blank_pdf(pages: int) -> bytes:
    writer = pypdf.PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.mark.parametrize(("name", "number", "total"), [
    ("invoice-standard", "2026-0042", "€ 1.193,62"),
    ("invoice-reverse-charge", "2026-0043", "€1,200.00"),
    ("quote", "OFF-2026-007", "€ 1.470,15"),
    ("credit-note", "CN-2026-0003", "-€ 490,05"),
])
def test_pdf_per_document_kind_carries_number_and_total(make_document, name, number, total):
    doc, totals = make_document(name)
    pdf = render_pdf(doc, totals)
    assert pdf.startswith(b"%PDF-")
    text = pdf_text(pdf)
    assert number in text
    assert total in text
    assert format_money(totals.total_incl if name != "credit-note" else -totals.total_incl,
                        doc.language).replace("\xa0", " ") in text


def test_pdf_text_of_the_standard_invoice(make_document):
    doc, totals = make_document("invoice-standard")
    text = pdf_text(render_pdf(doc, totals))
    for expected in ("Factuur", "Factuurnummer 2026-0042", "Factuurdatum 30 november 2026",
                     "Leverdatum 27 november 2026", "Bakkerij de Vries B.V.", "NL853746333B01", "KvK-nummer 12345678",
                     "Totaal incl. btw € 1.193,62", "NL91 ABNA 0417 1643 00", "Betalingskenmerk 2026-0042"):
        assert expected in text


def test_preview_is_a_png_of_the_requested_width(make_document):
    doc, totals = make_document("invoice-standard")
    pdf = render_pdf(doc, totals)
    png = render_preview_png(pdf)
    assert png.startswith(PNG_SIGNATURE)
    width, height = png_size(png)
    assert width == 1000 and 1400 <= height <= 1416          # A4 proportions
    assert png_size(render_preview_png(pdf, width_px=320))[0] == 320
    with pytest.raises(ValueError):
        render_preview_png(pdf, width_px=0)


def test_terms_pdf_is_appended_after_the_document(make_document):
    doc, totals = make_document("invoice-standard")
    plain = render_pdf(doc, totals)
    with_terms = render_pdf(doc, totals, terms_pdf=blank_pdf(2))
    assert page_count(with_terms) == page_count(plain) + 2
    reader = pypdf.PdfReader(io.BytesIO(with_terms))
    assert "2026-0042" in reader.pages[0].extract_text()
    assert reader.pages[-1].extract_text() == ""


def test_terms_that_are_not_a_pdf_are_refused_in_the_users_language(make_document):
    doc, totals = make_document("invoice-standard")
    with pytest.raises(ValidationError) as caught:
        render_pdf(doc, totals, terms_pdf=b"these are my terms")
    assert caught.value.field == "terms_pdf"
    assert caught.value.translated("nl") == "Het bestand met de algemene voorwaarden is geen leesbare pdf."


def test_pdf_a_3b_for_factur_x(make_document):
    doc, totals = make_document("invoice-standard")
    pdf = render_pdf(doc, totals, pdf_variant="pdf/a-3b", terms_pdf=blank_pdf(1))
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    catalog = reader.trailer["/Root"]
    assert "/OutputIntents" in catalog
    xmp = catalog["/Metadata"].get_object().get_data()
    assert b'pdfaid:part="3"' in xmp and b'pdfaid:conformance="B"' in xmp
    assert len(reader.pages) == 2
    with pytest.raises(ValueError):
        render_pdf(doc, totals, pdf_variant="pdf/z-9")


def test_concurrent_renders_from_threads(make_document):
    """Callers use asyncio.to_thread: renders from several threads at once all come out whole."""
    from concurrent.futures import ThreadPoolExecutor

    documents = [make_document(name) for name in ("invoice-standard", "quote", "credit-note", "invoice-kor")]
    with ThreadPoolExecutor(max_workers=4) as pool:
        pngs = list(pool.map(lambda pair: render_preview_png(render_pdf(*pair), width_px=200), documents))
    assert all(png.startswith(PNG_SIGNATURE) and png_size(png)[0] == 200 for png in pngs)


# --- nothing is fetched from the network or the disk at large ---------------------------------------

class ConnectionRecorder:
    """A TCP listener on 127.0.0.1 that records (and closes) every connection made to it."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.05)
        self.port = self.sock.getsockname()[1]
        self.connections: list[tuple[str, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, peer = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            self.connections.append(peer)
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()


@pytest.fixture
def recorder():
    rec = ConnectionRecorder()
    yield rec
    rec.close()


def hostile_document(make_document, port: int):
    """Hostile text in every field, and an SVG logo that pulls an image over http and from the disk."""
    url = f"http://127.0.0.1:{port}/x"
    name = f"<img src={url}>"
    logo = (f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="90" '
            f'height="30"><image href="{url}/logo.png" width="30" height="30"/>'
            f'<image xlink:href="file:///etc/passwd" x="30" width="30" height="30"/>'
            f'<style>@import url("{url}/style.css");</style></svg>').encode()
    doc, totals = make_document("invoice-standard")
    doc = dataclasses.replace(
        doc, seller=dataclasses.replace(doc.seller, trade_name=name), buyer=dataclasses.replace(doc.buyer, name=name),
        intro=f'<link rel="stylesheet" href="{url}/a.css"><iframe src="{url}/frame"></iframe>', outro=name,
        branding=Branding(logo=logo, logo_mime="image/svg+xml"),
    )
    return doc, totals, name


def test_hostile_text_renders_as_text_and_nothing_is_fetched(make_document, recorder, caplog):
    doc, totals, name = hostile_document(make_document, recorder.port)
    with caplog.at_level("WARNING", logger="weasyprint"):
        pdf = render_pdf(doc, totals)
    assert recorder.connections == []
    text = pdf_text(pdf)
    assert name in text
    assert '<link rel="stylesheet" href="http://127.0.0.1:' in text and "<iframe src=" in text
    # the SVG logo's references did reach WeasyPrint's fetcher, which refused them
    refused = [r.getMessage() for r in caplog.records if "ResourceRefusedError" in r.getMessage()]
    assert any(f"127.0.0.1:{recorder.port}/x/logo.png" in message for message in refused)
    assert any("/etc/passwd" in message for message in refused)


def test_the_recorder_does_see_an_unrestricted_fetcher(make_document, recorder):
    """Control: the same HTML through WeasyPrint's default fetcher does connect, so the test above can fail."""
    doc, totals, _ = hostile_document(make_document, recorder.port)
    HTML(string=render_html(doc, totals), base_url=TEMPLATES_DIR.as_uri() + "/",
         url_fetcher=URLFetcher(timeout=2)).write_pdf()
    assert recorder.connections


def test_an_svg_logo_cannot_add_fonts_to_the_shared_font_configuration(make_document):
    font = base64.b64encode(b"\x00\x01\x00\x00" + b"\x00" * 64).decode()
    logo = (f'<svg xmlns="http://www.w3.org/2000/svg" width="90" height="30"><style>@font-face {{ '
            f'font-family: "DejaVu Sans"; src: url(data:font/ttf;base64,{font}); }}</style>'
            f'<text y="20" font-family="DejaVu Sans">Logo</text></svg>').encode()
    doc, totals = make_document("invoice-standard", branding=Branding(logo=logo, logo_mime="image/svg+xml"))
    render_pdf(doc, totals)
    shared_font_config = rendering._weasy()[0]
    assert shared_font_config._folder is None          # WeasyPrint keeps @font-face files there


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:9/x", "https://example.com/logo.png", "ftp://example.com/a", "file:///etc/passwd",
    (TEMPLATES_DIR / ".." / "core" / "vat.py").as_uri(), "file://otherhost/templates/document.css",
    TEMPLATES_DIR.as_uri() + "/%2e%2e/core/vat.py", TEMPLATES_DIR.as_uri(), "gopher://x", "javascript:alert(1)",
])
def test_fetcher_refuses_everything_but_data_and_template_files(url):
    with pytest.raises(ResourceRefusedError):
        LocalResourceFetcher().fetch(url)


def test_fetcher_refuses_http_without_connecting(recorder):
    for scheme in ("http", "https", "ftp"):
        with pytest.raises(ResourceRefusedError):
            LocalResourceFetcher()(f"{scheme}://127.0.0.1:{recorder.port}/probe")
    assert recorder.connections == []


def test_fetcher_serves_data_uris_and_template_files():
    fetcher = LocalResourceFetcher()
    response = fetcher.fetch("data:image/png;base64," + base64.b64encode(PNG_SIGNATURE).decode())
    assert response.read() == PNG_SIGNATURE and response.content_type == "image/png"
    assert fetcher.fetch("data:,a%20b").read() == b"a b"
    css = fetcher.fetch((TEMPLATES_DIR / "document.css").as_uri())
    assert b"@page" in css.read() and css.content_type == "text/css"


def test_fetcher_refuses_a_symlink_out_of_its_root(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    secret = tmp_path / "secret.txt"
    secret.write_text("secret")
    (root / "link.txt").symlink_to(secret)
    (root / "ok.txt").write_text("ok")
    fetcher = LocalResourceFetcher(root)
    assert fetcher.fetch((root / "ok.txt").as_uri()).read() == b"ok"
    with pytest.raises(ResourceRefusedError):
        fetcher.fetch((root / "link.txt").as_uri())
