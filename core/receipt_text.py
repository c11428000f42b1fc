"""Fields from the text of a receipt or invoice, without templates. Pure: text in, ``Extraction`` out.

``extract_fields(texts)`` takes one text (a PDF's text layer, a mail body) or several readings of the
same page (tesseract's and rapidocr's OCR) and scores every candidate for each field by what the
words around it say (Dutch, German, English, some French), where it sits, whether the readings agree
and whether the arithmetic holds (net + VAT = total; cash - change = total; VAT = base x rate).
Confidence is 0..1 per field; a field nobody could find is ``None`` and gets no confidence.

Building blocks (lines, amounts, dates) live in ``core.receipt_lines``, the seller's name in
``core.receipt_vendor``.
"""
from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from core.errors import ValidationError
from core.extraction import Extraction, VatAmount
from core.identifiers import clean_iban, clean_vat_id
from core.receipt_lines import (
    AMOUNT,
    MAX_TEXT,
    Amount,
    TextLine,
    find_amounts,
    find_compact_dates,
    find_dates,
    format_amount,
    lines_by_reading,
    normalise,
    rx,
    split_lines,
    trust_of,
)
from core.receipt_vendor import BUYER_WORDS, find_vendor

__all__ = ["extract_fields", "find_amounts", "find_dates", "format_amount", "lines_to_check"]

ROUNDING_STEP = Decimal("0.05")      # cash rounding moves a total by at most this
KNOWN_RATES = {Decimal(r) for r in ("0", "5", "5.5", "6", "7", "8", "9", "10", "12", "13", "16", "19", "20", "21", "25")}

TOTAL_WORDS: list[tuple[re.Pattern[str], float]] = [
    (rx(r"grand total|gesamtbetrag|bruttosumme|bruttobetrag|endbetrag|endsumme|rechnungsbetrag|total ttc|"
        r"montant ttc|totaalbedrag|total amount|nett total|rounded total|total rounded|totaal afgerond|"
        r"(totaal|total|summe|betrag)\W{0,3}([il1|]nc|[il1|]nk|brutto)|brutto\W{0,3}(summe|betrag)|[il1|]nclusive of|"
        r"[il1|]ncl\.? btw"), 5),
    (rx(r"te betalen|zu zahlen|a payer|amount due|balance due|total due|to pay|zahlbetrag|payable"), 4.5),
    (rx(r"\btotaal\b|\btotal\b|\btotale\b|\bsumme\b|\bgesamt\b|\bsom\b|\bbetrag\b|\bbedrag\b|\bamount\b|\btot\b|"
        r"\bsaldo\b"), 3),
]
SUBTOTAL, NET, VAT, CHANGE = -6.0, -5.0, -4.0, -9.0
NOT_TOTAL_WORDS: list[tuple[re.Pattern[str], float]] = [
    (rx(r"sub\s?-?total|subtotaal|zwischensumme|zw\.?-?summe|tussentotaal|positionssumme|warenwert"), SUBTOTAL),
    (rx(r"netto|\bnet\b|excl|exkl|\bohne\b|\bht\b|before tax|excluding|nettobetrag|basisbetrag"), NET),
    (rx(r"btw|mwst|\bust\b|u?st\.|\bvat\b|\bgst\b|\btax\b|\btva\b|steuer|mehrwert"), VAT),
    (rx(r"change|wisselgeld|\bretour\b|ruckgeld|zuruck|wechselgeld|kembali|rendu|terug"), CHANGE),
    (rx(r"discount|korting|rabatt|abschlag|zuschlag|nachlass|savings|ersparnis|voordeel|rounding|afronding|"
        r"rundung|gespaard|you saved|allowance|charges"), -6),
    (rx(r"\bqty\b|quantity|aantal|anzahl|artikel|\bitems?\b|stuks|\bstk\b|\bpcs\b"), -6),
    (rx(r"anzahlung|prepaid|erhaltene|vooruitbetaald|deposit|bereits bezahlt|paid amount"), -6),
    (rx(r"punkte|punten|points|payback|airmiles|skonto"), -5),
    (rx(r"cash|contant|bargeld|\bbar\b|gegeben|tendered|ontvangen|received"), -1.5),
]
INCLUSIVE = rx(r"[il1|]ncl|[il1|]nkl|brutto|ttc")
PAYMENT_WORDS = rx(r"\bpin\b|pinnen|pinbetaling|maestro|v ?pay|visa|mastercard|master card|kreditkarte|"
                   r"\bec\b|ec-karte|girocard|kartenzahlung|debit|credit card|card|karte|kaart|contactless|"
                   r"betaald|paid|bezahlt")
