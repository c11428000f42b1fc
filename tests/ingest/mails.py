"""Test mails, built with the email package (no real person's mail is checked in)."""
from __future__ import annotations

import io
import json
import struct
import zlib
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from functools import cache

from tests.conftest import NOW, REPO

FIXTURES = REPO / "tests" / "fixtures" / "email"
SENDER = "owner@example.nl"


@cache
def ubl_invoice(number: str = "2026-0042") -> bytes:
    """A real UBL invoice (Peppol BIS 3) made by Klerk itself: the reader reads it exactly."""
    from core.spec import parse_spec
    from core.ubl import build_ubl
    from core.vat import compute_totals

    data = json.loads((REPO / "examples" / "invoice-standard.json").read_text())
    data["number"] = number
    doc = parse_spec(data)
    return build_ubl(doc, compute_totals(doc))


@cache
def text_pdf(lines: tuple[str, ...] = ("Bakkerij de Vries", "Factuur 991", "Datum 12-11-2026",
                                       "Totaal EUR 12,50", "BTW 9% EUR 1,03")) -> bytes:
    """A one-page PDF with a text layer (hand-written PDF objects, Helvetica)."""
    text = "BT /F1 14 Tf 50 780 Td 18 TL " + " ".join(f"({line}) '" for line in lines) + " ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
         b"/Resources << /Font << /F1 5 0 R >> >> >>"),
        b"<< /Length %d >>\nstream\n" % len(text) + text.encode("latin-1") + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def bomb_png(side: int = 100_000) -> bytes:
    """A PNG that claims side x side pixels in a few hundred bytes (a decompression bomb)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 10_000, 9)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    return png + b"\x00" * 5000          # above the tiny-image threshold


def mail(*, to: str, subject: str = "Bonnetje", sender: str = SENDER, text: str = "Zie bijlage.",
         html: str | None = None, attachments: tuple[tuple[str, str, bytes], ...] = (),
         headers: dict[str, str] | None = None, message_id: str | None = None) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(NOW)
    msg["Message-ID"] = message_id or make_msgid(domain="example.nl")
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(text)
    if html is not None:
        msg.add_alternative(html, subtype="html")
    for filename, mime, content in attachments:
        maintype, _, subtype = mime.partition("/")
        msg.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    return msg


def forwarded(inner: EmailMessage, *, to: str, sender: str = SENDER) -> EmailMessage:
    """A mail forwarded as an attachment (``message/rfc822``, what "forward as attachment" does)."""
    outer = mail(to=to, sender=sender, subject="Fwd: " + str(inner["Subject"]), text="Doorgestuurd.")
    outer.add_attachment(inner)
    return outer


def inline_pdf(*, to: str, pdf: bytes) -> EmailMessage:
    """A PDF inside the body (Content-Disposition: inline), as Apple Mail sends it."""
    msg = mail(to=to, subject="Factuur", text="Hierbij de factuur.")
    msg.add_attachment(pdf, maintype="application", subtype="pdf", filename="factuur.pdf", disposition="inline")
    return msg


WEBSHOP_HTML = """<html><body><table><tr><td><h1>Coolblue</h1></td></tr>
<tr><td>Bedankt voor je bestelling 90817263</td></tr><tr><td>Besteldatum: 14-11-2026</td></tr>
<tr><td>Totaal: &euro; 349,00</td></tr><tr><td>Waarvan btw 21%: &euro; 60,57</td></tr></table></body></html>"""


def fixture_mail(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def wire(msg: EmailMessage | bytes) -> bytes:
    """The bytes as an MTA sends them: CRLF line ends."""
    if isinstance(msg, bytes):
        return msg
    return msg.as_bytes(policy=msg.policy.clone(linesep="\r\n"))


def many_pages_pdf(pages: int = 20_000) -> bytes:
    """A PDF whose page tree holds ``pages`` pages (one page object, referenced over and over)."""
    kids = b" ".join([b"3 0 R"] * pages)
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % pages,
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>"]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def encrypted_pdf() -> bytes:
    import pypdf

    writer = pypdf.PdfWriter()
    writer.add_blank_page(200, 200)
    writer.encrypt("geheim")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def receipt_scan_pdf() -> bytes:
    """A PDF that is only a picture of a receipt (a scan): no text layer, OCR must read it."""
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("L", (800, 700), 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 30)
    for n, line in enumerate(["BAKKERIJ DE VRIES", "Datum 12-11-2026", "Brood 11,47", "TOTAAL EUR 12,50",
                              "BTW 9% 1,03"]):
        draw.text((40, 40 + n * 70), line, font=font, fill=0)
    out = io.BytesIO()
    image.save(out, "PDF", resolution=150)
    return out.getvalue()
