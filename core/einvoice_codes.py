"""What the UBL (``core.ubl``) and CII (``core.cii``) builders share. Pure: no I/O.

- code tables: UN/ECE rec 20 unit codes from the free-text unit, the Peppol Electronic Address
  Scheme (EAS) of a VAT id, the payment means code;
- which electronic address (EndpointID / URIID) and legal id a party gets;
- the machine formats of quantities, prices and percentages;
- the preconditions the official rules impose that the user can fix (``check_einvoice_ready``),
  raised as ``ValidationError`` before any XML is built, so no invalid e-invoice leaves core.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from lxml import etree

from core.document import EU_COUNTRIES, DocumentData, DocumentKind, Party, VatTreatment
from core.errors import ValidationError
from core.money import CENT, amount_str
from core.vat import Totals, VatCategory, VatSubtotal

KVK_SCHEME = "0106"      # ICD/EAS: Kamer van Koophandel number

# The categories that carry an exemption reason (BR-AE-10, BR-IC-10, BR-G-10, BR-E-10).
EXEMPT_CATEGORIES = frozenset({VatCategory.EXEMPT, VatCategory.REVERSE_CHARGE, VatCategory.INTRA_EU,
                               VatCategory.EXPORT})

# Free-text unit (lower case, trailing dot removed) -> UN/ECE Recommendation 20 code.
UNIT_CODES: dict[str, str] = {
    **dict.fromkeys(("uur", "uren", "u", "hour", "hours", "h", "hr", "hrs"), "HUR"),
    **dict.fromkeys(("dag", "dagen", "day", "days", "dagdeel"), "DAY"),
    **dict.fromkeys(("week", "weken", "weeks", "wk"), "WEE"),
    **dict.fromkeys(("maand", "maanden", "month", "months", "mnd"), "MON"),
    **dict.fromkeys(("jaar", "jaren", "year", "years", "jr"), "ANN"),
    **dict.fromkeys(("minuut", "minuten", "minute", "minutes", "min"), "MIN"),
    **dict.fromkeys(("stuk", "stuks", "st", "piece", "pieces", "pc", "pcs"), "H87"),
    **dict.fromkeys(("km", "kilometer", "kilometers", "kilometre", "kilometres"), "KMT"),
    **dict.fromkeys(("m", "meter", "meters", "metre", "metres"), "MTR"),
    **dict.fromkeys(("m2", "m²", "vierkante meter"), "MTK"),
    **dict.fromkeys(("m3", "m³", "kuub"), "MTQ"),
    **dict.fromkeys(("kg", "kilo", "kilogram"), "KGM"),
    **dict.fromkeys(("g", "gram"), "GRM"),
    **dict.fromkeys(("l", "liter", "litre", "liters", "litres"), "LTR"),
    **dict.fromkeys(("kwh",), "KWH"),
    **dict.fromkeys(("woord", "woorden", "word", "words"), "D68"),
    **dict.fromkeys(("forfait", "lump sum", "ls", "post"), "LS"),
}
DEFAULT_UNIT_CODE = "C62"   # "one": a unit-less count (sessie, workshop, licentie...)

# Country prefix of a VAT id -> Peppol EAS code for that VAT id as an electronic address.
# Only schemes present in the EAS list of Peppol BIS 3.0.19 (the kit's PEPPOL-EN16931-UBL.sch).
VAT_EAS: dict[str, str] = {
    "AT": "9914", "BE": "9925", "BG": "9926", "CY": "9928", "CZ": "9929", "DE": "9930",
    "DK": "0198", "EE": "9931", "EL": "9933", "GR": "9933", "ES": "9920", "FI": "0213",
    "FR": "9957", "HR": "9934", "HU": "9910", "IE": "9935", "IT": "0211", "LT": "9937",
    "LU": "9938", "LV": "9939", "MT": "9943", "NL": "9944", "PL": "9945", "PT": "9946",
    "RO": "9947", "SI": "9949", "SK": "9950", "CH": "9927", "GB": "9932",
}

# A party with no routable identifier (a consumer, a non-EU company without a VAT id) still needs
# an EndpointID in Peppol BIS (PEPPOL-EN16931-R010/R020). The rules only check that the scheme is in
# the EAS list and, for 0088, the GS1 check digit. This GLN is well-formed and assigned to nobody, so
# an access point fails to route rather than delivering to a wrong party. Such a document is meant to
# travel as an attachment, not over Peppol.
UNROUTABLE_ENDPOINT = ("0088", "0000000000000")

_SEPA_NON_EU = frozenset(["IS", "LI", "NO", "CH", "MC", "SM", "VA", "AD", "GB", "GI"])

# Characters XML 1.0 cannot carry at all (lxml refuses them); user text loses them silently.
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
ITEM_NAME_MAX = 100


@dataclass(frozen=True)
class Endpoint:
    scheme: str
    value: str


def unit_code(unit: str) -> str:
    """UN/ECE rec 20 code for a free-text unit; ``C62`` (one) when unknown or empty."""
    key = " ".join(unit.strip().lower().rstrip(".").split())
    return UNIT_CODES.get(key, DEFAULT_UNIT_CODE)


def clean_text(text: str) -> str:
    """User text made safe for XML: characters XML cannot hold removed, outer whitespace stripped.
    (Markup characters need nothing: lxml escapes them.)"""
    return _NOT_XML.sub("", text or "").strip()


def item_name(description: str) -> str:
    """BT-153: the first line of the description, at most ``ITEM_NAME_MAX`` characters."""
    first = next((part.strip() for part in description.splitlines() if part.strip()), description.strip())
    return first if len(first) <= ITEM_NAME_MAX else first[: ITEM_NAME_MAX - 1].rstrip() + "…"


def compact_id(value: str) -> str:
    return re.sub(r"[\s.\-]", "", value or "").upper()


def endpoint_for(party: Party) -> Endpoint | None:
    """The party's electronic address: KvK (0106), else its VAT id under the country's EAS code.

    ``None`` when the party has neither; the caller decides whether to use ``UNROUTABLE_ENDPOINT``.
    """
    if party.kvk.strip():
        return Endpoint(KVK_SCHEME, compact_id(party.kvk))
    vat = compact_id(party.vat_id)
    scheme = VAT_EAS.get(vat[:2])
    if vat and scheme:
        return Endpoint(scheme, vat)
    return None


def payment_means_code(iban: str) -> str:
    """58 (SEPA credit transfer) for an IBAN in the SEPA area, else 30 (credit transfer)."""
    country = compact_id(iban)[:2]
    return "58" if country in EU_COUNTRIES or country in _SEPA_NON_EU else "30"


def money_str(value: Decimal) -> str:
    """``core.money.amount_str`` without a negative zero: a VAT of -0.002 rounds to -0.00, which the
    CII rules do not take as equal to the 0.00 of the total (BR-CO-14)."""
    text = amount_str(value)
    return "0.00" if text == "-0.00" else text


def decimal_str(value: Decimal) -> str:
    """A quantity or percentage without exponent or trailing zeros: 8, 0.333, 5.5."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


