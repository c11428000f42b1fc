"""Who sold it: the seller's name on a receipt or invoice, without templates. Pure.

A name is scored by where it sits (the header, above the first price), what it looks like (a legal
form such as GmbH, B.V., Ltd, Sdn Bhd; not an address, a phone number or a slogan), what is around
it (never the customer's block; right after "Verkäufer:"/"Leverancier:"), whether both OCR engines
read it alike, whether it is printed again in the footer, and whether it matches the shop's web
domain. A name printed over two or three header lines ("POPULAR BOOK" / "CO. (M) SDN BHD") is joined;
a name printed letter-spaced ("H E M A") is one word.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

from core.receipt_lines import (
    TextLine,
    find_amounts,
    find_dates,
    lines_by_reading,
    normalise,
    rx,
    split_lines,
    trust_of,
)

BUYER_WORDS = rx(r"\bkaufer|\bkunde\b|\bkunden\b|livraison|facturation|lieferadresse|afleveradres|factuuradres|"
                 r"rechnungsempfanger|leistungsempfanger|\bbuyer\b|customer|bill to|ship to|deliver to|\bklant\b|"
                 r"afnemer|\bclient\b|\bihre\b|\byour\b|\buw\b|^aan\b|^an\b|empfanger")
SELLER_WORDS = rx(r"verkaufer|lieferant\b|rechnungsersteller|\bseller\b|supplier|leverancier|verkoper|"
                  r"^from\b|^van\b|\bvendor\b|issuer|aussteller")
LEGAL_FORMS = rx(r"\b(gmbh|mbh|b\.\s?v\.?|bv|n\.\s?v\.?|v\.o\.f\.?|vof|sdn\.?\s?bhd|bhd|s/b|ltd|limited|inc|llc|"
                 r"e\.\s?k\.|ohg|sarl|s\.a\.s?|gbr|plc|& co\b|co\.\s?kg|kgaa|a\.g\.|srl|spa|bvba|cv)(\W|$)")
_LEGAL_FORMS_ANY_CASE = re.compile(LEGAL_FORMS.pattern, re.IGNORECASE)
LEGAL_FORMS_UPPER = re.compile(r"\b(AG|KG|SE|UG|OY|AB|AS|SA|NV|BV)\b")     # only in capitals: not "kg" of cheese
TRADE_WORDS = rx(r"\b(enterprise|trading|restaurant|store|markt|market|mart|shop|winkel|apotheke|apotheek|"
                 r"bakkerij|backerei|drogerie|supermarkt|tankstelle|hardware|stationery|bistro|cafe|hotel|pharmacy|"
                 r"bakery|kitchen|services|holding|groep|group|handel|versicherung|verein|"
                 r"cash ?(&|and|en|und) ?carry)\b")
ADDRESS_WORDS = rx(r"straat|str\.|strasse|\bweg\b|laan|plein|gracht|kade|dijk|singel|road|street|avenue|platz|"
                   r"allee|gasse|\bring\b|postbus|postfach|p\.?o\.? box|\brue\b|\bchemin\b|\bjalan\b|\bjln\b|\btaman\b|"
                   r"\bfloor\b|\bflr\b|\blevel\b|\blot\b|\bunit\b|\bblok\b|\bblock\b|\bsuite\b|\betage\b|#\d|\bno\.? ?\d|"
                   r"\b\d{4}\s?[a-z]{2}\b|\b\d{5}\b|"
                   r"[a-z](weg|straat|strasse|str|laan|plein|gracht|kade|dijk|singel|allee|gasse|platz|damm)\.?\s?\d{1,4}[a-z]?\b|"
                   r"^[^\d]{3,40}\s\d{1,4}[a-z]?(?:\s?-\s?\d{1,4}[a-z]?)?$")    # "Pohlweg 110", "Kamp 30-32"
COUNTRY_WORDS = rx(r"\bnl\b|deutschland|nederland|belgie|belgique|france|osterreich|schweiz")
CONTACT_WORDS = rx(r"\btel|fax|phone|telefon|www|http|@|e-?mail|\bkvk\b|\bbtw\b|ust|\bvat\b|\bgst\b|iban|\bbic\b|"
                   r"\breg\b|registr|steuer|handelsreg|amtsgericht|hrb|company no|co\.? no|\(\d{5,}|\d{6,}-[a-z]|"
                   r"kontonam|konto|handelsname|\bgln\b|kundennummer|kunden-?nr|customer no|klantnummer|debiteur")
GENERIC_WORDS = rx(r"rechnung|invoice|factuur|receipt|kassenbon|kassabon|\bbon\b|quittung|beleg|welcome|willkommen|"
                   r"welkom|thank|danke|bedankt|filiale|kasse|datum|\bdate\b|seite|page|\bcopy\b|kopie|"
                   r"offnungszeiten|opening|openingstijden|hours|cashier|kassier|table|\btafel\b|order|"
                   r"bestel|\beur\b|\bsumme\b|\btotal|\btax\b|simplified|copyright|\(c\)|©|"
                   r"\bcash\b(?! ?(&|and|en|und) ?carry)|\bmember\b|"
                   r"\bpos\b|terminal|geschaftsfuhrer|director|bank|version|adresse|address|adres|lieferung|delivery|"
                   r"herrn|\bfrau\b|\bmrs?\b(?!\.)|dhr|mevr|\bqty\b|\bdesc|\bprice|\bamount|returnable|refundable|"
                   r"umtausch|ruil")
_NAME_PREFIX = re.compile(r"^(name|naam|firma|company|bedrijf|verkaufer|verkäufer|lieferant|seller|supplier|"
                          r"leverancier|van|from|vendor)\s*:\s*", re.IGNORECASE)
_REGISTRATION = re.compile(r"\((?=[^)]*\d{4,})[^)]{3,40}\)|\(\s*co\.?\s?(?:no|reg)[^)]*\)?", re.IGNORECASE)
_SEGMENT = re.compile(r"\s[-–|•●·]\s|,\s|\s{3,}")
_CONTINUATION = re.compile(r"^(co\b|co\.|&|\(|and\b|und\b|en\b|enterprise|trading|gmbh|mbh|sdn|bhd|b\.?v\b|"
                           r"n\.?v\b|ltd|limited|inc\b|ag\b|kg\b|s/b)")
# "www.bakker-jansen.nl", and as OCR reads it: "www bakker-jansen. nl", "www,bakker-| jansen.nl".
_DOMAIN = re.compile(r"(?:www\s?[.,]\s?|www\s|@|https?://)([a-z0-9][a-z0-9-]{2,})(?:\s?\.\s?[a-z]{2,}|[-|])")
_FREEMAIL = {"gmail", "hotmail", "outlook", "yahoo", "live", "icloud", "kpnmail", "ziggo", "gmx", "web", "t-online"}


@dataclass
class _Candidate:
    score: float
    rank_bonus: float       # for being among the first plausible header lines
    line: TextLine
    name: str
    keys: set[str]          # normalised spellings, to recognise the same name read elsewhere


def find_vendor(lines: list[TextLine], reading_trust: Sequence[float] = ()) -> tuple[str | None, float]:
    """The seller's name and a confidence (0..1), or ``(None, 0.0)``."""
    found = {m[1].rstrip("-") for ln in lines for m in _DOMAIN.finditer(ln.norm)}
    domains = {d for d in (f.split("-")[0] for f in found) if len(d) >= 4} - _FREEMAIL
    domains |= {f.replace("-", "") for f in found if "-" in f and f.split("-")[0] in domains}
    several = len({ln.reading for ln in lines}) > 1
    scored: list[_Candidate] = []
    for reading_lines in lines_by_reading(lines).values():
        scored.extend(_candidates(reading_lines, domains, reading_trust))
    if not scored:
        return None, 0.0
    boosted = []
    for cand in scored:
        echoes = [o for o in scored if o is not cand and any(_same_name(a, b) for a in cand.keys for b in o.keys)]
        echoed = any(o.line.reading != cand.line.reading for o in echoes)
        # A top line only one engine could read is often a logo read as noise.
        score = cand.score + (cand.rank_bonus if echoed or not several else 0.5 * cand.rank_bonus)
        if echoed:
            score += 1                                   # both engines read the same name
        if any(o.line.reading == cand.line.reading and abs(o.line.index - cand.line.index) > 3 for o in echoes):
            score += 1.5                                 # printed in the header and again in the footer
        boosted.append((score, cand))
    score, best = max(boosted, key=lambda item: (item[0], -item[1].line.index))
    if score <= 0 or not best.name:
        return None, 0.0
    return best.name[:120], round(min(0.9, 0.3 + 0.07 * score), 2)


