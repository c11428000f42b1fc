"""The document HTML: every art. 35a Wet OB field, babel formatting, the VAT treatments, both languages."""
from __future__ import annotations

import dataclasses
from decimal import Decimal
from pathlib import Path

import pytest

from core.document import Branding, DocumentKind, Line
from core.document_view import format_date, format_iban, format_money, format_quantity
from core.rendering import render_html

HOSTILE = "<img src=http://127.0.0.1:9/x>"
EXAMPLE_NAMES = sorted(p.stem for p in (Path(__file__).resolve().parents[2] / "examples").glob("*.json"))


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
@pytest.mark.parametrize("language", ["nl", "en"])
def test_every_example_shows_the_art_35a_fields(make_document, text_of, name, language):
    doc, totals = make_document(name, language=language)
    text = text_of(render_html(doc, totals))
    sign = -1 if doc.kind is DocumentKind.CREDIT_NOTE else 1

    def money(value: Decimal) -> str:
        return format_money(sign * value, language).replace("\xa0", " ")

    seller, buyer = doc.seller, doc.buyer
    for value in (seller.name, seller.display_name, seller.street, f"{seller.postcode} {seller.city}",
                  seller.kvk, seller.vat_id, buyer.name, buyer.street, f"{buyer.postcode} {buyer.city}"):
        assert value in text
    if buyer.vat_id:
        assert buyer.vat_id in text
    assert doc.number in text
    assert format_date(doc.issue_date, language) in text
    if doc.delivery_date:
        assert format_date(doc.delivery_date, language) in text
    for line, net in zip(doc.lines, totals.line_nets):
        assert line.description in text
        assert f"{format_quantity(line.quantity, language)} {line.unit}" in text
        assert money(line.unit_price) in text
        assert money(net) in text
    assert money(totals.total_incl) in text
    for sub in totals.subtotals:
        if doc.vat_treatment.value != "kor":
            assert money(sub.base) in text
            assert money(sub.vat) in text
        text_for_language = sub.exemption_text_nl if language == "nl" else sub.exemption_text_en
        assert text_for_language in text


def test_standard_invoice_in_dutch(make_document, text_of):
    doc, totals = make_document("invoice-standard")
    html = render_html(doc, totals)
    text = text_of(html)
    assert '<html lang="nl">' in html
    for label in ("Factuur", "Factuurnummer 2026-0042", "Factuurdatum 30 november 2026",
                  "Leverdatum 27 november 2026", "Vervaldatum 14 december 2026", "Omschrijving", "Aantal",
                  "Prijs", "Korting", "Btw", "Bedrag", "Factuuradres", "KvK-nummer 12345678",
                  "Btw-id NL000099998B57", "Btw-id NL853746333B01"):
        assert label in text
    # lines: quantity + unit, unit price excl. VAT, line discount, rate, line amount
    assert "Logo-ontwerp 1 stuk € 450,00 10% 21% € 405,00" in text
    assert "Advies huisstijl 8 uur € 75,00 21% € 600,00" in text
    assert "Drukwerk boekjes 3 stuk € 12,35 9% € 37,05" in text
    # VAT per rate: rate, base excl. VAT, VAT amount
    assert "Btw-specificatie Tarief Bedrag excl. btw Btw-bedrag 21% € 954,75 € 200,50 9% € 35,20 € 3,17" in text
    assert ("Subtotaal € 1.042,05 Korting 5% -€ 52,10 Totaal excl. btw € 989,95 Btw € 203,67 "
            "Totaal incl. btw € 1.193,62") in text
    # payment
    assert "Te betalen € 1.193,62" in text
    assert "IBAN NL91 ABNA 0417 1643 00" in text
    assert "BIC ABNANL2A" in text
    assert "Ten name van Studio Vos" in text
    assert "Betalingskenmerk 2026-0042" in text
    assert "binnen 14 dagen" in text
    assert "Scan om te betalen" in text and 'class="qr"' in html
    assert "Zoals afgesproken factureer ik de werkzaamheden van november." in text
    assert "Bedankt voor de prettige samenwerking!" in text
    assert "Pagina" in text


def test_money_is_in_the_document_currency_format_with_a_no_break_space(make_document):
    doc, totals = make_document("invoice-standard")
    html = render_html(doc, totals)
    assert "€\xa01.193,62" in html
    assert "-€\xa052,10" in html


def test_standard_invoice_in_english(make_document, text_of):
    doc, totals = make_document("invoice-standard", language="en")
    text = text_of(render_html(doc, totals))
    for label in ("Invoice number 2026-0042", "Invoice date 30 November 2026", "Delivery date 27 November 2026",
                  "Due date 14 December 2026", "Description", "Quantity", "Price", "VAT", "Amount",
                  "Total excl. VAT €989.95", "Total incl. VAT €1,193.62", "Discount 5% -€52.10",
                  "Payment reference 2026-0042", "Account holder Studio Vos"):
        assert label in text


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_no_english_label_leaks_into_the_dutch_document(make_document, text_of, name):
    doc, totals = make_document(name, language="nl", amount_paid=Decimal(1), payment_link="https://pay.example/x",
                                buyer_reference="PO-1", quote_reference="OFF-1")
    text = text_of(render_html(doc, totals))
    for english in ("Invoice", "Quote", "Credit note", "Due date", "Description", "Quantity", "Amount",
                    "Total", "Payment", "Page", "Reverse charge", "Account holder", "Scan to pay", "Bill to",
                    "reference", "Already paid", "Accepted", "Signature", "VAT"):
        assert english not in text, english