ROUNDING_WORDS = rx(r"rounding|afronding|rundung|arrondi")
TENDERED_WORDS = rx(r"cash|contant|bargeld|\bbar\b|gegeben|tendered|ontvangen|received")
CHANGE_WORDS = NOT_TOTAL_WORDS[3][0]
NET_WORDS = rx(r"netto|\bnet\b|excl|exkl|\bohne\b|\bht\b|before tax|excluding|nettobetrag|warenwert|subtotaal|"
               r"sub\s?-?total|zwischensumme|positionssumme")
VAT_WORDS = rx(r"btw|mwst|\bust\b|u?st\.|umsatzsteuer|\bvat\b|\bgst\b|\btax\b|\btva\b|steuer|mehrwert|\biva\b")
PAID_WORDS = rx(r"\bpin\b|pinbetaling|betaald|voldaan|contant|\bpaid\b|bezahlt|\bbar\b|bargeld|ec-karte|"
                r"girocard|kartenzahlung|zahlung erfolgt|maestro|\bvisa\b|mastercard|contactless|"
                r"ruckgeld|wisselgeld|\bchange\b|cash|bereits beglichen|deja paye|acquitte")
UNPAID_WORDS = rx(r"te betalen voor|gelieve .*te (betalen|voldoen)|overmaken|zahlbar (bis|innerhalb)|"
                  r"zahlungsziel|bitte uberweisen|payment due|due date|please pay|vervaldatum|betalingstermijn|"
                  r"falligkeit|faellig|date d'echeance")
DATE_WORDS = rx(r"datum|\bdate\b|dated|\bvom\b|\bdd\b|tanggal|\bden\b|\ble\b|issued|ausgestellt")
NOT_DATE_WORDS = rx(r"fallig|\bdue\b|verval|leistung|liefer|delivery|bestell|\border\b|zahlbar|valid|gultig|"
                    r"geldig|\bbis\b|period|zeitraum|geboren|expir|\bexp\b|echeance|auftrag|skonto|until|tot en met|"
                    r"gemass|according")
INVOICE_WORDS = rx(r"rechnung|factuur|invoice|facture|beleg|receipt|\bbon\b|quittung")
_TIME = re.compile(r"\d{1,2}:\d{2}")
_NUMBER_LABEL = re.compile(
    r"(?:rechnungs?(?:-|\s)?(?:nr|nummer|no)|(?:handels|rechnungs)?rechnung\w*(?:\s*\(\d+\))?\s*(?:nr|#|no)|"
    r"factuur\s*(?:nr|nummer|no)|factuurnummer|invoice\s*(?:no|nr|number|num|#)|\binv\.?\s*(?:no|#)|"
    r"beleg(?:-|\s)?(?:nr|nummer)|bon(?:-|\s)?(?:nr|nummer)|receipt\s*(?:no|nr|#|number)|bill\s*(?:no|#)|"
    r"\bfacture\s*(?:n°|no|#|nr)?|credit\s*note\s*(?:no|#)?|creditnota\s*(?:nr|nummer)?|"
    r"rechnungskorrektur(?:\s*\(\d+\))?\s*(?:nr)?|gutschrift\s*(?:nr)?|doc(?:ument)?\s*no)"
    r"\.?\s*[:#.]?\s*(?P<token>[A-Za-z0-9][A-Za-z0-9\-/._]*\d[A-Za-z0-9\-/._]*|\d[A-Za-z0-9\-/._]*)",
    re.IGNORECASE,
)
_ORDER_LABEL = re.compile(
    r"(?:bestel(?:ling)?(?:-|\s)?(?:nr|nummer)|order(?:-|\s)?(?:nr|nummer|number|no|#|id)|"
    r"bestell(?:-|\s)?(?:nr|nummer)|auftrags?(?:-|\s)?(?:nr|nummer)|commande\s*(?:n°|no)?)"
    r"\.?\s*[:#.]?\s*(?P<token>[A-Za-z0-9][A-Za-z0-9\-/._]*\d[A-Za-z0-9\-/._]*)",
    re.IGNORECASE,
)
_VAT_ID_START = re.compile(r"(?<![A-Z0-9])(?:AT|BE|BG|CY|CZ|DE|DK|EE|EL|ES|FI|FR|HR|HU|IE|IT|LT|LU|LV|MT|NL|PL|PT|"
                           r"RO|SE|SI|SK|XI)(?=[\s.]?[0-9U])")
