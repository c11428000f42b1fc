"""Documents people can send: the Jinja2 environment and WeasyPrint (view-model -> HTML -> PDF -> PNG).

Nothing is fetched from the network or the disk at large: WeasyPrint gets a ``LocalResourceFetcher``
that serves ``data:`` URIs and files inside ``templates/`` and refuses everything else. Every text of
the user is escaped by Jinja2's autoescape, so a name like ``<img src=http://…>`` is shown as text.

WeasyPrint, its font configuration and pdfium are shared by the whole process and not thread-safe
(pango's font map, pdfium's global state); one lock serialises them, so callers may use
``asyncio.to_thread`` freely.
"""
from __future__ import annotations

import base64
import functools
import io
import mimetypes
import threading
from pathlib import Path
from urllib.parse import unquote, unquote_to_bytes, urlsplit

import jinja2
import pypdf
import pypdfium2 as pdfium
import segno
from markupsafe import Markup
from pypdf.errors import PdfReadError
from weasyprint import CSS, HTML
from weasyprint.pdf import VARIANTS
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

from core.document import DocumentData
from core.document_view import (
    build_view,
    format_date,
    format_iban,
    format_money,
    format_percent,
    format_quantity,
)
from core.errors import CoreError, ValidationError
from core.vat import Totals

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
DOCUMENT_TEMPLATE = "document.html"
_LOCK = threading.Lock()


class ResourceRefusedError(CoreError):
    """A document tried to load something other than a data: URI or a file of ``templates/``."""


# --- Jinja2 -----------------------------------------------------------------------------------------

@functools.cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR), autoescape=True,
        undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
    )
    env.filters.update(money=format_money, date=format_date, quantity=format_quantity,
                       percent=format_percent, iban=format_iban, girocode=girocode_svg)
    return env


def epc_qr(payload: str) -> segno.QRCode:
    """The QR code of an EPC payload (``core.document_view.epc_payload``): error level M and no
    boost, as the EPC standard asks; the bytes in the charset the payload's third line names."""
    encoding = "iso-8859-1" if payload.split("\n")[2] == "2" else "utf-8"
    return segno.make_qr(payload.encode(encoding), error="m", boost_error=False)


@functools.lru_cache(maxsize=256)
def girocode_svg(payload: str) -> Markup:
    """The GiroCode as inline SVG (cached: one invoice is rendered for PDF, preview and Factur-X)."""
    svg = epc_qr(payload).svg_inline(border=0, omitsize=True, dark="#111111", svgclass="qr", lineclass=None)
    return Markup(svg)  # segno output: the modules as one path, no text of ours


def render_html(doc: DocumentData, totals: Totals) -> str:
    """The document as self-contained HTML (``templates/document.html`` with ``document.css`` inlined)."""
    return _document_html(doc, totals, inline_css=True)


def _document_html(doc: DocumentData, totals: Totals, *, inline_css: bool) -> str:
    template = environment().get_template(DOCUMENT_TEMPLATE)
    return template.render(view=build_view(doc, totals), inline_css=inline_css)


# --- resources --------------------------------------------------------------------------------------

class LocalResourceFetcher(URLFetcher):
    """Serves ``data:`` URIs and regular files inside ``root``; refuses every other URL.

    http, https, ftp, file outside ``root`` (also through ``..`` or a symlink), file on another
    host: ``ResourceRefusedError`` before anything is opened. WeasyPrint then logs a warning and
    renders without the resource.
    """

    def __init__(self, root: Path = TEMPLATES_DIR) -> None:
        super().__init__(timeout=1, allowed_protocols=("data", "file"), allow_redirects=False)
        self.root = root.resolve()

    def fetch(self, url: str, headers: object = None) -> URLFetcherResponse:
        scheme, _, rest = url.partition(":")
        scheme = scheme.lower()
        if scheme == "data":
            return self._data(url, rest)
        if scheme == "file":
            return self._file(url)
        raise ResourceRefusedError(f"refused to fetch {url[:80]!r}: only data: and template files")

    @staticmethod
    def _data(url: str, rest: str) -> URLFetcherResponse:
        header, comma, payload = rest.partition(",")
        if not comma:
            raise ResourceRefusedError("malformed data: URI")
        params = header.split(";")
        body = unquote_to_bytes(payload)
        if params[-1].strip().lower() == "base64":
            body = base64.b64decode(body)
            params = params[:-1]
        mime = params[0].strip() or "text/plain"
        return URLFetcherResponse(url, body, {"Content-Type": mime})

    def _file(self, url: str) -> URLFetcherResponse:
        parts = urlsplit(url)
        if parts.netloc not in ("", "localhost"):
            raise ResourceRefusedError(f"refused file on another host: {parts.netloc[:40]!r}")
        path = Path(unquote(parts.path)).resolve()
        if not path.is_relative_to(self.root) or not path.is_file():
            raise ResourceRefusedError(f"refused file outside the templates: {str(path)[:80]!r}")
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(path.as_uri(), path.read_bytes(), {"Content-Type": mime})