def price_str(value: Decimal) -> str:
    """A unit price: at least two decimals, never rounded (12.50, 1.8500 -> 1.85, 0.3333)."""
    value = value.normalize()
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent > -2:
        value = value.quantize(CENT)
    return format(value, "f")


def exemption_reason(subtotal: VatSubtotal, language: str) -> str:
    return subtotal.exemption_text_en if language == "en" else subtotal.exemption_text_nl


def owed_to_seller(doc: DocumentData, amount_due: Decimal) -> bool:
    """Does the buyer pay the seller? An invoice with a positive, or a credit note with a negative
    amount due. Only then the document carries the seller's payment means."""
    return amount_due < 0 if doc.kind is DocumentKind.CREDIT_NOTE else amount_due > 0


def payment_terms_text(doc: DocumentData, amount_due: Decimal) -> str:
    """BT-20 in the document's language."""
    english = doc.language == "en"
    if amount_due == 0:
        return "Already paid, nothing left to pay." if english else "Reeds voldaan, er staat niets meer open."
    if not owed_to_seller(doc, amount_due):
        if doc.kind is DocumentKind.CREDIT_NOTE:
            original = doc.original_invoice.number if doc.original_invoice else ""
            return (f"Credit for invoice {original}; the amount will be refunded or offset." if english
                    else f"Creditering van factuur {original}; het bedrag wordt terugbetaald of verrekend.")
        return ("Nothing to pay; the balance will be refunded or offset." if english
                else "Er valt niets te betalen; het tegoed wordt terugbetaald of verrekend.")
    reference = doc.effective_payment_reference
    if english:
        due = f" by {doc.due_date.isoformat()}" if doc.due_date else ""
        return f"Please pay{due} to {doc.seller.iban}, quoting {reference}."
    due = f" vóór {doc.due_date.strftime('%d-%m-%Y')}" if doc.due_date else ""
    return f"Graag betalen{due} op {doc.seller.iban} o.v.v. {reference}."


