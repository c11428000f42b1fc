"""core.sentence: one sentence → kind, customer, lines, VAT, discount, term; and what it could not place."""
from __future__ import annotations

import time
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.errors import ValidationError
from core.sentence import (
    ParsedLine,
    ParsedSentence,
    parse_amount,
    parse_date,
    parse_sentence,
    parse_term,
    read_number,
)

D = Decimal
TODAY = date(2026, 11, 30)


def one(text: str, language: str = "nl") -> ParsedSentence:
    return parse_sentence(text, language_hint=language)


# ---- the examples of the issue -----------------------------------------------------------------

def test_dutch_invoice_with_reverse_charge_and_term() -> None:
    p = one("factuur Acme 8 uur advies à 75, btw verlegd, 14 dagen")
    assert (p.kind, p.language, p.customer) == ("invoice", "nl", "Acme")
    assert p.lines == (ParsedLine("advies", D(8), "uur", D(75)),)
    assert (p.vat_treatment, p.term_days, p.discount_percent, p.unplaced) == ("reverse_charge", 14, None, ())


def test_dutch_quote_with_colon_and_discount() -> None:
    p = one("offerte Bakkerij de Vries: 3x workshop 450, 10% korting")
    assert (p.kind, p.customer, p.discount_percent) == ("quote", "Bakkerij de Vries", D(10))
    assert p.lines == (ParsedLine("workshop", D(3), "", D(450)),)
    assert p.unplaced == ()


def test_english_invoice_excluding_vat() -> None:
    p = one("invoice Jansen 2 days design at 600 ex vat", "nl")
    assert (p.kind, p.language, p.customer, p.prices_include_vat) == ("invoice", "en", "Jansen", False)
    assert p.lines == (ParsedLine("design", D(2), "day", D(600)),)


# ---- customers ---------------------------------------------------------------------------------

@pytest.mark.parametrize("text, customer", [
    ("factuur Acme 8 uur advies à 75", "Acme"),
    ("factuur voor Jansen & Zn, 8 uur advies à 75", "Jansen & Zn"),
    ("maak een factuur voor Acme B.V. 8 uur à 75", "Acme B.V."),
    ("factuur 3M: 2 stuks pennen à 1,50", "3M"),
    ('factuur "Foo: Bar" 1 uur advies à 80', "Foo: Bar"),
    ("invoice to Smith Ltd for 2 hours support at 90", "Smith Ltd"),
    ("new quote for Acme: workshop 450", "Acme"),
    ("factuur Ex Libris 1 uur advies à 80", "Ex Libris"),
    ("factuur 8 uur advies à 75", ""),
])
def test_customer(text: str, customer: str) -> None:
    assert one(text).customer == customer


def test_no_kind_word_is_not_a_document_sentence() -> None:
    p = one("hallo, hoe gaat het?")
    assert p.kind is None and p.customer == ""


def test_just_the_kind_word() -> None:
    p = one("factuur")
    assert (p.kind, p.customer, p.lines) == ("invoice", "", ())


# ---- lines -------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, line", [
    ("factuur A: 8 uur advies à 75", ParsedLine("advies", D(8), "uur", D(75))),
    ("factuur A: 8u advies à €75,-", ParsedLine("advies", D(8), "uur", D(75))),
    ("factuur A: 1,5 uur advies @ 80", ParsedLine("advies", D("1.5"), "uur", D(80))),
    ("factuur A: advies à 75 per uur", ParsedLine("advies", D(1), "uur", D(75))),
    ("factuur A: advies 8 uur à 75", ParsedLine("advies", D(8), "uur", D(75))),
    ("factuur A: 3 x workshop € 450", ParsedLine("workshop", D(3), "", D(450))),
    ("factuur A: 1.250 stuks pennen à 0,125", ParsedLine("pennen", D(1250), "stuk", D("0.125"))),
    ("factuur A: 12 km reiskosten a 0,23", ParsedLine("reiskosten", D(12), "km", D("0.23"))),
    ("factuur A: logo ontwerp 1.250,50", ParsedLine("logo ontwerp", D(1), "", D("1250.50"))),
    ("invoice A: 1,250 widgets at 1.5", ParsedLine("widgets", D(1250), "", D("1.5"))),
    ("invoice A: 3 hours editing @ 45.50", ParsedLine("editing", D(3), "hour", D("45.50"))),
    ("invoice A: 4 hours support for 300", ParsedLine("support", D(4), "hour", D(75))),
    ("factuur A: workshop", ParsedLine("workshop", D(1), "", None)),
    ("factuur A: boeken 25 9% btw", ParsedLine("boeken", D(1), "", D(25), D(9))),
])
def test_lines(text: str, line: ParsedLine) -> None:
    p = one(text)
    assert p.lines == (line,) and p.unplaced == ()