def test_reverse_charge_shows_btw_verlegd_and_the_buyers_vat_id(make_document, text_of):
    doc, totals = make_document("invoice-reverse-charge")          # English, buyer in Germany
    text = text_of(render_html(doc, totals))
    assert "Reverse charge (btw verlegd)" in text
    assert "Customer VAT ID: DE136695976" in text
    assert "VAT ID DE136695976" in text
    assert "Design consultancy 2 day €600.00 reverse charge €1,200.00" in text
    assert "VAT reverse-charged €1,200.00 €0.00" in text
    assert "Total €1,200.00" in text and "Total incl. VAT" not in text
    assert "Germany" in text and "Netherlands" in text

    doc, totals = make_document("invoice-reverse-charge", language="nl")
    text = text_of(render_html(doc, totals))
    assert "Btw verlegd" in text
    assert "Btw-id afnemer: DE136695976" in text
    assert "Duitsland" in text


def test_kor_invoice_has_the_kor_note_and_no_vat_line(make_document, text_of):
    doc, totals = make_document("invoice-kor")
    html = render_html(doc, totals)
    text = text_of(html)
    assert "Vrijgesteld van btw op grond van de kleineondernemersregeling (KOR)" in text
    assert "Totaal € 185,00" in text
    for absent in ("Totaal incl. btw", "Totaal excl. btw", "Btw-specificatie", "Btw-bedrag"):
        assert absent not in text
    assert ">Btw</th>" not in html          # neither a VAT column nor a VAT row in the totals
    assert "Fotoshoot gezin 1 sessie € 185,00 € 185,00" in text

    doc, totals = make_document("invoice-kor", language="en")
    text = text_of(render_html(doc, totals))
    assert "Exempt from VAT under the Dutch small business scheme (KOR)" in text
    assert "Total €185.00" in text and "Total incl. VAT" not in text


@pytest.mark.parametrize(("name", "language", "expected"), [
    ("invoice-intra-eu-goods", "en", "Intra-community supply of goods, VAT 0% (art. 138 VAT Directive)"),
    ("invoice-intra-eu-goods", "nl", "Intracommunautaire levering, 0% btw (art. 138 Btw-richtlijn)"),
    ("invoice-export", "en", "Export outside the EU, VAT 0%"),
    ("invoice-exempt", "nl", "Vrijgesteld van btw (art. 11 Wet OB)"),
])
def test_zero_rated_and_exempt_treatments_say_why(make_document, text_of, name, language, expected):
    doc, totals = make_document(name, language=language)
    assert expected in text_of(render_html(doc, totals))


def test_intra_eu_goods_names_the_buyers_vat_id(make_document, text_of):
    doc, totals = make_document("invoice-intra-eu-goods")
    text = text_of(render_html(doc, totals))
    assert "Customer VAT ID: BE0403019261" in text
    assert "0% intra-EU supply €462.50 €0.00" in text
    assert "Belgium" in text


def test_credit_note_references_the_invoice_and_shows_credited_amounts(make_document, text_of):
    doc, totals = make_document("credit-note")
    html = render_html(doc, totals)
    text = text_of(html)
    assert "Creditfactuur" in text
    assert "Creditfactuurnummer CN-2026-0003" in text
    assert "Betreft factuur 2026-0042 van 30 november 2026" in text
    assert "Deze creditfactuur corrigeert factuur 2026-0042 van 30 november 2026." in text
    assert "-€ 405,00" in text and "-€ 85,05" in text
    assert "Totaal incl. btw -€ 490,05" in text
    assert "Betaalgegevens" not in text and "<svg" not in html and "Vervaldatum" not in text

    doc, totals = make_document("credit-note", language="en")
    text = text_of(render_html(doc, totals))
    assert "Credit note number CN-2026-0003" in text
    assert "Original invoice 2026-0042 of 30 November 2026" in text
    assert "Total incl. VAT -€490.05" in text


def test_quote_shows_valid_until_and_no_payment_block(make_document, text_of):
    doc, totals = make_document("quote")
    html = render_html(doc, totals)
    text = text_of(html)
    assert text.count("Offerte") >= 2
    assert "Offertenummer OFF-2026-007" in text
    assert "Offertedatum 30 november 2026" in text
    assert "Geldig tot 30 december 2026" in text
    assert "Deze offerte is geldig tot en met 30 december 2026." in text
    assert "Totaal incl. btw € 1.470,15" in text
    assert "Voor akkoord" in text and "Handtekening" in text
    assert "Betaalgegevens" not in text and "<svg" not in html and "Vervaldatum" not in text

    doc, totals = make_document("quote", language="en")
    assert "Valid until 30 December 2026" in text_of(render_html(doc, totals))