def _require(ok: bool, field: str, message: str) -> None:
    if not ok:
        raise ValidationError(field, message)


def check_einvoice_ready(doc: DocumentData, totals: Totals) -> None:
    """Raise ``ValidationError`` for what EN 16931 / Peppol / the Dutch rules require and the user
    must supply. Each check names the rule it stands for."""
    if doc.kind is DocumentKind.QUOTE:
        raise ValidationError("type", "A quote cannot be sent as an e-invoice; only invoices and credit notes")
    _require(bool(doc.number), "number", "A draft has no number yet; issue it before making an e-invoice")
    _require(bool(doc.lines), "lines", "An e-invoice needs at least one line")           # BR-16
    seller, buyer = doc.seller, doc.buyer
    # BR-S-02, BR-Z-02, BR-E-02, BR-AE-02, BR-IC-02, BR-G-02: every category we use needs it.
    _require(bool(seller.vat_id.strip()), "seller.vat_id", "The e-invoice needs your VAT id (btw-id)")
    if seller.country == "NL":
        _require(bool(seller.kvk.strip()), "seller.kvk", "The e-invoice needs your KvK number")  # NL-R-003
        for name in ("street", "postcode", "city"):                                          # NL-R-002
            _require(bool(getattr(seller, name).strip()), f"seller.{name}",
                     "The e-invoice needs your full address (street, postcode and city)")
        if buyer.country == "NL":                                                            # NL-R-004
            for name in ("street", "postcode", "city"):
                _require(bool(getattr(buyer, name).strip()), f"buyer.{name}",
                         "The e-invoice needs the customer's full address (street, postcode and city)")
    if doc.vat_treatment in (VatTreatment.REVERSE_CHARGE, VatTreatment.INTRA_EU_GOODS):   # BR-AE-02, BR-IC-02
        _require(bool(buyer.vat_id.strip()), "buyer.vat_id",
                 "Reverse charge and intra-EU supplies need the customer's VAT id")
    if doc.vat_treatment is VatTreatment.INTRA_EU_GOODS:                                    # BR-IC-11
        _require(doc.delivery_date is not None, "delivery_date", "An intra-EU supply of goods needs the delivery date")
    if doc.kind is DocumentKind.CREDIT_NOTE:                                                # NL-R-001
        _require(doc.original_invoice is not None, "original_invoice",
                 "A credit note must name the invoice it corrects")
    if owed_to_seller(doc, totals.amount_due):                                              # NL-R-007, BR-61
        _require(bool(seller.iban.strip()), "seller.iban", "The e-invoice needs your IBAN to be paid")


class XmlWriter:
    """What the UBL and CII builders share: the document, its totals and element helpers over a
    prefix -> namespace map (``PREFIXES`` of the subclass)."""

    PREFIXES: dict[str, str] = {}

    def __init__(self, doc: DocumentData, totals: Totals) -> None:
        self.doc = doc
        self.totals = totals
        self.credit = doc.kind is DocumentKind.CREDIT_NOTE
        self.english = doc.language == "en"

    def el(self, parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
        prefix, name = tag.split(":")
        node = etree.SubElement(parent, f"{{{self.PREFIXES[prefix]}}}{name}", attrs)
        if text is not None:
            node.text = text
        return node

    def text(self, parent: etree._Element, tag: str, value: str, **attrs: str) -> None:
        """A text element, left out when the text is empty (empty elements are fatal, R008)."""
        value = clean_text(value)
        if value:
            self.el(parent, tag, value, **attrs)
