"""Fields from receipt and invoice text (``core.receipt_text``): plain cases and the ``.txt`` fixtures
in ``tests/fixtures/receipts`` (written for these tests: Dutch, German and English layouts)."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from core.receipt_text import extract_fields, find_amounts, find_dates, lines_to_check
from core.receipt_vendor import name_lines

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "receipts"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def vat_of(extraction) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {str(v.rate): str(v.amount) for v in extraction.vat}


# --------------------------------------------------------------------------- amounts and dates

@pytest.mark.parametrize("text, expected", [
    ("TOTAAL 1.234,56", ["1234.56"]),
    ("Grand Total 1,234.56", ["1234.56"]),
    ("€ 12,50 en EUR 3.10", ["12.50", "3.10"]),
    ("RM24.23", ["24.23"]),
    ("Rückgeld -2,84", ["-2.84"]),
    ("Pfand 0,25-", ["-0.25"]),
    ("BARGELD 40 ,00", ["40.00"]),
    ("C 7,00% 17,33 1,21 18,54", ["17.33", "1.21", "18.54"]),     # the rate is no amount
    ("Datum 02.03.2020 09:48", []),                                # neither is a date or a time
    ("Bon 004521 Kassa 3", []),
    ("1.234.56", []),                                              # separators must differ
    ("TOTAAL 12,5O", ["12.50"]),                                   # OCR read the last 0 as O
    ("TOTAL RM9.OO", ["9.00"]),
    ("Summe l4,95", ["14.95"]),                                    # ... and 1 as l
    ("Wall,12 3,50", ["3.50"]),                                    # not inside a word
    ("Te betalen: - 51,88", ["51.88"]),                            # a dash after a label is no minus
    ("Korting - 1,50", ["-1.50"]),
])
def test_amounts_in_both_notations_and_not_dates_or_rates(text: str, expected: list[str]) -> None:
    assert [str(a.value) for a in find_amounts(text)] == expected


@pytest.mark.parametrize("text, expected", [
    ("Datum: 14-03-2025", date(2025, 3, 14)),
    ("05.06.2024 08:13 Uhr", date(2024, 6, 5)),
    ("07.04.20 14:37", date(2020, 4, 7)),
    ("18.05.202016:07 2171/3239735", date(2020, 5, 18)),           # OCR glued date and time
    ("02.03.2015:59", date(2020, 3, 2)),                           # 02.03.20 15:59, glued
    ("2020-11-21", date(2020, 11, 21)),
    ("Factuurdatum: 3 februari 2025", date(2025, 2, 3)),
    ("18. April 2014", date(2014, 4, 18)),
    ("02 Apr 2018 18:31", date(2018, 4, 2)),
    ("14/Jun/2017 08:34", date(2017, 6, 14)),
    ("le 13 novembre 2017", date(2017, 11, 13)),
    ("March 5, 2024", date(2024, 3, 5)),
    ("12/31/2024", date(2024, 12, 31)),                            # month first only when it must be
])
def test_dates_in_dutch_german_english_and_french(text: str, expected: date) -> None:
    assert find_dates(text)[0] == expected


def test_impossible_dates_are_not_dates() -> None:
    assert find_dates("31.02.2024 and 2024-13-01 and 00.00.0000") == []


def test_ocr_noise_with_spaces_and_a_short_year_is_no_date() -> None:
    assert find_dates("_ [3.4 .21_ Datum 17.06.21 10:02") == [date(2021, 6, 17)]


# --------------------------------------------------------------------------- whole documents

def test_dutch_supermarket_receipt_with_9_and_21_percent() -> None:
    e = extract_fields(fixture("nl_supermarkt_pin.txt"))
    assert e.total == Decimal("30.90")
    assert vat_of(e) == {"9": "0.88", "21": "3.52"}
    assert {str(v.rate): str(v.base) for v in e.vat} == {"9": "9.75", "21": "16.75"}
    assert e.net == Decimal("26.50")
    assert e.date == date(2025, 3, 14)
    assert e.vendor == "BUURTSUPER DE LINDE"
    assert e.vendor_kvk == "12345678"
    assert e.vendor_vat_id == "NL853746333B01"
    assert e.paid_hint is True                       # PIN
    assert e.confidence["total"] >= 0.8 and e.confidence["net"] >= 0.8


def test_dutch_invoice_takes_the_seller_not_the_customer() -> None:
    e = extract_fields(fixture("nl_factuur_tekstlaag.txt"))
    assert e.total == Decimal("1052.70")
    assert vat_of(e) == {"21": "182.70"}
    assert e.net == Decimal("870.00")
    assert e.date == date(2025, 2, 3)                # the invoice date, not the due date
    assert e.invoice_number == "2025-017"
    assert e.vendor == "Fotografie Jansen"
    assert e.vendor_kvk == "87654321"
    assert e.vendor_vat_id == "NL000099998B57"        # not the customer's btw-id
    assert e.vendor_iban == "NL91ABNA0417164300"
    assert e.paid_hint is False                       # "gelieve ... over te maken"


def test_german_cash_receipt() -> None:
    e = extract_fields(fixture("de_kassenbon_bar.txt"))
    assert e.total == Decimal("11.00")                # not the 20,00 handed over
    assert vat_of(e) == {"7": "0.41", "19": "0.77"}
    assert e.date == date(2024, 6, 5)
    assert e.vendor == "BÄCKEREI KORNBLUME GmbH"
    assert e.vendor_vat_id == "DE136695976"
    assert e.currency == "EUR"
    assert e.paid_hint is True


def test_english_receipt_with_thousands_and_change() -> None:
    e = extract_fields(fixture("en_receipt_grand_total.txt"))
    assert e.total == Decimal("1216.49")
    assert vat_of(e) == {"20": "202.75"}
    assert e.net == Decimal("1013.74")
    assert e.date == date(2024, 11, 21)
    assert e.vendor == "HARBOUR BOOKS LTD"
    assert e.invoice_number == "88-2291"
    assert e.currency == "GBP"


def test_webshop_confirmation_falls_back_on_the_order_number() -> None:
    e = extract_fields(fixture("nl_webshop_bevestiging.txt"), source="html")
    assert e.source == "html"
    assert e.total == Decimal("238.95")
    assert vat_of(e) == {"21": "41.47"}               # not "Totaal (incl. 21% btw) 238,95"
    assert e.date == date(2025, 1, 2)
    assert e.invoice_number == "KW-4471923"
    assert e.confidence["invoice_number"] < 0.6       # an order number is only a stand-in
    assert e.vendor is not None and "Kantoorwinkel Online" in e.vendor
    assert e.paid_hint is True


def test_where_readings_disagree_on_digits_the_trusted_one_wins() -> None:
    tesseract = "SUPERMARKT ZUID\nTOTAAL 18,40\nPIN 18,40\n12-01-2025"
    rapid = "SUPERMARKT ZUID\nTOTAAL 16,40\nPIN 16,40\nBTW 9% 1,35\n12-01-2025"
    e = extract_fields([tesseract, rapid], source="ocr", digit_trust=(0, 1.0))
    assert e.total == Decimal("16.40")
    assert e.vendor == "SUPERMARKT ZUID"


def test_cash_minus_change_finds_a_total_without_a_total_word() -> None:
    e = extract_fields("KIOSK DE HOEK\nKoffie 2,80\nTompouce 3,10\nContant 10,00\nWisselgeld 4,10")
    assert e.total == Decimal("5.90")


def test_invalid_identifiers_are_not_returned() -> None:
    e = extract_fields("WINKEL X\nBTW NL123456789B02\nIBAN NL91 ABNA 0417 1643 01\nTotaal 5,00")
    assert e.vendor_vat_id is None and e.vendor_iban is None


def test_nothing_to_find_gives_empty_fields() -> None:
    e = extract_fields("")
    assert (e.total, e.date, e.vendor, e.invoice_number, e.vat) == (None, None, None, None, ())
    assert e.confidence == {}


def test_german_invoice_seller_only_in_the_footer() -> None:
    e = extract_fields(fixture("de_rechnung_textlayer.txt"))
    assert e.total == Decimal("1556.40")
    assert vat_of(e) == {"19": "228.00", "7": "8.40"}
    assert e.net == Decimal("1320.00")
    assert e.date == date(2024, 9, 12)               # not the delivery date or the due date
    assert e.invoice_number == "RE-2024-0815"
    assert e.vendor == "Messebau Nord GmbH"          # not the customer under "Rechnungsempfänger"
    assert e.vendor_vat_id == "DE136695976"          # not the customer's USt-IdNr.
    assert e.vendor_iban == "DE89370400440532013000"
    assert e.paid_hint is False


def test_cash_rounding_pays_the_rounded_total() -> None:
    e = extract_fields("BLOEMIST ROOS\nTulpen 12,43\nTotaal 12,43\nAfronding -0,03\nTe betalen 12,40\n"
                       "Contant 20,00\nWisselgeld 7,60")
    assert e.total == Decimal("12.40")


def test_with_a_rounding_line_whose_amount_was_lost_the_rounded_total_is_paid() -> None:
    # The rounding amount is unreadable, the sum before rounding adds up (net + tax): still 8.45.
    e = extract_fields("KEDAI MAJU\nPensel 7.96\nTotal Excl. Tax 7.96\nGST 6% 0.48\nTotal 8.44\n"
                       "Rounding Adj ~~ ,\nTotal 8.45\nThank you")
    assert e.total == Decimal("8.45")


def test_a_rounding_line_may_print_the_rounded_total_itself() -> None:
    e = extract_fields("KEDAI MAJU\nTotal Sales (Incl Tax) 12.48\nRounding Adj\nRounding 12.50\nCard 12.50")
    assert e.total == Decimal("12.50")
    plain = extract_fields("KEDAI MAJU\nTotal Sales 12.48\nRounding 12.30")     # no rounding step apart
    assert plain.total == Decimal("12.48")


def test_a_tax_summary_row_is_not_the_grand_total() -> None:
    # "TOTAL 50.00 3.00" sums the net and tax columns; the total itself is net + tax + rounding.
    e = extract_fields("KEDAI BUKU\nSub-Total (Excl) 50.00\nTotal Tax 3.00\nRounding -0.01\nCash 52.99\n"
                       "Tax Summary\nCode % Amount Tax\nSR 6 50.00 3.00\nTOTAL 50.00 3.00")
    assert e.total == Decimal("52.99")


def test_a_label_alone_does_not_lend_its_score_to_a_line_with_its_own_label() -> None:
    e = extract_fields("GROSIR JAYA\nTctal Sales 9.40\n(Inclusive of Tax)\nCASH 50.00\nChange 40.60")
    assert e.total == Decimal("9.40")
    split = extract_fields("GROSIR JAYA\nKoffie 9,40\nTotaal incl. btw\n9,40\nBedankt")
    assert split.total == Decimal("9.40")              # a bare amount under the label still gets it


def test_a_date_without_separators_is_a_last_resort() -> None:
    assert extract_fields("KEDAI MAJU\n14022019 No.CS-1234\nTotal 5.00").date == date(2019, 2, 14)
    assert extract_fields("WINKEL\n20190214\nTotaal 5,00").date == date(2019, 2, 14)
    assert extract_fields("WINKEL\nArt 12345678\nTotaal 5,00").date is None          # no valid date
    assert extract_fields("WINKEL 14022019\n03-05-2020\nTotaal 5,00").date == date(2020, 5, 3)


# --------------------------------------------------------------------------- what a second engine reads again

def test_lines_to_check_are_the_total_payment_and_date_lines() -> None:
    lines = ["TUINCENTRUM DE BREM",        # 0: the top lines are the OCR's business, not these
             "Potgrond 40L      6,99",      # 1
             "Hark              24,50",      # 2
             "Tqtaal            31,49",      # 3: no total word left, but the largest amount
             "PIN               31,49",      # 4
             "Kassa 2  14:07",               # 5: a time
             "Bedankt voor uw bezoek"]       # 6
    assert lines_to_check(lines) == [3, 4, 5]


def test_a_total_word_read_with_digits_and_its_amount_on_the_next_line_are_checked() -> None:
    assert lines_to_check(["KAASHANDEL", "Gouda 7,20", "Brie 1,00", "T0TAAL", "8,20", "Tot ziens"]) == [3, 4, 5]


def test_lines_to_check_finds_german_and_english_words_and_dates() -> None:
    lines = ["Bäckerei Morgenrot", "Brötchen 2,42", "SUMME EUR 2,42", "Rundung -0,02", "Gegeben BAR 5,00",
             "Rückgeld 2,60", "Datum 03.07.2024", "Thank you"]
    assert lines_to_check(lines) == [2, 3, 4, 5, 6]


def test_a_web_address_broken_by_ocr_still_points_at_the_seller() -> None:
    text = "\n".join(["ALTIJD VOORDELIG", "Vers en Gezond", "Elke dag open", "Tuinland Vos",
                      "Dorpsweg 12", "www tuinland-| vos. nl", "Potgrond 6,99", "Totaal 6,99"])
    assert extract_fields(text).vendor == "Tuinland Vos"


def test_a_trade_word_under_a_short_name_belongs_to_the_name() -> None:
    text = "ZONNEBLOEM\nAPOTHEEK\nMolenweg 3\n1234 AB Delft\nParacetamol 2,49\nTotaal 2,49\nPIN 2,49"
    assert extract_fields(text).vendor == "ZONNEBLOEM APOTHEEK"


def test_dutch_bedrag_is_a_total_word() -> None:
    e = extract_fields("CAFE DE ZWAAN\nKoffie 3,20\nAppeltaart 4,10\nBedrag 7,30\nSpaarzegels 10,00")
    assert e.total == Decimal("7.30")


def test_a_company_name_may_name_its_country() -> None:
    text = "Fietsplaats Nederland B.V.\nFietsen en onderdelen\nStationsweg 9\n1234 AB Alphen\nNederland\nBel 2,99\nTotaal 2,99"
    assert extract_fields(text).vendor == "Fietsplaats Nederland B.V."


def test_the_name_that_is_the_whole_web_address_beats_a_slogan_with_part_of_it() -> None:
    text = "KAAS VOOR IEDEREEN\nKaas en Zo\nMarktplein 3\nwww.kaas-en-zo.nl\nGouda 5,50\nTotaal 5,50"
    assert extract_fields(text).vendor == "Kaas en Zo"


def test_a_name_whose_bracket_closes_on_the_next_line_is_joined() -> None:
    text = "KEDAI RUNCIT MAJU JAYA (SERI\nINDAH) SDN BHD\nNO 5, JALAN MAWAR\nTOTAL 12.00"
    assert extract_fields(text).vendor == "KEDAI RUNCIT MAJU JAYA (SERI INDAH) SDN BHD"


def test_a_brand_in_capitals_over_the_legal_name_belongs_to_it() -> None:
    text = "KOFFIEHUIS\nVan Dam Horeca B.V.\nHaven 2\n1234 AB Urk\nKoffie 2,80\nTotaal 2,80"
    assert extract_fields(text).vendor == "KOFFIEHUIS Van Dam Horeca B.V."


def test_a_slogan_written_as_a_sentence_is_not_the_seller() -> None:
    text = "Zo vers als het maar kan.\nGroentehal Pieters\nMarkt 1\nAppels 2,10\nTotaal 2,10"
    assert extract_fields(text).vendor == "Groentehal Pieters"


def test_name_lines_are_where_a_second_engine_should_read_the_seller() -> None:
    lines = ["x 4 ;", "TUINHUIS", "Groen B.V.", "Lindelaan 3", "1234 AB Ede", "Schep 9,99", "Totaal 9,99"]
    assert name_lines(lines)[:2] == [1, 2]          # both lines of "TUINHUIS Groen B.V."


def test_a_legal_name_may_hold_a_generic_word_and_a_label_line_is_no_name() -> None:
    text = ("Bedankt en tot ziens\nVoor vragen of klachten belt u:\n020-1234567\n"
            "Groothandel Cash & Carry B.V.\nKeizersgracht 1\nTotaal 5,00")
    assert extract_fields(text).vendor == "Groothandel Cash & Carry B.V."


def test_a_handwritten_note_above_the_name_is_not_part_of_it() -> None:
    text = "jan de vries\nKOPERSLAGER HANDEL\nNO 3 JALAN BUNGA\nTOTAL 8.00"
    assert extract_fields(text).vendor == "KOPERSLAGER HANDEL"


def test_cash_and_carry_is_a_trade_not_a_payment_word() -> None:
    text = "GOODS SOLD ARE NOT RETURNABLE THANK YOU\nBMX CASH & CARRY\n(123456-V)\nLOT 5 JALAN BUNGA\nTOTAL 8.00"
    assert extract_fields(text).vendor == "BMX CASH & CARRY"


def test_initials_with_a_legal_form_are_a_name_not_noise() -> None:
    text = "MR. K.1.M. (M) SDN BHD\nCo-REG: 123456-A\nLOT 7, JALAN BUNGA 4,\nKAWASAN INDUSTRI SEMPADAN\nTOTAL 8.00"
    assert extract_fields(text).vendor == "MR. K.1.M. (M) SDN BHD"


def test_a_smudge_after_the_legal_form_is_not_part_of_the_name() -> None:
    text = "KOFFIE EN ZO VOORT MAAR\nBakkerij Jansen B.V. 0\nMarkt 1\nBrood 2,10\nTotaal 2,10"
    assert extract_fields(text).vendor == "Bakkerij Jansen B.V."


def test_a_legal_name_over_three_header_lines_is_joined() -> None:
    text = "BAKAR HUAT HARDWARE\nENTERPRISE (BUKIT\nJAYA) SDN BHD\n123456-X\nNO. 5, JALAN BUNGA\nTOTAL 8.00"
    assert extract_fields(text).vendor == "BAKAR HUAT HARDWARE ENTERPRISE (BUKIT JAYA) SDN BHD"


def test_a_street_read_together_with_its_number_is_an_address_not_the_seller() -> None:
    """OCR drops the space in "Dorpsweg 118"; the logo above it was unreadable, the legal name is in the footer."""
    text = "Dorpsweg118\n7411 AB Deventer\nBrood 2,10\nTotaal 2,10\nDank u wel\nBakkerij Smit B.V., Deventer"
    assert extract_fields(text).vendor == "Bakkerij Smit B.V."
    assert extract_fields("Hoofdstraat7A\nKoffie 2,60\nTotaal 2,60").vendor is None


def test_a_name_printed_letter_spaced_is_one_word() -> None:
    text = "H E M A\nKalverstraat 212\n1012 XD Amsterdam\nSokken 4,00\nTotaal 4,00"
    assert extract_fields(text).vendor == "HEMA"
    assert extract_fields("H E MA\nKalverstraat 212\nSokken 4,00\nTotaal 4,00").vendor == "HEMA"
    assert extract_fields("A B\nBakkerij Smit\nBrood 2,10\nTotaal 2,10").vendor == "Bakkerij Smit"


def test_a_long_name_one_engine_garbled_still_counts_as_read_by_both() -> None:
    """Tesseract garbles the shop's name, rapidocr reads it; the owner's name under it is read alike
    by both. The shop is still the seller: a long name has more letters to get wrong."""
    garbled = "Bakkeni-Zonncstrasl\nJan de Vries\nDorpsstraat 4\n7411 AB Deventer\nBrood 2,10\nTotaal 2,10"
    clean = garbled.replace("Bakkeni-Zonncstrasl", "Bakkerij Zonnestraal")
    assert extract_fields((garbled, clean), source="ocr", digit_trust=(0.0, 1.0)).vendor == "Bakkerij Zonnestraal"
