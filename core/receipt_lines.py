"""The building blocks of reading receipt text: lines, amounts and dates as receipts print them. Pure.

Used by ``core.receipt_text`` (the fields) and ``core.receipt_vendor`` (the seller's name).
"""
from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

MAX_TEXT = 200_000


def rx(pattern: str) -> re.Pattern[str]:
    """A keyword pattern, matched against ``normalise``d text."""
    return re.compile(pattern)


@dataclass(frozen=True)
class TextLine:
    text: str          # as read (whitespace collapsed)
    norm: str          # lower case, accents folded, for keyword matching
    index: int         # line number within its text
    position: float    # 0 = top of the page .. 1 = bottom
    reading: int       # which text (engine) it came from


def normalise(text: str) -> str:
    """Lower case without accents (``Zurück`` -> ``zuruck``, ``ß`` -> ``ss``), for keyword matching."""
    folded = unicodedata.normalize("NFKD", text.replace("ß", "ss").replace("ẞ", "ss"))
    return "".join(c for c in folded if not unicodedata.combining(c)).lower()


def split_lines(texts: Sequence[str]) -> list[TextLine]:
    """The non-empty lines of each text, numbered within their own text."""
    lines = []
    for reading, text in enumerate(texts):
        raw = [" ".join(line.split()) for line in text[:MAX_TEXT].splitlines()]
        raw = [line for line in raw if line]
        for index, line in enumerate(raw):
            lines.append(TextLine(line, normalise(line), index, index / max(1, len(raw) - 1), reading))
    return lines


def lines_by_reading(lines: list[TextLine]) -> dict[int, list[TextLine]]:
    grouped: dict[int, list[TextLine]] = defaultdict(list)
    for line in lines:
        grouped[line.reading].append(line)
    return grouped


def trust_of(reading_trust: Sequence[float], reading: int) -> float:
    return reading_trust[reading] if reading < len(reading_trust) else 0.0


# --------------------------------------------------------------------------- amounts

AMOUNT = re.compile(
    r"""(?<![\d.,'’])
    (?P<neg>-\s?)?
    (?:(?:€|eur|rm|\$|£|chf|usd)\s?)?
    (?P<int>\d{1,3}(?:(?P<sep>[.,'’])\d{3})(?:(?P=sep)\d{3})*|\d{1,9})
    (?:\s?(?P<dec>[.,])\s?|(?P<dec2>[.,]))(?P<frac>\d{2})
    (?![\d%])(?!\s?%)(?![.,]\d)
    (?P<trail>-(?!\d))?""",
    re.VERBOSE | re.IGNORECASE,
)


@dataclass(frozen=True)
class Amount:
    value: Decimal
    start: int
    end: int


# A number with two decimals where OCR read a digit as a letter: "12,5O", "1O.00", "l4,95".
_MISREAD_NUMBER = re.compile(r"(?:(?<=RM)|(?<=rm)|(?<![\w.,]))[\dOoIl|]{1,7}[.,][\dOoIl|]{2}(?![\w.,])")
_AS_DIGITS = str.maketrans("OoIl|", "00111")


def _digits_for_letters(line: str) -> str:
    """``line`` with O/o read as 0 and I/l/| as 1 inside numbers with a real digit in them (same
    length: positions stay valid)."""
    def fix(m: re.Match[str]) -> str:
        token = m[0]
        return token.translate(_AS_DIGITS) if any(c.isdigit() for c in token) else token
    return _MISREAD_NUMBER.sub(fix, line)


def find_amounts(line: str) -> list[Amount]:
    """Every money amount with two decimals in ``line``: ``1.234,56``, ``1,234.56``, ``€ 12,50``,
    ``12.50-`` (negative), ``-8,79``, and ``12,5O`` as OCR misreads it. Percentages, dates and
    times are not amounts."""
    found = []
    for m in AMOUNT.finditer(_digits_for_letters(line)):
        dec = m["dec"] or m["dec2"]
        if m["sep"] and m["sep"] == dec:
            continue
        whole = re.sub(r"[.,'’]", "", m["int"])
        value = Decimal(f"{whole}.{m['frac']}")
        dash_after_label = bool(m["neg"]) and m["neg"].endswith(" ") and line[:m.start()].rstrip().endswith(":")
        if (m["neg"] and not dash_after_label) or m["trail"]:     # "Totaal: - 51,88" is no minus
            value = -value
        found.append(Amount(value, m.start(), m.end()))
    return found


def format_amount(value: Decimal, style: str) -> str:
    """``value`` written the way receipts print it: ``nl`` 1.234,56 / ``en`` 1,234.56 / ``plain`` 1234.56."""
    sign = "-" if value < 0 else ""
    whole, frac = f"{abs(value):.2f}".split(".")
    if style == "plain":
        return f"{sign}{whole}.{frac}"
    groups = f"{int(whole):,}"
    if style == "nl":
        return f"{sign}{groups.replace(',', '.')},{frac}"
    return f"{sign}{groups}.{frac}"