@pytest.mark.parametrize(("language", "mark", "number_label"), [("nl", "CONCEPT", "Factuurnummer"),
                                                                 ("en", "DRAFT", "Invoice number")])
def test_a_document_without_number_is_marked_as_draft(make_document, text_of, language, mark, number_label):
    doc, totals = make_document("invoice-standard", number=None, language=language)
    html = render_html(doc, totals)
    text = text_of(html)
    assert mark in text
    assert number_label not in text
    assert "<svg" not in html            # no GiroCode without a reference to quote

    numbered, totals = make_document("invoice-standard", language=language)
    assert mark not in text_of(render_html(numbered, totals))


def test_partly_paid_invoice_shows_what_is_left(make_document, text_of):
    doc, totals = make_document("invoice-standard", amount_paid=Decimal("193.62"),
                                payment_reference="RF18539007547034", payment_link="https://pay.example/i/42?a=1&b=2")
    html = render_html(doc, totals)
    text = text_of(html)
    assert "Totaal incl. btw € 1.193,62 Reeds betaald -€ 193,62 Te betalen € 1.000,00" in text
    assert "Betalingskenmerk RF18539007547034" in text
    assert '<a href="https://pay.example/i/42?a=1&amp;b=2">' in html
    assert "Direct online betalen" in text


def test_fully_paid_invoice_has_no_payment_block(make_document, text_of):
    doc, totals = make_document("invoice-standard", amount_paid=Decimal("1193.62"))
    html = render_html(doc, totals)
    text = text_of(html)
    assert "Deze factuur is al betaald." in text
    assert "Betaalgegevens" not in text and "<svg" not in html


def test_a_payment_link_that_is_not_http_is_not_made_a_link(make_document):
    doc, totals = make_document("invoice-standard", payment_link="javascript:alert(1)")
    html = render_html(doc, totals)
    assert "javascript:" not in html
    assert "<a " not in html


def test_hostile_text_is_escaped_everywhere(make_document, text_of):
    doc, totals = make_document("invoice-standard")
    seller = dataclasses.replace(doc.seller, name=HOSTILE, trade_name=HOSTILE + "<b>", street=HOSTILE,
                                 email=HOSTILE, website='"><script>alert(1)</script>')
    buyer = dataclasses.replace(doc.buyer, name=HOSTILE, city=HOSTILE, vat_id=HOSTILE)
    line = Line(description=HOSTILE, quantity=Decimal(1), unit="<u>", unit_price=Decimal(10), vat_rate=Decimal(21))
    doc = dataclasses.replace(doc, seller=seller, buyer=buyer, lines=(line,), intro=HOSTILE, outro=HOSTILE,
                              number="<i>1</i>", buyer_reference=HOSTILE, payment_reference=HOSTILE)
    html = render_html(doc, dataclasses.replace(totals, line_nets=(Decimal(10),)))
    assert "<img" not in html and "<script" not in html and "<u>" not in html and "<i>" not in html
    assert "&lt;img src=http://127.0.0.1:9/x&gt;" in html
    text = text_of(html)
    assert text.count(HOSTILE) >= 8
    assert "<i>1</i>" in text


def test_house_colour_is_used_and_an_invalid_one_is_ignored(make_document):
    doc, totals = make_document("invoice-standard", branding=Branding(color="#AA3300"))
    assert "--house: #aa3300" in render_html(doc, totals)
    doc, totals = make_document("invoice-standard", branding=Branding(color="red;} body{background:url(http://x)}"))
    html = render_html(doc, totals)
    assert "url(http://x)" not in html
    assert "--house: #1f4e79" in html


def test_logo_is_embedded_as_a_data_uri(make_document):
    doc, totals = make_document("invoice-standard", branding=Branding(logo=b"\x89PNG\r\n\x1a\nfake",
                                                                      logo_mime="image/png"))
    html = render_html(doc, totals)
    assert '<img class="logo" src="data:image/png;base64,iVBORw0KGgpmYWtl"' in html
    doc, totals = make_document("invoice-standard", branding=Branding(logo=b"x", logo_mime="text/html"))
    assert 'class="logo"' not in render_html(doc, totals)


def test_filters_are_registered_for_other_templates(make_document):
    from core.rendering import environment

    template = environment().from_string("{{ amount|money('nl') }} {{ day|date('en') }} {{ iban|iban }}")
    doc, _ = make_document("invoice-standard")
    out = template.render(amount=Decimal("-1234.5"), day=doc.issue_date, iban="nl91abna0417164300")
    assert out == "-€\xa01.234,50 30 November 2026 NL91 ABNA 0417 1643 00"
    assert format_iban("NL91ABNA0417164300") == "NL91 ABNA 0417 1643 00"