def test_several_lines() -> None:
    p = one("factuur Acme: 8 uur advies à 75 en 2 uur reistijd à 50; 3x workshop 450 + 1 boek à 19,95")
    assert [(ln.description, ln.quantity, ln.unit_price) for ln in p.lines] == [
        ("advies", D(8), D(75)), ("reistijd", D(2), D(50)), ("workshop", D(3), D(450)), ("boek", D(1), D("19.95"))]


def test_the_word_en_inside_a_description_does_not_split_it() -> None:
    assert one("factuur Acme: ontwerp en advies 500").lines == (ParsedLine("ontwerp en advies", D(1), "", D(500)),)


def test_language_decides_a_three_digit_group() -> None:
    assert one("factuur A: pennen à 1.250").lines[0].unit_price == D(1250)
    assert one("factuur A: pennen à 1,250").lines[0].unit_price == D("1.250")
    assert one("invoice A: pens at 1,250").lines[0].unit_price == D(1250)
    assert one("invoice A: pens at 1.250").lines[0].unit_price == D("1.250")


def test_a_line_without_price_or_description_is_kept_for_asking() -> None:
    p = one("invoice Acme 2 pages at 30.50, workshop")
    assert p.lines == (ParsedLine("", D(2), "page", D("30.50")), ParsedLine("workshop", D(1), "", None))
    assert (p.missing_descriptions, p.missing_prices) == ((0,), (1,))


# ---- what it cannot place ----------------------------------------------------------------------

def test_a_bad_amount_is_unplaced_and_the_price_asked() -> None:
    p = one("factuur Acme 8 uur advies à 12,5,0")
    assert p.unplaced == ("12,5,0",) and p.lines == (ParsedLine("advies", D(8), "uur", None),)


def test_a_total_that_does_not_divide_is_not_rounded() -> None:
    p = one("factuur Acme 3 uur advies voor 100")
    assert p.lines[0].unit_price is None and p.unplaced == ("3 uur advies voor 100",)


def test_contradictions_are_unplaced() -> None:
    p = one("factuur Acme 1 uur advies à 80, incl btw, excl btw, btw verlegd, export")
    assert p.prices_include_vat is True and p.vat_treatment == "reverse_charge"
    assert set(p.unplaced) == {"excl btw", "export"}


def test_a_bare_number_is_unplaced() -> None:
    assert one("factuur Acme 1 uur advies à 80, 450").unplaced == ("450",)


def test_a_long_remark_is_unplaced() -> None:
    remark = "graag zo snel mogelijk overmaken want we gaan binnenkort op vakantie naar het zuiden van frankrijk"
    p = one(f"factuur Acme 1 uur advies à 80, {remark}")
    assert p.unplaced == (remark,) and len(p.lines) == 1


def test_a_zero_quantity_is_unplaced() -> None:
    assert one("factuur Acme 0 uur advies à 80").unplaced == ("0 uur advies à 80",)


def test_a_word_like_export_inside_a_description_is_not_a_vat_treatment() -> None:
    p = one("factuur Acme 3 uur data export à 75")
    assert p.vat_treatment is None and p.lines[0].description == "data export"


# ---- settings ----------------------------------------------------------------------------------

@pytest.mark.parametrize("text, treatment", [
    ("btw verlegd", "reverse_charge"), ("verlegd", "reverse_charge"), ("vat reverse charged", "reverse_charge"),
    ("reverse charge", "reverse_charge"), ("icp", "intra_eu_goods"), ("intracommunautaire levering", "intra_eu_goods"),
    ("export", "export"), ("export buiten de eu", "export"), ("kor", "kor"), ("btw vrijgesteld", "exempt"),
    ("vrijgesteld van btw", "exempt"), ("exempt from vat", "exempt"),
])
def test_treatments(text: str, treatment: str) -> None:
    p = one(f"factuur Acme 1 uur advies à 80, {text}")
    assert p.vat_treatment == treatment and p.unplaced == ()