def name_lines(texts: Sequence[str], limit: int = 2) -> list[int]:
    """Indexes of the (non-empty) lines of one OCR reading that most look like the seller's name,
    both lines of a name printed over two, best first: what a second engine should read again."""
    lines = split_lines(["\n".join(texts)])
    ranked = sorted(_candidates(lines, set(), ()), key=lambda c: -(c.score + c.rank_bonus))
    found: list[int] = []
    for cand in ranked[:limit]:
        found += [cand.line.index - 1, cand.line.index] if len(cand.keys) > 1 else [cand.line.index]
    return found


def _candidates(reading_lines: list[TextLine], domains: set[str], reading_trust: Sequence[float]) -> list[_Candidate]:
    found: list[_Candidate] = []
    rank, header = 0, True
    for i, line in enumerate(reading_lines):
        header = header and not find_amounts(line.text)       # the header ends at the first price
        near_top = header and rank < 8
        if not (near_top or LEGAL_FORMS.search(line.norm) or _NAME_PREFIX.match(line.text)
                or any(d in line.norm.replace(" ", "") for d in domains)):
            continue
        text = _name_part(_unspaced(line.text))
        context = [ln.norm.replace(" ", "") for ln in reading_lines[max(0, i - 4):i]]
        score = _vendor_score(text, context)
        if score <= -10:
            continue
        name = _clean(text)
        cand = _Candidate(score + 0.2 * trust_of(reading_trust, line.reading),
                          max(0.0, 4.0 - rank) if near_top else 0.0, line, name, {normalise(name)})
        rank += 1
        above = reading_lines[i - 1] if i else None
        if above is not None and _joins_above(above, line):
            _prepend(cand, above, found)
            top = reading_lines[i - 2] if i >= 2 else None
            if top is not None and _continues_over_three(top, above):
                _prepend(cand, top, found)
        elif _letters(LEGAL_FORMS.sub(" ", normalise(text))) < 3:
            cand.score -= 4                                     # "GmbH & Co. KG" alone
        compact = re.sub(r"[^a-z0-9]", "", normalise(cand.name))
        if compact in domains:
            cand.score += 5                                     # "Bakker Jansen", www.bakker-jansen.nl
        elif any(d in compact for d in domains):
            cand.score += 3.5
        found.append(cand)
    return found