# --------------------------------------------------------------------------- dates

MONTHS = {
    **dict.fromkeys(["januari", "januar", "janner", "january", "janvier", "jan"], 1),
    **dict.fromkeys(["februari", "februar", "february", "fevrier", "feb", "febr"], 2),
    **dict.fromkeys(["maart", "marz", "maerz", "march", "mars", "mrt", "mar", "mrz"], 3),
    **dict.fromkeys(["april", "avril", "apr", "avr"], 4),
    **dict.fromkeys(["mei", "mai", "may"], 5),
    **dict.fromkeys(["juni", "june", "juin", "jun"], 6),
    **dict.fromkeys(["juli", "july", "juillet", "jul", "juil"], 7),
    **dict.fromkeys(["augustus", "august", "aout", "aug"], 8),
    **dict.fromkeys(["september", "septembre", "sep", "sept"], 9),
    **dict.fromkeys(["oktober", "october", "octobre", "okt", "oct"], 10),
    **dict.fromkeys(["november", "novembre", "nov"], 11),
    **dict.fromkeys(["december", "dezember", "decembre", "dec", "dez"], 12),
}
_MONTH_NAMES = "|".join(sorted((re.escape(m) for m in MONTHS), key=len, reverse=True))
_YEAR_END = r"(?=\d{1,2}:\d{2}|(?![\d:]))"      # a time may be glued on: "18.05.202016:07"
_DATE_PATTERNS = [
    ("ymd", re.compile(r"(?<!\d)(\d{4})([-./])(\d{1,2})\2(\d{1,2})(?!\d)")),
    ("dmy", re.compile(r"(?<![\d.])(\d{1,2})\s?([-./])\s?(\d{1,2})\s?\2\s?(\d{4}|\d{2})" + _YEAR_END)),
    ("d_mon_y", re.compile(r"(?<!\d)(\d{1,2})\.?[\s\-/.]?(" + _MONTH_NAMES + r")\.?[\s\-/.]?(\d{4}|\d{2})" + _YEAR_END)),
    ("mon_d_y", re.compile(r"\b(" + _MONTH_NAMES + r")\.?\s(\d{1,2}),?\s(\d{4})(?!\d)")),
]


def _make_date(year: int, month: int, day: int) -> date | None:
    if year < 100:
        year += 2000
    if not 1990 <= year <= 2100:
        return None
    try:
        return date(year, month, day)
    except ValueError:
        return None


def find_dates(text: str) -> list[date]:
    """Every calendar date written in ``text``, in order: ``14-03-2025``, ``05.06.24``, ``2020-11-21``,
    ``3 februari 2025``, ``18. April 2014``, ``14/Jun/2017``, ``March 5, 2024``. Day first where
    ambiguous (as in NL/DE/UK); month first only when the day-first reading is impossible."""
    norm = normalise(text)
    found: list[tuple[int, date]] = []
    for kind, pattern in _DATE_PATTERNS:
        for m in pattern.finditer(norm):
            if kind == "ymd":
                day = _make_date(int(m[1]), int(m[3]), int(m[4]))
            elif kind == "dmy":
                if len(m[4]) == 2 and " " in m[0] and (len(m[1]) == 1 or len(m[3]) == 1):
                    continue                    # "[2.2 .20": OCR noise, not 02.02.20
                a, b, year = int(m[1]), int(m[3]), int(m[4])
                day = _make_date(year, b, a) or _make_date(year, a, b)
            elif kind == "d_mon_y":
                day = _make_date(int(m[3]), MONTHS[m[2]], int(m[1]))
            else:
                day = _make_date(int(m[3]), MONTHS[m[1]], int(m[2]))
            if day is not None:
                found.append((m.start(), day))
    return [d for _, d in sorted(found, key=lambda item: item[0])]


_COMPACT_DATE = re.compile(r"(?<![\w.,/-])(\d{8})(?![\w.,/-])")


def find_compact_dates(text: str) -> list[date]:
    """Dates printed without separators, as some tills do: ``27032018`` (day first) or ``20180327``
    (year first), a word of its own. Only a last resort: eight digits are as often a number."""
    found = []
    for m in _COMPACT_DATE.finditer(text):
        digits = m[1]
        day = _make_date(int(digits[4:]), int(digits[2:4]), int(digits[:2])) if digits[4:6] in ("19", "20") else None
        if day is None and digits[:2] in ("19", "20"):
            day = _make_date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
        if day is not None:
            found.append(day)
    return found