@pytest.mark.parametrize("text, incl", [
    ("incl btw", True), ("inclusief btw", True), ("incl. vat", True), ("including vat", True), ("btw inbegrepen", True),
    ("excl btw", False), ("ex btw", False), ("exclusief btw", False), ("plus btw", False), ("+ btw", False),
    ("ex vat", False), ("excluding vat", False), ("zonder btw", False),
])
def test_prices_incl_or_excl(text: str, incl: bool) -> None:
    p = one(f"factuur Acme 1 uur advies à 80 {text}")
    assert p.prices_include_vat is incl and p.lines[0].unit_price == D(80) and p.unplaced == ()


@pytest.mark.parametrize("text, days", [
    ("14 dagen", 14), ("betaaltermijn 30 dagen", 30), ("termijn 21 dagen", 21), ("binnen 14 dagen betalen", 14),
    ("30 dagen geldig", 30), ("geldig 60 dagen", 60), ("within 14 days", 14), ("payment term 30 days", 30),
    ("net 30", 30), ("due in 7 days", 7), ("valid for 45 days", 45),
])
def test_terms(text: str, days: int) -> None:
    p = one(f"factuur Acme 1 uur advies à 80, {text}")
    assert p.term_days == days and len(p.lines) == 1 and p.unplaced == ()


def test_days_as_a_unit_are_a_line_not_a_term() -> None:
    p = one("factuur Acme 2 dagen ontwerp à 600")
    assert p.term_days is None and p.lines == (ParsedLine("ontwerp", D(2), "dag", D(600)),)


def test_a_term_over_a_year_is_unplaced() -> None:
    assert one("factuur Acme 1 uur advies à 80, 400 dagen").unplaced == ("400 dagen",)


@pytest.mark.parametrize("text, percent", [("10% korting", D(10)), ("korting 12,5%", D("12.5")),
                                           ("5% discount", D(5)), ("discount of 7.5%", D("7.5")), ("15% off", D(15))])
def test_discounts(text: str, percent: Decimal) -> None:
    assert one(f"factuur Acme 1 uur advies à 80, {text}").discount_percent == percent


def test_a_vat_rate_for_all_lines_and_one_line() -> None:
    p = one("factuur Acme 1 boek à 20 9% btw, 1 uur advies à 80, btw 21%")
    assert p.vat_rate == D(21) and [ln.vat_rate for ln in p.lines] == [D(9), None]


# ---- round trip through the chat state ---------------------------------------------------------

def test_to_dict_from_dict_round_trip() -> None:
    p = one("offerte Bakkerij: 3x workshop 450, 1,5 uur advies à 80,25 9% btw, incl btw, 10% korting, 30 dagen, x 12,5,0")
    import json
    again = ParsedSentence.from_dict(json.loads(json.dumps(p.to_dict())))
    assert again == p


# ---- hypothesis: never crashes, amounts exact --------------------------------------------------

def _nl(value: Decimal, grouped: bool) -> str:
    whole, _, frac = f"{value:f}".partition(".")
    if grouped and len(whole) > 3:
        whole = f"{int(whole):,}".replace(",", ".")
    return whole + ("," + frac if frac else "")


def _en(value: Decimal, grouped: bool) -> str:
    whole, _, frac = f"{value:f}".partition(".")
    if grouped and len(whole) > 3:
        whole = f"{int(whole):,}"
    return whole + ("." + frac if frac else "")


amounts = st.decimals(min_value=D("0.01"), max_value=D("999999999.99"), places=2, allow_nan=False,
                      allow_infinity=False)
quantities = st.decimals(min_value=D("0.25"), max_value=D("99999"), places=2, allow_nan=False,
                         allow_infinity=False).filter(lambda q: q != 0)


@given(quantity=quantities, price=amounts, grouped=st.booleans(), english=st.booleans(),
       marker=st.sampled_from(["à", "@", "a", "", "€"]))
@settings(max_examples=300, deadline=None)
def test_amounts_are_read_exactly(quantity: Decimal, price: Decimal, grouped: bool, english: bool, marker: str) -> None:
    fmt = _en if english else _nl
    if english and marker in ("à", "a"):
        marker = "at"
    kind, unit = ("invoice", "hours") if english else ("factuur", "uur")
    text = f"{kind} Acme {fmt(quantity, grouped)} {unit} advies {marker} {fmt(price, grouped)}"
    p = parse_sentence(text, language_hint="nl")
    assert len(p.lines) == 1, (text, p)
    assert p.lines[0].quantity == quantity and p.lines[0].unit_price == price, (text, p)
    assert p.customer == "Acme" and p.unplaced == ()