@functools.cache
def _weasy() -> tuple[FontConfiguration, LocalResourceFetcher, CSS]:
    """One font configuration, one fetcher and ``document.css`` parsed once for the process:
    fontconfig set-up and parsing the stylesheet (selectors compiled) are not free."""
    font_config, fetcher = FontConfiguration(), LocalResourceFetcher()
    css = CSS(string=(TEMPLATES_DIR / "document.css").read_text(encoding="utf-8"),
              base_url=TEMPLATES_DIR.as_uri() + "/", url_fetcher=fetcher, font_config=font_config)
    return font_config, fetcher, css


# --- PDF --------------------------------------------------------------------------------------------

def render_pdf(doc: DocumentData, totals: Totals, *, terms_pdf: bytes | None = None,
               pdf_variant: str | None = None) -> bytes:
    """The document as PDF bytes; ``terms_pdf`` (the seller's terms and conditions) appended after
    its pages. ``pdf_variant`` is a WeasyPrint variant such as ``"pdf/a-3b"`` (Factur-X)."""
    if pdf_variant is not None and pdf_variant not in VARIANTS:
        raise ValueError(f"unknown PDF variant {pdf_variant!r}; one of {sorted(VARIANTS)}")
    # An SVG logo may carry @font-face rules, which WeasyPrint adds to the font configuration it is
    # given: render it with a configuration of its own so it cannot restyle other documents.
    own_fonts = bool(doc.branding.logo) and doc.branding.logo_mime == "image/svg+xml"
    pdf = _html_to_pdf(_document_html(doc, totals, inline_css=False), pdf_variant=pdf_variant,
                       own_fonts=own_fonts)
    if terms_pdf:
        pdf = append_pdf(pdf, terms_pdf)
    return pdf


def _html_to_pdf(html: str, *, pdf_variant: str | None, own_fonts: bool = False) -> bytes:
    """WeasyPrint with the shared font configuration (or a fresh one), the pre-parsed stylesheet and
    the local-only fetcher (``html`` must not carry the stylesheet itself)."""
    font_config, fetcher, css = _weasy()
    with _LOCK:
        if own_fonts:
            font_config = FontConfiguration()
        document = HTML(string=html, base_url=TEMPLATES_DIR.as_uri() + "/", url_fetcher=fetcher)
        return document.write_pdf(stylesheets=[css], font_config=font_config, pdf_variant=pdf_variant)


def append_pdf(pdf: bytes, extra: bytes) -> bytes:
    """``pdf`` followed by every page of ``extra``; the first document's catalogue (XMP metadata,
    PDF/A output intent) is kept. Raises ``ValidationError`` when ``extra`` is not a readable PDF."""
    try:
        extra_reader = pypdf.PdfReader(io.BytesIO(extra))
        if extra_reader.is_encrypted:
            raise ValidationError("terms_pdf", "The terms and conditions PDF is encrypted.")
        extra_pages = len(extra_reader.pages)
    except (PdfReadError, ValueError) as exc:
        raise ValidationError("terms_pdf", "The terms and conditions file is not a readable PDF.") from exc
    if extra_pages == 0:
        raise ValidationError("terms_pdf", "The terms and conditions file is not a readable PDF.")
    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(pdf)))
    writer.append(extra_reader)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


# --- preview ----------------------------------------------------------------------------------------

def render_preview_png(pdf: bytes, *, width_px: int = 1000) -> bytes:
    """Page 1 of ``pdf`` as a PNG ``width_px`` wide (the height follows the page's proportions)."""
    if not 16 <= width_px <= 4000:
        raise ValueError(f"width_px must be between 16 and 4000, not {width_px}")
    with _LOCK:
        document = pdfium.PdfDocument(pdf)
        try:
            page = document[0]
            bitmap = page.render(scale=width_px / page.get_width(), may_draw_forms=False)
            image = bitmap.to_pil()
        finally:
            document.close()
    if image.width != width_px:  # pdfium rounds the size up; only the width is promised
        image = image.resize((width_px, max(1, round(image.height * width_px / image.width))))
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=1)  # level 1: a third of the time of 6, same size
    return out.getvalue()
