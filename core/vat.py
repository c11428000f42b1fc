"""VAT: categories, dated rates, and the exact totals of a document. Pure.

The algorithm (EN 16931, the same numbers on the PDF and in the UBL):
  line net   = round_half_up(quantity x unit price x (1 - line discount/100), 2)
  per VAT category and rate:
    allowance  = round_half_up(sum of line nets x document discount/100, 2)
    base       = sum of line nets - allowance
    VAT        = round_half_up(base x rate/100, 2)
  the document totals are the sums of those.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from core.document import DocumentData, Line, VatTreatment
from core.money import HUNDRED, ZERO, percent_of, round_money


class VatCategory(str, enum.Enum):
    """UNCL 5305 codes as used by EN 16931."""

    STANDARD = "S"
    ZERO = "Z"
    EXEMPT = "E"
    REVERSE_CHARGE = "AE"
    INTRA_EU = "K"
    EXPORT = "G"


# Dutch rates as dated data (art. 9 Wet OB); a change is a new row, never an edit.
RATE_TABLE: tuple[tuple[date, frozenset[Decimal]], ...] = (
    (date(2012, 10, 1), frozenset({Decimal(21), Decimal(6), Decimal(0)})),
    (date(2019, 1, 1), frozenset({Decimal(21), Decimal(9), Decimal(0)})),
)

KOR_NOTE = "Vrijgesteld van btw op grond van de kleineondernemersregeling (KOR)"

# (code, Dutch text, English text) per treatment, for the PDF and the UBL exemption reason.
EXEMPTION = {
    VatTreatment.REVERSE_CHARGE: ("VATEX-EU-AE", "Btw verlegd", "Reverse charge"),
    VatTreatment.INTRA_EU_GOODS: (
        "VATEX-EU-IC", "Intracommunautaire levering, 0% btw (art. 138 Btw-richtlijn)",
        "Intra-community supply of goods, VAT 0% (art. 138 VAT Directive)"),
    VatTreatment.EXPORT: ("VATEX-EU-G", "Export buiten de EU, 0% btw", "Export outside the EU, VAT 0%"),
    VatTreatment.KOR: ("", KOR_NOTE, "Exempt from VAT under the Dutch small business scheme (KOR)"),
    VatTreatment.EXEMPT: ("", "Vrijgesteld van btw (art. 11 Wet OB)", "Exempt from VAT (art. 11 Dutch VAT Act)"),
}


def rates_on(day: date) -> frozenset[Decimal]:
    """The Dutch VAT rates in force on ``day``."""
    current = RATE_TABLE[0][1]
    for start, rates in RATE_TABLE:
        if day >= start:
            current = rates
    return current


def category_for(treatment: VatTreatment, rate: Decimal) -> VatCategory:
    if treatment is VatTreatment.STANDARD:
        return VatCategory.STANDARD if rate > 0 else VatCategory.ZERO
    return {
        VatTreatment.REVERSE_CHARGE: VatCategory.REVERSE_CHARGE,
        VatTreatment.INTRA_EU_GOODS: VatCategory.INTRA_EU,
        VatTreatment.EXPORT: VatCategory.EXPORT,
        VatTreatment.KOR: VatCategory.EXEMPT,
        VatTreatment.EXEMPT: VatCategory.EXEMPT,
    }[treatment]


def effective_rate(treatment: VatTreatment, rate: Decimal) -> Decimal:
    """Only the standard treatment charges VAT; every other treatment is 0 %."""
    return rate if treatment is VatTreatment.STANDARD else Decimal(0)


def line_net(line: Line) -> Decimal:
    return round_money(line.quantity * line.unit_price * (HUNDRED - line.discount_percent) / HUNDRED)


def line_gross(line: Line) -> Decimal:
    """Quantity x unit price before the line discount, rounded to cents."""
    return round_money(line.quantity * line.unit_price)


@dataclass(frozen=True)
class VatSubtotal:
    category: VatCategory
    rate: Decimal
    lines_total: Decimal      # sum of the line nets in this category and rate
    allowance: Decimal        # share of the document discount
    base: Decimal             # taxable amount
    vat: Decimal
    exemption_code: str = ""
    exemption_text_nl: str = ""
    exemption_text_en: str = ""


@dataclass(frozen=True)
class Totals:
    line_nets: tuple[Decimal, ...]
    subtotals: tuple[VatSubtotal, ...]
    lines_total: Decimal
    allowance_total: Decimal
    total_excl: Decimal
    total_vat: Decimal
    total_incl: Decimal
    amount_paid: Decimal
    amount_due: Decimal


def compute_totals(doc: DocumentData) -> Totals:
    nets = tuple(line_net(line) for line in doc.lines)
    groups: dict[tuple[VatCategory, Decimal], Decimal] = {}
    for line, net in zip(doc.lines, nets):
        rate = effective_rate(doc.vat_treatment, line.vat_rate)
        key = (category_for(doc.vat_treatment, rate), rate)
        groups[key] = groups.get(key, ZERO) + net
    code, text_nl, text_en = EXEMPTION.get(doc.vat_treatment, ("", "", ""))
    subtotals = []
    for (category, rate), total in sorted(groups.items(), key=lambda kv: (-kv[0][1], kv[0][0].value)):
        allowance = percent_of(total, doc.discount_percent)
        base = total - allowance
        subtotals.append(VatSubtotal(
            category=category, rate=rate, lines_total=total, allowance=allowance, base=base,
            vat=percent_of(base, rate), exemption_code=code,
            exemption_text_nl=text_nl, exemption_text_en=text_en,
        ))
    lines_total = sum(nets, ZERO)
    allowance_total = sum((s.allowance for s in subtotals), ZERO)
    total_excl = sum((s.base for s in subtotals), ZERO)
    total_vat = sum((s.vat for s in subtotals), ZERO)
    total_incl = total_excl + total_vat
    paid = round_money(doc.amount_paid)
    return Totals(
        line_nets=nets, subtotals=tuple(subtotals), lines_total=lines_total,
        allowance_total=allowance_total, total_excl=total_excl, total_vat=total_vat,
        total_incl=total_incl, amount_paid=paid, amount_due=total_incl - paid,
    )