_IBAN = re.compile(r"\b([A-Z]{2}\d{2}(?:\s?[A-Z0-9]{4}){2,7}(?:\s?[A-Z0-9]{1,4})?)\b")
_KVK = re.compile(r"(?:\bkvk\b|k\.v\.k\.?|kamer van koophandel|\bcoc\b|chamber of commerce)\D{0,20}"
                  r"(\d{2}[\s.]?\d{2}[\s.]?\d{2}[\s.]?\d{2})(?!\d)")
_CURRENCIES = [("EUR", rx(r"€|\beur\b|\beuro\b")), ("GBP", rx(r"£|\bgbp\b")), ("CHF", rx(r"\bchf\b")),
               ("MYR", rx(r"\brm\s?\d|\bmyr\b|ringgit")), ("USD", rx(r"\busd\b|us\$"))]
_RATE = re.compile(r"(?<![\d.,])(\d{1,2}(?:[.,]\d{1,2})?)\s?%|@\s?(\d{1,2})\s?%?")
_BARE_RATE = re.compile(r"(?<![\d.,])(\d{1,2}(?:[.,]\d)?)(?![\d.,%])")


def extract_fields(texts: str | Iterable[str], *, source: str = "pdf_text",
                   digit_trust: Sequence[float] = ()) -> Extraction:
    """Every field found in ``texts`` (one text, or several readings of the same page).

    ``digit_trust``: per reading, a bonus for its numbers (totals, dates) and a small one for its
    words where readings disagree, e.g. ``(0, 1)`` when the second engine reads digits better.
    """
    readings = [texts] if isinstance(texts, str) else list(texts)
    lines = split_lines(readings)
    vat, vat_conf = find_vat(lines)
    vat_total = sum((v.amount for v in vat), Decimal(0)) if vat else _vat_total_line(lines)
    printed_net = find_net(lines)
    bases_known = bool(vat) and all(v.base is not None for v in vat)
    net = printed_net if printed_net is not None else (
        sum((v.base for v in vat if v.base is not None), Decimal(0)) if bases_known else None)
    total, total_conf = find_total(lines, vat_total, net, digit_trust)
    # The net the arithmetic checks: printed (or the sum of the VAT bases) and equal to total - VAT.
    checked = net is not None and total is not None and vat_total is not None and net + vat_total == total
    if not checked and total is not None and vat_total is not None and vat and (net is None or bases_known):
        net = total - vat_total                 # none printed, or a "netto" before discounts
    day, date_conf = find_date(lines, digit_trust)
    vendor, vendor_conf = find_vendor(lines, digit_trust)
    number, number_conf = find_invoice_number(lines)
    currency = find_currency(lines)
    confidence = {name: score for name, value, score in (
        ("total", total, total_conf), ("vat", vat or None, vat_conf), ("date", day, date_conf),
        ("vendor", vendor, vendor_conf), ("invoice_number", number, number_conf)) if value is not None}
    if net is not None:
        # Printed and adding up: as sure as the total; merely derived from total and VAT: less so.
        confidence["net"] = 0.9 if checked else round(min(total_conf, vat_conf), 2) if total is not None and vat else 0.5
    kvk, vat_id, iban, paid = find_kvk(lines), find_vat_id(lines), find_iban(lines), find_paid_hint(lines)
    # Checksums make a found btw-id or IBAN near certain; a KvK number has none; "paid" is a hint.
    for name, value, score in (("currency", currency, 0.8), ("vendor_kvk", kvk, 0.7), ("vendor_vat_id", vat_id, 0.95),
                               ("vendor_iban", iban, 0.95), ("paid_hint", paid, 0.6)):
        if value is not None:
            confidence[name] = score
    return Extraction(
        source=source, total=total, net=net, vat=tuple(vat), date=day, vendor=vendor, vendor_kvk=kvk,
        vendor_vat_id=vat_id, vendor_iban=iban, invoice_number=number, currency=currency, paid_hint=paid,
        confidence=confidence, text="\n\n".join(readings)[:MAX_TEXT],
    )


