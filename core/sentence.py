"""An invoice or quote typed as one sentence, read into its parts. Pure: no I/O, no database.

    factuur Acme 8 uur advies à 75, btw verlegd, 14 dagen
    offerte Bakkerij de Vries: 3x workshop 450, 10% korting
    invoice Jansen 2 days design at 600 ex vat

``parse_sentence`` never guesses silently: what it cannot place lands in ``unplaced`` and a line
without a price keeps ``unit_price=None``, so the caller asks. Amounts are exact ``Decimal``s read
the way the sentence's language writes them (``1.250`` is twelve hundred and fifty in Dutch,
``1,250`` in English); ``12,5,0`` is not a number. Everything a caller stores round-trips through
``to_dict``/``from_dict`` (strings only), so it can live in the chat state.

The same module reads amounts, dates and terms typed in a chat (``parse_amount``, ``parse_date``,
``parse_term``).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from core.errors import ValidationError

MAX_CHARS = 4000
MAX_LINES = 100
MAX_PLACES = 4
MAX_AMOUNT = Decimal(10) ** 12
_FOURPLACES = Decimal("0.0001")

# ---- words ------------------------------------------------------------------------------------

_KINDS = {"factuur": ("invoice", "nl"), "rekening": ("invoice", "nl"), "offerte": ("quote", "nl"),
          "invoice": ("invoice", "en"), "bill": ("invoice", "en"), "quote": ("quote", "en"),
          "quotation": ("quote", "en"), "estimate": ("quote", "en")}

# unit key -> (words that mean it, Dutch label, English label)
UNITS: dict[str, tuple[frozenset[str], str, str]] = {
    "hour": (frozenset({"uur", "uren", "u", "hour", "hours", "hr", "hrs", "h"}), "uur", "hour"),
    "minute": (frozenset({"minuut", "minuten", "min", "minute", "minutes", "mins"}), "minuut", "minute"),
    "day": (frozenset({"dag", "dagen", "day", "days", "dgn"}), "dag", "day"),
    "week": (frozenset({"week", "weken", "weeks", "wk"}), "week", "week"),
    "month": (frozenset({"maand", "maanden", "month", "months", "mnd"}), "maand", "month"),
    "year": (frozenset({"jaar", "jaren", "year", "years", "jr"}), "jaar", "year"),
    "piece": (frozenset({"stuk", "stuks", "st", "piece", "pieces", "pcs", "pc"}), "stuk", "piece"),
    "km": (frozenset({"km", "kilometer", "kilometers", "kilometre", "kilometres"}), "km", "km"),
    "kg": (frozenset({"kg", "kilo", "kilos", "kilo's"}), "kg", "kg"),
    "m2": (frozenset({"m2", "m²"}), "m²", "m²"),
    "word": (frozenset({"woord", "woorden", "word", "words"}), "woord", "word"),
    "page": (frozenset({"pagina", "paginas", "pagina's", "page", "pages", "blz"}), "pagina", "page"),
}
_UNIT_OF = {word: key for key, (words, _, _) in UNITS.items() for word in words}
_PRICE_MARKERS = {"à", "á", "@", "at", "tegen"}
_TOTAL_MARKERS = {"voor", "for", "totaal", "total"}
_CURRENCY = {"€", "eur", "euro", "euros", "eu"}
_CONNECTORS = {"voor", "for", "aan", "to", "van", "from", "met", "with", "-", "–", ":"}
# words that end the customer's name when no colon or comma does
_CLAUSE_WORDS = {"btw", "vat", "korting", "discount", "incl", "incl.", "inclusief", "excl", "excl.",
                 "exclusief", "verlegd", "reverse", "termijn", "betaaltermijn", "binnen", "within",
                 "à", "@", "€"}

_NUM = r"\d{1,3}(?:\.\d{3})+(?:,\d+)?|\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:[.,]\d+)?"
_NUMBER = re.compile(rf"^(?:{_NUM})$")
_NUMBERISH = re.compile(r"^[+-]?\d[\d.,]*$")

_TREATMENTS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("reverse_charge", re.compile(r"\b(?:btw|vat)[\s-]*(?:is\s+)?verlegd\b|\bverlegde?\s+btw\b|\bverlegd\b"
                                  r"|\b(?:vat\s+)?reverse[\s-]*charged?\b|\bbtw[\s-]*verlegging\b", re.IGNORECASE)),
    ("intra_eu_goods", re.compile(r"\bicp\b|\bintracommunautair\w*(?:\s+levering)?\b"
                                  r"|\bintra[\s-]*(?:eu|community)(?:\s+(?:supply|goods|levering))?\b", re.IGNORECASE)),
    ("export", re.compile(r"^export$|\buitvoer\b|\b(?:export\s+)?buiten\s+de\s+eu\b"
                          r"|\b(?:export(?:ed)?\s+)?outside\s+(?:the\s+)?eu\b", re.IGNORECASE)),
    ("kor", re.compile(r"\bkor\b|\bkleineondernemersregeling\b", re.IGNORECASE)),
    ("exempt", re.compile(r"\b(?:btw|vat)[\s-]*(?:vrij(?:gesteld)?|exempt)\b|\bvrijgesteld(?:\s+van\s+btw)?\b"
                          r"|\bexempt(?:\s+from\s+vat)?\b", re.IGNORECASE)),
)
_INCL = re.compile(r"\b(?:incl(?:usief|uding|usive)?\.?|inc\.?|inclusive\s+of)\s*(?:de\s+)?(?:btw|vat)\b"
                   r"|\b(?:btw|vat)\s+(?:incl(?:usief)?|included|inbegrepen)\b\.?", re.IGNORECASE)
_EXCL = re.compile(r"\b(?:excl(?:usief|uding|usive)?\.?|exc\.?|ex\.?|exclusive\s+of|zonder|without)\s*(?:de\s+)?"
                   r"(?:btw|vat)\b|(?:\bplus|\+)\s*(?:btw|vat)\b|\b(?:btw|vat)\s+(?:excl(?:usief)?|exclusief)\b\.?",
                   re.IGNORECASE)
_RATE = re.compile(r"(?<![\d.,])(?P<r>\d{1,2}(?:[.,]\d{1,2})?)\s*%\s*(?:btw|vat|tarief)\b"
                   r"|\b(?:btw|vat)(?:[\s-]*tarief)?\s*(?:van\s+|of\s+)?(?P<r2>\d{1,2}(?:[.,]\d{1,2})?)\s*%", re.IGNORECASE)
_DISCOUNT = re.compile(r"(?<![\d.,])(?P<p>\d{1,3}(?:[.,]\d{1,2})?)\s*%\s*(?:korting|discount|off)\b"
                       r"|\b(?:korting|discount)\s*(?:van\s+|of\s+)?(?P<p2>\d{1,3}(?:[.,]\d{1,2})?)\s*%", re.IGNORECASE)
_TERMS = (
    re.compile(r"\b(?:betaal)?termijn\s*(?:van\s+)?(?P<d>\d{1,4})\s*(?:dagen|dag|d)\b", re.IGNORECASE),
    re.compile(r"\b(?:betalen\s+)?binnen\s+(?P<d>\d{1,4})\s*dagen(?:\s+betalen)?\b", re.IGNORECASE),
    re.compile(r"\b(?P<d>\d{1,4})\s*dagen\s+(?:geldig|betaaltermijn|termijn|netto)\b", re.IGNORECASE),
    re.compile(r"\bgeldig\s+(?:voor\s+)?(?P<d>\d{1,4})\s*dagen\b", re.IGNORECASE),
    re.compile(r"\b(?:pay(?:able)?\s+)?within\s+(?P<d>\d{1,4})\s*days?\b", re.IGNORECASE),
    re.compile(r"\b(?:payment\s+)?terms?\s*(?:of\s+)?(?P<d>\d{1,4})\s*days?\b", re.IGNORECASE),
    re.compile(r"\bdue\s+in\s+(?P<d>\d{1,4})\s*days?\b", re.IGNORECASE),
    re.compile(r"\bvalid\s+(?:for\s+)?(?P<d>\d{1,4})\s*days?\b", re.IGNORECASE),
    re.compile(r"^net(?:to)?\s+(?P<d>\d{1,4})$", re.IGNORECASE),
    re.compile(r"\bnet(?:to)?\s+(?P<d>\d{1,4})\s*(?:days?|dagen)\b", re.IGNORECASE),
    re.compile(r"^(?P<d>\d{1,4})\s*(?:dagen|dag|days|day|d)\.?$", re.IGNORECASE),
)
_PER_UNIT = re.compile(r"(?:\bper\s+|(?<=\d)\s*/\s*|\s/\s*|\bp/)(?P<u>[a-z²']+)\b\.?", re.IGNORECASE)
_SPLIT = re.compile(r"\s*(?:[;\n]|,(?!\d)|\s\+\s(?!\s*(?:btw|vat)\b)|\s(?:en|and|plus)\s(?=[€]?\s?\d))\s*", re.IGNORECASE)
_KIND_RE = re.compile(
    r"^(?:(?:maak|stuur|nieuwe?|make|create|send|new)\s+(?:(?:een|an?|the)\s+)?)?(?:nieuwe?\s+|new\s+)?"
    r"(?P<kind>" + "|".join(_KINDS) + r")\b[\s:,-]*(?:(?:voor|aan|for|to)\b\s*)?", re.IGNORECASE)


# ---- results ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class ParsedLine:
    description: str
    quantity: Decimal = Decimal(1)
    unit: str = ""
    unit_price: Decimal | None = None        # as typed (incl. VAT when the sentence says so)
    vat_rate: Decimal | None = None          # None: not said
    item_id: int | None = None               # set by core.drafting when a standard item fits

    def to_dict(self) -> dict[str, Any]:
        return {"description": self.description, "quantity": str(self.quantity), "unit": self.unit,
                "unit_price": None if self.unit_price is None else str(self.unit_price),
                "vat_rate": None if self.vat_rate is None else str(self.vat_rate), "item_id": self.item_id}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ParsedLine:
        def dec(value: Any) -> Decimal | None:
            return None if value is None else Decimal(str(value))
        return cls(description=str(data.get("description", "")), quantity=Decimal(str(data.get("quantity", "1"))),
                   unit=str(data.get("unit", "")), unit_price=dec(data.get("unit_price")),
                   vat_rate=dec(data.get("vat_rate")), item_id=data.get("item_id"))


@dataclass(frozen=True)
class ParsedSentence:
    kind: str | None                          # "invoice" | "quote" | None (not a document sentence)
    language: str = "nl"
    customer: str = ""
    lines: tuple[ParsedLine, ...] = ()
    prices_include_vat: bool | None = None    # None: not said (prices are taken excl. VAT)
    vat_treatment: str | None = None          # a core.document.VatTreatment value
    vat_rate: Decimal | None = None           # for every line without a rate of its own
    discount_percent: Decimal | None = None
    term_days: int | None = None              # payment term (invoice) or validity (quote)
    unplaced: tuple[str, ...] = field(default=())

    @property
    def missing_prices(self) -> tuple[int, ...]:
        return tuple(i for i, line in enumerate(self.lines) if line.unit_price is None)

    @property
    def missing_descriptions(self) -> tuple[int, ...]:
        return tuple(i for i, line in enumerate(self.lines) if not line.description)

    def with_line(self, index: int, **changes: Any) -> ParsedSentence:
        lines = list(self.lines)
        lines[index] = replace(lines[index], **changes)
        return replace(self, lines=tuple(lines))

    def without_line(self, index: int) -> ParsedSentence:
        return replace(self, lines=self.lines[:index] + self.lines[index + 1:])

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "language": self.language, "customer": self.customer,
                "lines": [line.to_dict() for line in self.lines],
                "prices_include_vat": self.prices_include_vat, "vat_treatment": self.vat_treatment,
                "vat_rate": None if self.vat_rate is None else str(self.vat_rate),
                "discount_percent": None if self.discount_percent is None else str(self.discount_percent),
                "term_days": self.term_days, "unplaced": list(self.unplaced)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ParsedSentence:
        def dec(value: Any) -> Decimal | None:
            return None if value is None else Decimal(str(value))
        return cls(kind=data.get("kind"), language=str(data.get("language", "nl")),
                   customer=str(data.get("customer", "")),
                   lines=tuple(ParsedLine.from_dict(line) for line in data.get("lines", ())),
                   prices_include_vat=data.get("prices_include_vat"), vat_treatment=data.get("vat_treatment"),
                   vat_rate=dec(data.get("vat_rate")), discount_percent=dec(data.get("discount_percent")),
                   term_days=data.get("term_days"), unplaced=tuple(data.get("unplaced", ())))


# ---- numbers ----------------------------------------------------------------------------------

def read_number(token: str, language: str = "nl") -> Decimal | None:
    """An exact number as written in ``language`` (None when it is not one).

    With one separator followed by exactly three digits the language decides: ``1.250`` is 1250 in
    Dutch and 1.25 in English, ``1,250`` the other way round. At most four decimals.
    """
    token = token.strip()
    if len(token) > 30 or not _NUMBER.match(token):
        return None
    dots, commas = token.count("."), token.count(",")
    if dots and commas:
        decimal_sep = "," if token.rfind(",") > token.rfind(".") else "."
    elif dots > 1 or commas > 1:
        decimal_sep = ""
    elif dots or commas:
        sep = "." if dots else ","
        grouped = len(token.split(sep)[1]) == 3 and token.split(sep)[0] != "0"
        thousands = (sep == "." and language == "nl") or (sep == "," and language != "nl")
        decimal_sep = "" if grouped and thousands else sep
    else:
        decimal_sep = ""
    group_sep = {".": ",", ",": "."}.get(decimal_sep, "")
    plain = token.replace(group_sep, "") if group_sep else token
    if decimal_sep:
        plain = plain.replace(decimal_sep, ".")
    else:
        plain = plain.replace(".", "").replace(",", "")
    try:
        value = Decimal(plain)
    except InvalidOperation:  # pragma: no cover - the pattern admits digits and separators only
        return None
    exponent = value.as_tuple().exponent
    if not isinstance(exponent, int) or -exponent > MAX_PLACES or value >= MAX_AMOUNT:
        return None
    return value


def unit_label(key: str, language: str) -> str:
    _, nl, en = UNITS[key]
    return nl if language == "nl" else en


# ---- the sentence -----------------------------------------------------------------------------

def _normalise(text: str) -> str:
    text = (text or "")[:MAX_CHARS]
    text = "".join(" " if ch in "\t\r\u00a0\u2009\u202f" else ch for ch in text if ch.isprintable() or ch in "\n\t\r")
    text = text.replace("“", '"').replace("”", '"').replace("‘", "'").replace("’", "'")
    text = re.sub(r"(\d),-(?!\d)", r"\1", text)              # 75,- -> 75
    text = re.sub(r"(\d)\s*[x×*](?=\s|$)", r"\1 x", text)      # 3x -> 3 x
    text = re.sub(r"[x×*](\d)", r"x \1", text)                 # x3 -> x 3
    text = re.sub(r"€\s*", "€ ", text)
    text = re.sub(r"(\d)€", r"\1 €", text)
    text = re.sub(r"@", " @ ", text)
    text = re.sub(r"(\d)(uur|u|h|hrs|hr|km|kg|m2|m²)\b", r"\1 \2", text, flags=re.IGNORECASE)
    return re.sub(r"[ ]{2,}", " ", text).strip()


def parse_sentence(text: str, *, language_hint: str = "nl") -> ParsedSentence:
    """Read a sentence such as ``factuur Acme 8 uur advies à 75, btw verlegd, 14 dagen``.

    Without a leading kind word (factuur, offerte, invoice, quote, …) ``kind`` is None and the
    whole text is read as lines and settings (what the guided flow's "add a line" step types).
    """
    text = _normalise(text)
    language = "en" if language_hint == "en" else "nl"
    kind = None
    match = _KIND_RE.match(text)
    if match:
        kind, language = _KINDS[match["kind"].lower()]
        text = text[match.end():]
        customer, text = _customer(text)
    else:
        customer = ""
    result = _Reader(language)
    for clause in _SPLIT.split(text):
        result.clause(clause.strip(" .,;:"))
    return ParsedSentence(
        kind=kind, language=language, customer=customer, lines=tuple(result.lines[:MAX_LINES]),
        prices_include_vat=result.incl, vat_treatment=result.treatment, vat_rate=result.rate,
        discount_percent=result.discount, term_days=result.term,
        unplaced=tuple(result.unplaced) + tuple(ln.description for ln in result.lines[MAX_LINES:]))


def _customer(text: str) -> tuple[str, str]:
    """The customer's name at the start: up to a colon or comma, or up to the first number or
    keyword. A quoted name may hold anything."""
    text = text.strip()
    quoted = re.match(r'^"([^"]{1,200})"\s*[:,]?\s*', text) or re.match(r"^'([^']{1,200})'\s*[:,]?\s*", text)
    if quoted:
        return quoted.group(1).strip(), text[quoted.end():]
    colon = re.match(r"^([^:]{1,200}):(?!\d)\s*", text)
    if colon and not re.search(r"[à@%€]", colon.group(1)):
        return colon.group(1).strip(" ,-"), text[colon.end():]
    words, taken = [], 0
    for token in text.split(" "):
        bare = token.lower().rstrip(",;")
        if not token or bare[:1].isdigit() or bare in _CLAUSE_WORDS or bare.startswith("€"):
            break
        taken += len(token) + 1
        if token.endswith((",", ";")):
            words.append(token[:-1])
            break
        words.append(token)
    while words and words[-1].lower() in _CONNECTORS:
        words.pop()
    name = " ".join(words).strip(" -")
    return name, text[taken:]


class _Reader:
    """Reads clauses one after another into lines and settings."""

    def __init__(self, language: str) -> None:
        self.language = language
        self.lines: list[ParsedLine] = []
        self.unplaced: list[str] = []
        self.incl: bool | None = None
        self.treatment: str | None = None
        self.rate: Decimal | None = None
        self.discount: Decimal | None = None
        self.term: int | None = None

    def clause(self, clause: str) -> None:
        if not clause:
            return
        clause = self._settings(clause)
        if not clause:
            return
        term = next((m for m in (p.search(clause) for p in _TERMS) if m), None)
        if term is not None:
            self._set_term(term["d"], clause)
            clause = _cut(clause, term)
            if not clause:
                return
        line_rate = None
        rate = _RATE.search(clause)
        if rate is not None:
            line_rate = _percent(rate["r"] or rate["r2"], self.language)
            clause = _cut(clause, rate)
            if not clause:                      # "9% btw" on its own: for every line
                self._set_rate(line_rate, rate.group(0))
                return
        self._line(clause, line_rate)

    def _settings(self, clause: str) -> str:
        for treatment, pattern in _TREATMENTS:
            found = pattern.search(clause)
            if found:
                if self.treatment not in (None, treatment):
                    self.unplaced.append(found.group(0))
                else:
                    self.treatment = treatment
                clause = _cut(clause, found)
        for flag, pattern in ((True, _INCL), (False, _EXCL)):
            found = pattern.search(clause)
            if found:
                if self.incl not in (None, flag):
                    self.unplaced.append(found.group(0))
                else:
                    self.incl = flag
                clause = _cut(clause, found)
        discount = _DISCOUNT.search(clause)
        if discount:
            value = _percent(discount["p"] or discount["p2"], self.language)
            if value is None or self.discount is not None:
                self.unplaced.append(discount.group(0))
            else:
                self.discount = value
            clause = _cut(clause, discount)
        return clause

    def _set_term(self, days: str, clause: str) -> None:
        value = int(days)
        if value > 365 or self.term not in (None, value):
            self.unplaced.append(clause)
        else:
            self.term = value

    def _set_rate(self, rate: Decimal | None, text: str) -> None:
        if rate is None or self.rate not in (None, rate):
            self.unplaced.append(text)
        else:
            self.rate = rate

    def _line(self, clause: str, rate: Decimal | None) -> None:
        unit = ""
        per = _PER_UNIT.search(clause)                      # "à 75 per uur", "75/uur"
        if per and per["u"].lower().rstrip(".") in _UNIT_OF:
            unit = unit_label(_UNIT_OF[per["u"].lower().rstrip(".")], self.language)
            clause = _cut(clause, per)
        tokens = clause.split()
        quantity, i = None, 0
        if tokens and (q := read_number(tokens[0], self.language)) is not None:
            quantity, i = q, 1
            if i < len(tokens) and tokens[i].lower() in ("x", "×", "*"):
                i += 1
            if i < len(tokens) - 1 and tokens[i].lower().rstrip(".") in _UNIT_OF:
                unit, i = unit_label(_UNIT_OF[tokens[i].lower().rstrip(".")], self.language), i + 1
        j = len(tokens)
        while j > i and tokens[j - 1].lower() in _CURRENCY:
            j -= 1
        price, total = None, False
        if j > i and (p := read_number(tokens[j - 1], self.language)) is not None:
            price, j = p, j - 1
            while j > i and tokens[j - 1].lower() in _CURRENCY:
                j -= 1
            if j > i and (_is_marker(tokens[j - 1]) or tokens[j - 1].lower() in _TOTAL_MARKERS):
                total = tokens[j - 1].lower() in _TOTAL_MARKERS
                j -= 1
        body = tokens[i:j]
        if quantity is None and len(body) >= 2 and body[-1].lower().rstrip(".") in _UNIT_OF \
                and (q := read_number(body[-2], self.language)) is not None:      # "advies 8 uur à 75"
            quantity, unit = q, unit_label(_UNIT_OF[body[-1].lower().rstrip(".")], self.language)
            body = body[:-2]
        kept = []
        for tok in body:
            bare = tok.strip(".,;:")
            if _NUMBERISH.match(bare) and read_number(bare, self.language) is None:
                self.unplaced.append(bare)                    # "12,5,0" is not an amount
            else:
                kept.append(tok)
        while kept and (_is_marker(kept[-1]) or kept[-1].lower() in _CURRENCY):
            kept.pop()
        description = " ".join(kept).strip(" -:,;")
        if quantity == 0:
            self.unplaced.append(clause)
            return
        quantity = quantity if quantity is not None else Decimal(1)
        if price is not None and total and quantity != 1:
            exact = (price / quantity).quantize(_FOURPLACES, rounding=ROUND_HALF_UP)
            if exact * quantity != price:                     # "3 uur voor 100": no exact hourly price
                self.unplaced.append(clause)
                price = None
            else:
                price = exact.normalize() if exact == exact.to_integral() else exact
        if not description and price is None:
            self.unplaced.append(clause)
            return
        if price is None and not re.search(r"\d", clause) and len(kept) > 12:
            self.unplaced.append(clause)                      # a long remark, not a line
            return
        self.lines.append(ParsedLine(description=description, quantity=quantity, unit=unit,
                                     unit_price=price, vat_rate=rate))


def _is_marker(token: str) -> bool:
    """``à``, ``@``, ``at``, ``tegen`` (and a lower-case ``a``, the way ``à`` is often typed)."""
    return token == "a" or token.lower() in _PRICE_MARKERS


def _cut(text: str, match: re.Match[str]) -> str:
    return re.sub(r"\s{2,}", " ", (text[:match.start()] + " " + text[match.end():])).strip(" .,;:-")


def _percent(token: str | None, language: str) -> Decimal | None:
    if not token:
        return None
    value = read_number(token.replace(".", ",") if language == "nl" else token, language)
    if value is None:
        value = read_number(token, "en" if language == "nl" else "nl")
    if value is None or value > 100:
        return None
    return value


# ---- dates and terms typed in a chat ------------------------------------------------------------

_MONTHS = {
    "jan": 1, "januari": 1, "january": 1, "feb": 2, "februari": 2, "february": 2, "mrt": 3, "maart": 3,
    "mar": 3, "march": 3, "apr": 4, "april": 4, "mei": 5, "may": 5, "jun": 6, "juni": 6, "june": 6,
    "jul": 7, "juli": 7, "july": 7, "aug": 8, "augustus": 8, "august": 8, "sep": 9, "sept": 9,
    "september": 9, "okt": 10, "oct": 10, "oktober": 10, "october": 10, "nov": 11, "november": 11,
    "dec": 12, "december": 12,
}
_RELATIVE = {"vandaag": 0, "today": 0, "morgen": 1, "tomorrow": 1, "gisteren": -1, "yesterday": -1}


def parse_date(text: str, *, today: date) -> date:
    """A date as people type it: ``15-12-2026``, ``15/12``, ``2026-12-15``, ``15 december``,
    ``morgen``. A day that does not exist (``31-02``) is refused, not moved."""
    raw = (text or "").strip().lower()[:40]
    if raw in _RELATIVE:
        return today + timedelta(days=_RELATIVE[raw])
    match = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", raw)
    if match:
        year, month, day = (int(g) for g in match.groups())
    elif match := re.fullmatch(r"(\d{1,2})[-/.](\d{1,2})(?:[-/.](\d{2}|\d{4}))?", raw):
        day, month = int(match[1]), int(match[2])
        year = int(match[3]) if match[3] else today.year
        year += 2000 if match[3] and len(match[3]) == 2 else 0
    elif match := re.fullmatch(r"(\d{1,2})\s+([a-z]+)\.?(?:\s+(\d{4}))?", raw):
        if match[2] not in _MONTHS:
            raise ValidationError("date", "Not a date: {value}. Write it like 15-12-2026", value=raw)
        day, month, year = int(match[1]), _MONTHS[match[2]], int(match[3]) if match[3] else today.year
    else:
        raise ValidationError("date", "Not a date: {value}. Write it like 15-12-2026", value=raw)
    try:
        return date(year, month, day)
    except ValueError:
        raise ValidationError("date", "That date does not exist: {value}", value=raw) from None


def parse_term(text: str) -> int:
    """A number of days: ``14``, ``14 dagen``, ``30 days``."""
    match = re.fullmatch(r"\s*(\d{1,4})\s*(?:dagen|dag|days|day|d)?\.?\s*", text or "", re.IGNORECASE)
    if not match:
        raise ValidationError("term_days", "Not a number of days: {value}", value=(text or "").strip()[:20])
    days = int(match[1])
    if days > 365:
        raise ValidationError("term_days", "A term lies between 0 and 365 days")
    return days


def parse_amount(text: str, *, language: str = "nl", field: str = "amount") -> Decimal:
    """An amount typed on its own: ``75``, ``€ 1.250,50``, ``75,-``; ``12,5,0`` is refused."""
    cleaned = re.sub(r"(?i)\b(?:eur|euro|euros)\b|€", "", (text or "")[:60]).strip()
    cleaned = re.sub(r",-$", "", cleaned).strip()
    value = read_number(cleaned, language)
    if value is None:
        raise ValidationError(field, "Not an amount: {value}. Write it like 75 or 1.250,50",
                              value=(text or "").strip()[:40])
    return value