def _vendor_score(text: str, context: list[str]) -> float:
    """How much ``text`` looks like a seller's name, wherever it is; ``context``: the (space-free,
    normalised) lines just above it. -10 means noise."""
    norm = normalise(text)
    if _letters(text) < 2 or _looks_like_noise(_NAME_PREFIX.sub("", text)):
        return -10
    score = 0.0
    if LEGAL_FORMS.search(norm) or LEGAL_FORMS_UPPER.search(text):
        score += 2.5
    elif TRADE_WORDS.search(norm):
        score += 1
    legal = bool(LEGAL_FORMS.search(norm) or LEGAL_FORMS_UPPER.search(text))
    for words, penalty in ((ADDRESS_WORDS, 4), (CONTACT_WORDS, 4), (GENERIC_WORDS, 1 if legal else 3)):
        if words.search(norm):
            score -= penalty                    # a generic word in a legal name: "Cash & Carry Sdn Bhd"
    if COUNTRY_WORDS.search(norm) and score < 2:
        score -= 4                              # "Nederland" on the address line; not "Lidl Nederland GmbH"
    if find_amounts(text) or find_dates(text):
        score -= 4
    if len(text) > 60:
        score -= 2
    if text.rstrip().endswith(":"):
        score -= 2                              # a label: "Voor vragen kunt u bellen met:"
    if text.startswith("(") and text.endswith(")"):
        score -= 2                              # "(CITY MALL)": a branch, not the name
    if text == text.lower():
        score -= 1                              # printed names are capitalised; handwriting is not
    if not LEGAL_FORMS.search(norm) and re.search(r"[^\W\d_]{3,}[.!?]$", text) and len(text.split()) >= 3:
        score -= 2                              # a sentence: "Zo vers als het maar kan." is a slogan
    if any(BUYER_WORDS.search(c) for c in context) or BUYER_WORDS.search(norm):
        score -= 6
    if any(SELLER_WORDS.search(c) for c in context[-2:]):
        score += 3
    if _NAME_PREFIX.match(text):
        score += 1.5
    return score


_SPACED = re.compile(r"(?:[A-ZÄÖÜ]{1,2} ){2,}[A-ZÄÖÜ]{1,2}")


def _unspaced(text: str) -> str:
    """A name printed letter-spaced ("H E M A", read "H E MA") as one word; other lines as they are."""
    stripped = text.strip()
    if _SPACED.fullmatch(stripped) and _letters(stripped) >= 4:
        return stripped.replace(" ", "")
    return text


def _letters(text: str) -> int:
    return sum(c.isalpha() for c in text)


def _looks_like_noise(text: str) -> bool:
    """OCR of a logo or a smudge: few real words, many one-letter scraps and symbols."""
    wordlike = [t for t in text.split() if _letters(t) >= 2 and _letters(t) >= 0.5 * len(t)]
    if not any(_letters(t) >= 3 for t in wordlike):
        return True
    if LEGAL_FORMS.search(normalise(text)):
        return False                    # initials with a legal form: "A.B.C. (M) SDN BHD"
    return sum(len(t) for t in wordlike) < 0.6 * len(text.replace(" ", ""))