# --------------------------------------------------------------------------- what a second reading should check

_KEY_WORDS = (*[p for p, _ in TOTAL_WORDS], PAYMENT_WORDS, TENDERED_WORDS, CHANGE_WORDS, ROUNDING_WORDS)
_AS_LETTERS = str.maketrans("0158", "olsb")     # "T0TAL", "TOTA1", "5UMME": OCR digits inside a word


def lines_to_check(lines: Sequence[str]) -> list[int]:
    """Indexes of the lines of one OCR reading whose digits decide the total or the date: lines with a
    total, payment, cash, change or rounding word (and the line after one without an amount), lines
    with a date, a time or a date word, and the line with the largest amount. A second engine reads
    only these again."""
    picked: set[int] = set()
    largest: tuple[Decimal, int] | None = None
    for i, text in enumerate(lines):
        norm = normalise(text).translate(_AS_LETTERS)
        amounts = find_amounts(text)
        if any(p.search(norm) for p in _KEY_WORDS):
            picked.add(i)
            if not amounts and i + 1 < len(lines):
                picked.add(i + 1)           # "TOTAAL" alone, its amount on the next line
        if find_dates(text) or _TIME.search(text) or DATE_WORDS.search(norm):
            picked.add(i)
        for a in amounts:
            if largest is None or a.value > largest[0]:
                largest = (a.value, i)
    if largest is not None:
        picked.add(largest[1])
    return sorted(picked)


# --------------------------------------------------------------------------- totals

@dataclass
class _Candidate:
    value: Decimal
    score: float
    readings: set[int]


def _total_line_score(norm: str) -> float:
    positive = next((weight for pattern, weight in TOTAL_WORDS if pattern.search(norm)), 0.0)
    if positive < 5 and TOTAL_WORDS[0][0].search(norm.replace(" ", "")):
        positive = 5                            # "Br uttosumme": a PDF text layer split the word
    if not positive:
        return 0.0
    for pattern, weight in NOT_TOTAL_WORDS:
        if not pattern.search(norm):
            continue
        if weight == VAT and INCLUSIVE.search(norm):
            continue                            # "Total incl. btw" is the total, not the VAT
        if weight == NET and "nett total" in norm:
            continue                            # Malaysian English: the rounded total
        positive += weight
    return positive


