"""The reading cascade on documents that need no OCR: PDFs with a text layer (as Klerk renders
them), Factur-X PDFs (the embedded CII wins), UBL files, and webshop mails as HTML."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from core.cii import build_cii
from core.spec import parse_spec
from core.ubl import build_ubl
from core.vat import compute_totals
from ingest.reading import html_to_text, read_attachment, read_html_body, sniff
from tests.reading.conftest import EXAMPLES
from tests.reading.test_receipt_text import fixture

pytestmark = pytest.mark.pdf


def test_pdf_with_a_text_layer_is_read_without_ocr(make_invoice_pdf) -> None:
    e = read_attachment("factuur-2026-0042.pdf", make_invoice_pdf(), "application/pdf", ocr=None)
    assert e.source == "pdf_text"
    assert e.total == Decimal("1193.62")
    assert {str(v.rate): str(v.amount) for v in e.vat} == {"21": "200.50", "9": "3.17"}
    assert e.date == date(2026, 11, 30)
    assert e.invoice_number == "2026-0042"
    assert e.vendor_kvk == "12345678"
    assert e.vendor_vat_id == "NL000099998B57"
    assert e.vendor_iban == "NL91ABNA0417164300"
    assert e.vendor is not None and "Studio Vos" in e.vendor


def test_facturx_pdf_is_read_from_its_xml(make_invoice_pdf) -> None:
    e = read_attachment("factuur.pdf", make_invoice_pdf(facturx=True), "application/pdf")
    assert e.source == "cii"
    assert e.total == Decimal("1193.62") and e.net == Decimal("989.95")
    assert set(e.confidence.values()) == {1.0}


def test_ubl_attachment_is_read_exactly() -> None:
    import json

    doc = parse_spec(json.loads((EXAMPLES / "invoice-standard.json").read_text(encoding="utf-8")), base_dir=EXAMPLES)
    totals = compute_totals(doc)
    for xml, source in ((build_ubl(doc, totals), "ubl"), (build_cii(doc, totals), "cii")):
        e = read_attachment("invoice.xml", xml, "application/xml")
        assert e.source == source and e.total == Decimal("1193.62") and e.invoice_number == "2026-0042"


def test_the_type_comes_from_the_bytes_not_the_name(make_invoice_pdf) -> None:
    e = read_attachment("photo.jpg", make_invoice_pdf(), "image/jpeg")
    assert e.source == "pdf_text"
    assert sniff(b"\xef\xbb\xbf  <?xml version='1.0'?><Invoice/>") == "xml"
    assert sniff(b"<!DOCTYPE html><html><body>x</body></html>") == "html"


WEBSHOP_MAIL = """<html><head><style>td {{ color: red }}</style><script>var total = "999,99";</script></head>
<body><table><tr><td><img src="logo.png" alt="Kantoorwinkel Online"></td></tr>
<tr><td>Bedankt voor je bestelling!</td></tr>
<tr><td>Bestelnummer:</td><td>KW-4471923</td></tr>
<tr><td>Besteldatum:</td><td>2 januari 2025</td></tr>
<tr><td>Bureaustoel Ergo</td><td>1</td><td>&euro;&nbsp;189,00</td></tr>
<tr><td>Monitorarm</td><td>1</td><td>&euro;&nbsp;49,95</td></tr>
<tr><td><b>Totaal</b> (incl. btw)</td><td></td><td>&euro;&nbsp;238,95</td></tr>
<tr><td>Waarvan btw 21%</td><td></td><td>&euro;&nbsp;41,47</td></tr>
</table><p>Betaald met iDEAL</p>
<p>Kantoorwinkel Online B.V. &middot; KvK 11223344 &middot; <a href="https://www.kantoorwinkel-online.nl">www.kantoorwinkel-online.nl</a></p>
</body></html>"""


def test_webshop_mail_body() -> None:
    e = read_html_body(WEBSHOP_MAIL)
    assert e.source == "html"
    assert e.total == Decimal("238.95")                  # not the 999,99 inside the script
    assert {str(v.rate): str(v.amount) for v in e.vat} == {"21": "41.47"}
    assert e.date == date(2025, 1, 2)
    assert e.invoice_number == "KW-4471923"
    assert e.vendor is not None and "Kantoorwinkel Online" in e.vendor
    assert e.vendor_kvk == "11223344"
    assert e.currency == "EUR"
    assert e.paid_hint is True


def test_html_attachment_goes_the_same_way() -> None:
    e = read_attachment("bevestiging.html", WEBSHOP_MAIL.encode(), "text/html")
    assert e.source == "html" and e.total == Decimal("238.95")


def test_html_to_text_keeps_rows_and_drops_code() -> None:
    text = html_to_text(WEBSHOP_MAIL)
    assert "Bestelnummer: KW-4471923" in text
    assert "Totaal (incl. btw) € 238,95" in text
    assert "999" not in text and "color" not in text


def test_empty_or_textless_mail_body_reads_nothing() -> None:
    for html in ("", "<html><body><img src='x.png'></body></html>", "   "):
        e = read_html_body(html)
        assert e.source == "html" and e.total is None


def test_plain_text_fixture_and_html_agree() -> None:
    plain = fixture("nl_webshop_bevestiging.txt")
    html = "<html><body>" + "".join(f"<p>{line}</p>" for line in plain.splitlines()) + "</body></html>"
    assert read_html_body(html).total == Decimal("238.95")