def _name_part(text: str) -> str:
    """The name in a line: registration numbers in brackets dropped ("AEON CO. (M) BHD. (126926-H)"),
    and a legal name before address parts kept ("Au bon moulin SARL - 1242 chemin de l'olive")."""
    text = " ".join(_REGISTRATION.sub(" ", text).split()) or text
    ends = [m.end(1) for m in _LEGAL_FORMS_ANY_CASE.finditer(text)]
    if ends and _letters(text[ends[-1]:]) < 2:
        text = text[:ends[-1]]          # "Bakker Jansen B.V. a 0": a smudge after the legal form
    head = _SEGMENT.split(text, maxsplit=1)[0]
    if head != text and _letters(head) >= 3 and (LEGAL_FORMS.search(normalise(head)) or LEGAL_FORMS_UPPER.search(head)):
        return head
    return text


def _clean(text: str) -> str:
    return _NAME_PREFIX.sub("", text).strip(" |:;,-_*'\"“”‘’!¡=~").lstrip(".")


def _joins_above(above: TextLine, line: TextLine) -> bool:
    """A name printed over two header lines, the second continuing the first: with a legal form
    ("POPULAR BOOK" / "CO. (M) SDN BHD"), or a trade word under a short name ("DELFT" / "APOTHEEK")."""
    if _is_trade_under_name(above, line) or _is_brand_over_company(above, line):
        return True
    continues = (bool(_CONTINUATION.match(line.norm)) or bool(re.search(r"(&|-|\band|\bund|\ben)$", above.norm))
                 or above.text.count("(") > above.text.count(")"))      # "HARDWARE (SETIA" / "ALAM) SDN BHD"
    return (continues and line.index < 10 and above.index == line.index - 1
            and (LEGAL_FORMS.search(line.norm) is not None or LEGAL_FORMS_UPPER.search(line.text) is not None)
            and not LEGAL_FORMS.search(above.norm) and not _NAME_PREFIX.match(line.text)
            and not SELLER_WORDS.search(above.norm.replace(" ", "")) and not above.text.rstrip().endswith(":")
            and _vendor_score(_name_part(above.text), []) > -2)


def _prepend(cand: _Candidate, upper: TextLine, found: list[_Candidate]) -> None:
    """Join the header line ``upper`` in front of ``cand``'s name; its own candidate (if any) merges in."""
    own = next((c for c in found if c.line is upper), None)
    if own is not None:
        found.remove(own)
        cand.rank_bonus = max(cand.rank_bonus, own.rank_bonus)
    upper_name = _clean(_name_part(upper.text))
    cand.name = f"{upper_name} {cand.name}"
    cand.keys.add(normalise(upper_name))


def _continues_over_three(top: TextLine, middle: TextLine) -> bool:
    """A legal name over three header lines ("BAKKER HUAT HARDWARE" / "ENTERPRISE (NORTH" /
    "SIDE) SDN BHD"): the middle line continues the top one, which has no legal form of its own."""
    return (top.index == middle.index - 1 and _CONTINUATION.match(middle.norm) is not None
            and not LEGAL_FORMS.search(top.norm) and not find_amounts(top.text)
            and not top.text.rstrip().endswith(":") and not SELLER_WORDS.search(top.norm.replace(" ", ""))
            and _vendor_score(_name_part(top.text), []) > -2)


def _is_trade_under_name(above: TextLine, line: TextLine) -> bool:
    words, above_words = line.norm.split(), above.norm.split()
    return (above.index == line.index - 1 and line.index < 6 and len(words) <= 2 and len(above_words) <= 3
            and above.text[:1].isupper() and TRADE_WORDS.search(line.norm) is not None and TRADE_WORDS.search(above.norm) is None
            and not any(c.isdigit() for c in above.text + line.text) and not above.text.rstrip().endswith(":")
            and _vendor_score(_name_part(above.text), []) > -2 and not SELLER_WORDS.search(above.norm))


def _is_brand_over_company(above: TextLine, line: TextLine) -> bool:
    """A brand in capitals over the company's legal name ("KOFFIEHUIS" / "Van Dam Horeca B.V.")."""
    return (above.index == line.index - 1 and line.index < 6 and len(above.norm.split()) <= 2
            and re.fullmatch(r"[A-ZÄÖÜ&\- ]{3,30}", above.text.strip()) is not None
            and (LEGAL_FORMS.search(line.norm) is not None or LEGAL_FORMS_UPPER.search(line.text) is not None)
            and not LEGAL_FORMS.search(above.norm) and _vendor_score(above.text, []) > -2)


def _ratio(a: str, b: str) -> float:
    return SequenceMatcher(None, a, b).ratio()


def _same_name(a: str, b: str) -> bool:
    """Two readings of one name: similar, a little more leniently for long names (more letters
    for OCR to get wrong: "Westfalen Tankstelle" / "Nestialjen-tankstelie")."""
    return _ratio(a, b) >= (0.75 if min(len(a), len(b)) >= 12 else 0.8)