def _keyword_amounts(lines: list[TextLine], score_of: Callable[[str], float]) -> list[tuple[TextLine, Amount, float]]:
    """(line, amount, score) for the amounts on lines ``score_of`` likes.

    A line with several amounts is a table row: its last amount counts most. A label alone on its
    line lends its score to the first amount of the next line (PDF text layers and OCR often split
    label and amount); a table header whose last column is the label lends it to the last amount
    of each of the next rows.
    """
    found = []
    for reading_lines in lines_by_reading(lines).values():
        for i, line in enumerate(reading_lines):
            score = score_of(line.norm)
            amounts = find_amounts(line.text)
            if amounts:
                if score:
                    extra = 0.5 if len(amounts) > 1 else 0.0
                    found += [(line, a, score - (len(amounts) - 1 - k) - extra) for k, a in enumerate(amounts)]
                continue
            following = reading_lines[i + 1:i + 4]
            if not following or score_of(following[0].norm) or not find_amounts(following[0].text):
                continue
            words = line.norm.split()
            column = score_of(words[-1]) if len(words) >= 4 else 0.0
            if column > 0:                      # "... MwSt-Betrag Endbetrag" over rows of numbers
                for row in following:
                    row_amounts = find_amounts(row.text)
                    if not row_amounts:
                        break
                    found.append((row, row_amounts[-1], column - 1))
            elif score and not any(p.search(following[0].norm) for p, _ in NOT_TOTAL_WORDS):
                # not onto a line with a label of its own: "(Inclusive of GST)" over "CASH 100.00"
                found.append((following[0], find_amounts(following[0].text)[0], score - 1))
    return found


def find_total(lines: list[TextLine], vat_total: Decimal | None, net: Decimal | None,
               reading_trust: Sequence[float] = ()) -> tuple[Decimal | None, float]:
    """The total incl. VAT: the amount the total words point at, weighed by agreement and arithmetic."""
    candidates: dict[Decimal, _Candidate] = {}
    for line, amount, score in _keyword_amounts(lines, _total_line_score):
        if score <= 0 or amount.value == 0:
            continue
        if _is_tax_summary_row(line, find_amounts(line.text)):
            score -= 3
        score += 0.3 * line.position + trust_of(reading_trust, line.reading)
        cand = candidates.get(amount.value)
        if cand is None:
            candidates[amount.value] = _Candidate(amount.value, score, {line.reading})
        else:
            cand.score = max(cand.score, score) + 0.5
            cand.readings.add(line.reading)
    all_amounts = [(line, a) for line in lines for a in find_amounts(line.text)]
    payments = {a.value for line, a in all_amounts if PAYMENT_WORDS.search(line.norm)}
    rounding_lines = [line for line in lines if ROUNDING_WORDS.search(line.norm)]
    roundings = {a.value for line in rounding_lines for a in find_amounts(line.text) if 0 < abs(a.value) < 1}
    exact = _cash_minus_change(lines)
    if net is not None and vat_total is not None:
        exact.add(net + vat_total)
        exact |= {net + vat_total + r for r in roundings}   # "excl. 26,00 / tax 1,56 / rounding -0,01"
    for value in exact & {a.value for _, a in all_amounts}:     # arithmetic found what the words missed
        candidates.setdefault(value, _Candidate(value, 1.0, set()))
    _add_rounded_totals(candidates, rounding_lines)
    several = len({line.reading for line in lines}) > 1
    for cand in candidates.values():
        # "Totaal 12,43 / Afronding -0,03 / Te betalen 12,40": of the two, the rounded one is paid.
        # With a rounding line whose amount OCR lost, any two totals within a rounding step will do.
        partners = [cand.value + sign * r for r in roundings for sign in (1, -1) if cand.value + sign * r in candidates]
        if rounding_lines:
            partners += [v for v in candidates if 0 < abs(v - cand.value) <= ROUNDING_STEP]
        if partners and all(_is_rounder(cand.value, other) for other in partners):
            cand.score += 2
        cand.readings |= {line.reading for line, a in all_amounts if a.value == cand.value}
        if several and len(cand.readings) > 1:
            cand.score += 1
        if cand.value in payments:
            cand.score += 1.5
        if cand.value in exact:
            cand.score += 3
        elif net is not None and vat_total is not None and abs(net + vat_total - cand.value) <= Decimal("0.05"):
            cand.score += 1                     # off by a rounding line
    if candidates:
        candidates[max(candidates)].score += 0.75   # a total is at least every amount above it
        best = max(candidates.values(), key=lambda c: (c.score, c.value))
        confidence = min(0.98, 0.35 + 0.05 * best.score + (0.15 if best.value in exact else 0)
                         + (0.1 if len(best.readings) > 1 else 0))
        return best.value, round(max(0.3, confidence), 2)
    # No total word anywhere: what the cash handed over minus the change says, else the largest
    # amount printed more than once, else the largest.
    if len(exact) == 1:
        return exact.pop(), 0.5
    counts: dict[Decimal, int] = defaultdict(int)
    for _, a in all_amounts:
        counts[a.value] += 1
    if not counts:
        return None, 0.0
    repeated = [v for v, n in counts.items() if n > 1 and v > 0]
    return (max(repeated), 0.35) if repeated else (max(counts), 0.2)