@given(st.text(max_size=400))
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_never_crashes_on_any_text(text: str) -> None:
    for prefix in ("", "factuur ", "invoice Acme: "):
        p = parse_sentence(prefix + text, language_hint="nl")
        assert isinstance(p, ParsedSentence)
        for line in p.lines:
            assert line.quantity != 0
            assert line.unit_price is None or (line.unit_price >= 0 and -line.unit_price.as_tuple().exponent <= 4)
        ParsedSentence.from_dict(p.to_dict())


words = st.sampled_from(["factuur", "offerte", "invoice", "Acme", ":", ",", "8", "uur", "advies", "à", "75",
                         "1.250,50", "12,5,0", "x", "3x", "btw", "verlegd", "incl", "excl", "10%", "korting",
                         "14", "dagen", "net", "30", "per", "voor", "for", "€", "-", "en", "+", "0", "9%", "@"])


@given(st.lists(words, max_size=40))
@settings(max_examples=400, deadline=None)
def test_never_crashes_on_sentence_like_text(tokens: list[str]) -> None:
    p = parse_sentence(" ".join(tokens), language_hint="nl")
    assert all(line.quantity != 0 for line in p.lines)
    assert p.term_days is None or 0 <= p.term_days <= 365
    assert p.discount_percent is None or 0 <= p.discount_percent <= 100


def test_long_adversarial_input_is_fast() -> None:
    texts = ["factuur " + "1.1.1.1," * 500, "factuur Acme " + "8 uur advies à 75 en " * 190,
             "offerte " + "a" * 3990, "factuur Acme: " + ("12,5,0 " * 560), "invoice " + "€" * 3990]
    start = time.perf_counter()
    for text in texts:
        parse_sentence(text, language_hint="nl")
    assert time.perf_counter() - start < 2.0


def test_at_most_100_lines_the_rest_unplaced() -> None:
    p = one("factuur Acme: " + "; ".join(f"{i} uur advies à 75" for i in range(1, 121)))
    assert len(p.lines) == 100 and len(p.unplaced) == 20


# ---- numbers, amounts, dates, terms ------------------------------------------------------------

@pytest.mark.parametrize("token, language, value", [
    ("75", "nl", D(75)), ("75,50", "nl", D("75.50")), ("1.234,56", "nl", D("1234.56")), ("1,234.56", "nl", D("1234.56")),
    ("1.234.567", "nl", D(1234567)), ("0,125", "nl", D("0.125")), ("0.125", "nl", D("0.125")),
    ("1.250", "nl", D(1250)), ("1,250", "en", D(1250)), ("1.250", "en", D("1.250")),
])
def test_read_number(token: str, language: str, value: Decimal) -> None:
    assert read_number(token, language) == value


@pytest.mark.parametrize("token", ["12,5,0", "1.23.4", "abc", "", "1,2345678", "1" * 13, "1..2", "-5"])
def test_read_number_refuses(token: str) -> None:
    assert read_number(token, "nl") is None


def test_parse_amount() -> None:
    assert parse_amount("€ 1.250,50") == D("1250.50")
    assert parse_amount("75,-") == D(75)
    assert parse_amount("75 euro") == D(75)
    with pytest.raises(ValidationError) as err:
        parse_amount("12,5,0")
    assert "12,5,0" in err.value.translated("nl") and "Geen bedrag" in err.value.translated("nl")


@pytest.mark.parametrize("text, expected", [
    ("15-12-2026", date(2026, 12, 15)), ("15/12", date(2026, 12, 15)), ("2027-01-05", date(2027, 1, 5)),
    ("1-2-27", date(2027, 2, 1)), ("15 december", date(2026, 12, 15)), ("3 jan 2027", date(2027, 1, 3)),
    ("morgen", date(2026, 12, 1)), ("today", TODAY), ("29-02-2028", date(2028, 2, 29)),
])
def test_parse_date(text: str, expected: date) -> None:
    assert parse_date(text, today=TODAY) == expected


@pytest.mark.parametrize("text, message", [("31-02", "bestaat niet"), ("29-02-2027", "bestaat niet"),
                                           ("31 april", "bestaat niet"), ("gisteravond", "Geen datum"),
                                           ("15 foo", "Geen datum"), ("x" * 5000, "Geen datum")])
def test_parse_date_refuses(text: str, message: str) -> None:
    with pytest.raises(ValidationError) as err:
        parse_date(text, today=TODAY)
    assert message in err.value.translated("nl")


def test_parse_term() -> None:
    assert (parse_term("14"), parse_term("30 dagen"), parse_term("7 days")) == (14, 30, 7)
    for bad in ("veertien", "400", "-3"):
        with pytest.raises(ValidationError):
            parse_term(bad)