def _add_rounded_totals(candidates: dict[Decimal, _Candidate], rounding_lines: list[TextLine]) -> None:
    """A rounding line printing the rounded total itself, not the adjustment ("Total 37,44 /
    Rounding 37,45"), makes that amount a candidate as strong as the total it rounds."""
    for line in rounding_lines:
        for amount in find_amounts(line.text):
            near = [c for c in candidates.values()
                    if 0 < abs(amount.value - c.value) <= ROUNDING_STEP and _is_rounder(amount.value, c.value)]
            if abs(amount.value) >= 1 and near and amount.value not in candidates:
                best = max(near, key=lambda c: c.score)
                candidates[amount.value] = _Candidate(amount.value, best.score, {line.reading})


def _is_tax_summary_row(line: TextLine, amounts: Sequence[Amount]) -> bool:
    """A row of a VAT summary table ("TOTAL 26,00 1,56": base and tax at a known rate, no gross):
    its amounts are the sums of columns, not the amount paid."""
    values = [a.value for a in amounts]
    if len(values) != 2 or not 0 < values[1] < values[0]:
        return False
    return any(r > 0 and abs(values[0] * r / 100 - values[1]) <= Decimal("0.015") for r in KNOWN_RATES)


def _is_rounder(value: Decimal, other: Decimal) -> bool:
    """Cash rounding goes to 5 (or 10) cents: of two totals a rounding apart, the one that ends so."""
    return value % Decimal("0.05") == 0 and other % Decimal("0.05") != 0


def _cash_minus_change(lines: list[TextLine]) -> set[Decimal]:
    """Totals implied by "cash 50,00 / change 5,77": tendered minus change, per reading."""
    implied = set()
    for reading_lines in lines_by_reading(lines).values():
        tendered = [abs(a.value) for ln in reading_lines if TENDERED_WORDS.search(ln.norm)
                    and not CHANGE_WORDS.search(ln.norm) for a in find_amounts(ln.text)]
        change = [abs(a.value) for ln in reading_lines if CHANGE_WORDS.search(ln.norm) for a in find_amounts(ln.text)]
        implied |= {t - c for t in tendered for c in change if t - c > 0}
    return implied


# --------------------------------------------------------------------------- VAT and net

def _rate_of(text: str) -> Decimal | None:
    for m in _RATE.finditer(text):
        rate = _plain_rate(Decimal((m[1] or m[2]).replace(",", ".")))
        if rate in KNOWN_RATES:
            return rate
    return None


def _plain_rate(rate: Decimal) -> Decimal:
    return rate.quantize(Decimal(1)) if rate == rate.to_integral_value() else rate.normalize()


def _vat_from_line(line: TextLine, in_vat_table: bool = False) -> VatAmount | None:
    """A VAT row: a known rate and amounts where VAT = base x rate (or gross x rate / (100 + rate)).
    ``in_vat_table``: a header above speaks of VAT, so a bare number may be the rate."""
    amounts = [a.value for a in find_amounts(line.text)]
    rate = _rate_of(line.text)
    has_vat_words = bool(VAT_WORDS.search(line.norm))
    if rate is None and (has_vat_words or in_vat_table):
        bare = [Decimal(m[1].replace(",", ".")) for m in _BARE_RATE.finditer(AMOUNT.sub(" ", line.text))]
        rates = [_plain_rate(r) for r in bare if r in KNOWN_RATES and r > 0]
        rate = rates[0] if len(rates) == 1 else None
    if rate is None or not amounts:
        return None
    for base in amounts:
        for vat in amounts:
            if vat is base or (abs(vat) >= abs(base) and base != 0):
                continue
            if abs(base * rate / 100 - vat) <= Decimal("0.015") + abs(vat) * Decimal("0.002"):
                return VatAmount(rate, vat, base)
            if rate and abs(base * rate / (100 + rate) - vat) <= Decimal("0.015"):
                return VatAmount(rate, vat, base - vat)         # base was the gross amount
    if len(amounts) == 1 and has_vat_words and rate > 0 and not INCLUSIVE.search(line.norm):
        return VatAmount(rate, amounts[0], None)        # "btw 21% 41,47"; not "totaal incl. 21% btw"
    return None


def find_vat(lines: list[TextLine]) -> tuple[list[VatAmount], float]:
    """VAT per rate: the rows that pass the arithmetic, the best-supported reading per rate."""
    per_rate: dict[Decimal, dict[Decimal, tuple[int, VatAmount]]] = defaultdict(dict)
    for reading_lines in lines_by_reading(lines).values():
        for i, line in enumerate(reading_lines):
            in_table = any(VAT_WORDS.search(h.norm) and not find_amounts(h.text) for h in reading_lines[max(0, i - 4):i])
            found = _vat_from_line(line, in_table)
            if found is None or (found.amount == 0 and found.rate != 0):
                continue
            seen = per_rate[found.rate].get(found.amount)
            support = (2 if found.base is not None else 1) + (seen[0] if seen else 0)
            per_rate[found.rate][found.amount] = (support, found if found.base is not None or not seen else seen[1])
    result, supports = [], []
    for rate in sorted(per_rate, reverse=True):
        support, vat = max(per_rate[rate].values(), key=lambda item: item[0])
        result.append(vat)
        supports.append(support)
    return (result, min(0.95, 0.5 + 0.1 * min(supports))) if result else ([], 0.0)


def _vat_total_line(lines: list[TextLine]) -> Decimal | None:
    """A line stating the total VAT ("Summe Umsatzsteuer 21,31", "Total GST 0.00", "btw 2,10")."""
    for line in lines:
        if (VAT_WORDS.search(line.norm) and not INCLUSIVE.search(line.norm) and _rate_of(line.text) is None
                and re.search(r"summe|total|totaal|gesamt|betrag|amount|payable|\bbtw\b|mwst", line.norm)):
            amounts = find_amounts(line.text)
            if len(amounts) == 1:
                return amounts[0].value
    return None


def find_net(lines: list[TextLine]) -> Decimal | None:
    for line, amount, _ in _keyword_amounts(lines, lambda n: 1.0 if NET_WORDS.search(n) else 0.0):
        if not VAT_WORDS.search(line.norm) or INCLUSIVE.search(line.norm) is None:
            return amount.value
    return None


# --------------------------------------------------------------------------- date, number, identifiers

def find_date(lines: list[TextLine], reading_trust: Sequence[float] = ()) -> tuple[date | None, float]:
    """The document's date: words around it ("Datum", "vom", an invoice number on the same line)
    for, due/delivery/order dates against; agreement between readings and repetition help."""
    scores: dict[date, float] = {}
    readings: dict[date, set[int]] = defaultdict(set)
    for reading_lines in lines_by_reading(lines).values():
        for i, line in enumerate(reading_lines):
            above = reading_lines[i - 1].norm if i else ""
            for k, day in enumerate(find_dates(line.text)):
                score = 1.0 - 0.3 * k - 0.3 * line.position + trust_of(reading_trust, line.reading)
                if DATE_WORDS.search(line.norm):
                    score += 2
                elif DATE_WORDS.search(above) and not find_dates(above):
                    score += 1.5                # "Datum Uhrzeit Filiale" above a row of values
                if NOT_DATE_WORDS.search(line.norm):
                    score -= 3
                if _TIME.search(line.text):
                    score += 0.5
                if INVOICE_WORDS.search(line.norm):
                    score += 2.5 if _NUMBER_LABEL.search(line.text) else 1     # "Rechnung Nr. 4711 vom ..."
                scores[day] = max(scores.get(day, score), score) + (0.3 if day in scores else 0)
                readings[day].add(line.reading)
    if not scores:
        return _compact_date(lines)
    for day in scores:
        if len(readings[day]) > 1:
            scores[day] += 1
    best = max(scores, key=lambda d: scores[d])
    return best, round(min(0.95, max(0.3, 0.45 + 0.1 * scores[best])), 2)


def _compact_date(lines: list[TextLine]) -> tuple[date | None, float]:
    """No date written with separators anywhere: one printed as ``27032018``, the most frequent
    (both readings agree), near the top first; never sure."""
    counts: dict[date, float] = defaultdict(float)
    for line in lines:
        for day in find_compact_dates(line.text):
            counts[day] += 1 - 0.3 * line.position
    if not counts:
        return None, 0.0
    return max(counts, key=lambda d: counts[d]), 0.4


def find_invoice_number(lines: list[TextLine]) -> tuple[str | None, float]:
    """The invoice (or receipt) number after its label; failing that, a webshop's order number."""
    for pattern, confidence in ((_NUMBER_LABEL, 0.85), (_ORDER_LABEL, 0.5)):
        for line in lines:
            for m in pattern.finditer(line.text):
                token = m["token"].rstrip("._-/")
                if 2 <= len(token) <= 40 and not find_dates(token):
                    return token, confidence
    return None, 0.0


def find_vat_id(lines: list[TextLine]) -> str | None:
    """The first valid EU VAT id (python-stdnum) outside the customer's block."""
    for line in lines:
        if BUYER_WORDS.search(line.norm):
            continue
        upper = line.text.upper()
        for m in _VAT_ID_START.finditer(upper):
            compact = re.sub(r"[\s.]", "", upper[m.start():m.start() + 22])
            for end in range(min(len(compact), 16), 9, -1):     # the id, not the word after it
                try:
                    return clean_vat_id(compact[:end])
                except ValidationError:
                    continue
    return None


def find_iban(lines: list[TextLine]) -> str | None:
    """The first IBAN with a valid checksum (schwifty) outside the customer's block."""
    for line in lines:
        if BUYER_WORDS.search(line.norm):
            continue
        for m in _IBAN.finditer(line.text.upper()):
            try:
                return clean_iban(m[1])
            except ValidationError:
                continue
    return None


def find_kvk(lines: list[TextLine]) -> str | None:
    """Eight digits after "KvK" (there is no check digit to validate)."""
    for line in lines:
        m = _KVK.search(line.norm)
        if m and not BUYER_WORDS.search(line.norm):
            return re.sub(r"\D", "", m[1])
    return None


def find_currency(lines: list[TextLine]) -> str | None:
    counts = {code: sum(1 for ln in lines if pattern.search(ln.norm)) for code, pattern in _CURRENCIES}
    best = max(counts, key=lambda code: counts[code])
    return best if counts[best] else None


def find_paid_hint(lines: list[TextLine]) -> bool | None:
    """True: paid on the spot (PIN, contant, bar, EC-Karte, change given); False: a bill to pay."""
    if any(PAID_WORDS.search(line.norm) for line in lines):
        return True
    if any(UNPAID_WORDS.search(line.norm) for line in lines):
        return False
    return None
