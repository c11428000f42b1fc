"""Read the numbers back out of a UBL or CII document, to compare them with ``Totals`` to the cent.

The official rules tolerate differences below EUR 1 (BR-CO-17), so the cents are checked here: every
amount is compared as the exact string ``core.money.amount_str`` makes of the ``Totals`` value.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from lxml import etree

from core.money import amount_str, round_money
from core.vat import Totals

UBL_NS = {
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}
CII_NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
}


def _money(value: Decimal) -> str:
    # A VAT of -0.002 is Decimal("-0.00") in Totals; the documents write it as 0.00 (BR-CO-14).
    text = amount_str(value)
    return "0.00" if text == "-0.00" else text


def expected_numbers(totals: Totals, *, discount: bool) -> dict[str, Any]:
    amount_str = _money
    return {
        "line_nets": [amount_str(n) for n in totals.line_nets],
        "subtotals": [(s.category.value, s.rate, amount_str(s.base), amount_str(s.vat)) for s in totals.subtotals],
        "allowances": ([(s.category.value, s.rate, amount_str(s.allowance), amount_str(s.lines_total))
                        for s in totals.subtotals] if discount else []),
        "total_vat": amount_str(totals.total_vat),
        "lines_total": amount_str(totals.lines_total),
        "allowance_total": amount_str(totals.allowance_total) if discount else None,
        "total_excl": amount_str(totals.total_excl),
        "total_incl": amount_str(totals.total_incl),
        "prepaid": amount_str(totals.amount_paid) if totals.amount_paid > 0 else None,
        "payable": amount_str(totals.amount_due),
    }


class _Reader:
    def __init__(self, xml: bytes, ns: dict[str, str]) -> None:
        self.root = etree.fromstring(xml)
        self.ns = ns

    def all(self, path: str, node: Any = None) -> list[Any]:
        return (self.root if node is None else node).xpath(path, namespaces=self.ns)

    def one(self, path: str, node: Any = None) -> str:
        values = self.all(path, node)
        assert len(values) == 1, f"{path}: expected exactly one, found {len(values)}"
        return str(values[0])

    def maybe(self, path: str, node: Any = None) -> str | None:
        values = self.all(path, node)
        assert len(values) <= 1, f"{path}: more than one"
        return str(values[0]) if values else None


def _category(r: _Reader, node: Any) -> tuple[str, Decimal]:
    return r.one("cac:TaxCategory/cbc:ID/text()", node), Decimal(r.one("cac:TaxCategory/cbc:Percent/text()", node))


def ubl_numbers(xml: bytes) -> dict[str, Any]:
    r = _Reader(xml, UBL_NS)
    lines = r.all("cac:InvoiceLine | cac:CreditNoteLine")
    total = "cac:LegalMonetaryTotal/cbc:"
    return {
        "line_nets": [r.one("cbc:LineExtensionAmount/text()", line) for line in lines],
        "subtotals": [(*_category(r, s), r.one("cbc:TaxableAmount/text()", s), r.one("cbc:TaxAmount/text()", s))
                      for s in r.all("cac:TaxTotal/cac:TaxSubtotal")],
        "allowances": [(*_category(r, a), r.one("cbc:Amount/text()", a), r.one("cbc:BaseAmount/text()", a))
                       for a in r.all("cac:AllowanceCharge")],
        "total_vat": r.one("cac:TaxTotal/cbc:TaxAmount/text()"),
        "lines_total": r.one(total + "LineExtensionAmount/text()"),
        "allowance_total": r.maybe(total + "AllowanceTotalAmount/text()"),
        "total_excl": r.one(total + "TaxExclusiveAmount/text()"),
        "total_incl": r.one(total + "TaxInclusiveAmount/text()"),
        "prepaid": r.maybe(total + "PrepaidAmount/text()"),
        "payable": r.one(total + "PayableAmount/text()"),
    }


def cii_numbers(xml: bytes) -> dict[str, Any]:
    r = _Reader(xml, CII_NS)
    trade = "rsm:SupplyChainTradeTransaction/"
    settlement = trade + "ram:ApplicableHeaderTradeSettlement/"
    total = settlement + "ram:SpecifiedTradeSettlementHeaderMonetarySummation/ram:"
    return {
        "line_nets": r.all(trade + "ram:IncludedSupplyChainTradeLineItem/ram:SpecifiedLineTradeSettlement/"
                           "ram:SpecifiedTradeSettlementLineMonetarySummation/ram:LineTotalAmount/text()"),
        "subtotals": [(r.one("ram:CategoryCode/text()", t), Decimal(r.one("ram:RateApplicablePercent/text()", t)),
                       r.one("ram:BasisAmount/text()", t), r.one("ram:CalculatedAmount/text()", t))
                      for t in r.all(settlement + "ram:ApplicableTradeTax")],
        "allowances": [(r.one("ram:CategoryTradeTax/ram:CategoryCode/text()", a),
                        Decimal(r.one("ram:CategoryTradeTax/ram:RateApplicablePercent/text()", a)),
                        r.one("ram:ActualAmount/text()", a), r.one("ram:BasisAmount/text()", a))
                       for a in r.all(settlement + "ram:SpecifiedTradeAllowanceCharge")],
        "total_vat": r.one(total + "TaxTotalAmount/text()"),
        "lines_total": r.one(total + "LineTotalAmount/text()"),
        "allowance_total": r.maybe(total + "AllowanceTotalAmount/text()"),
        "total_excl": r.one(total + "TaxBasisTotalAmount/text()"),
        "total_incl": r.one(total + "GrandTotalAmount/text()"),
        "prepaid": r.maybe(total + "TotalPrepaidAmount/text()"),
        "payable": r.one(total + "DuePayableAmount/text()"),
    }


def ubl_lines(xml: bytes) -> list[tuple[Decimal, Decimal, list[Decimal], Decimal]]:
    """(quantity, price, line allowances, line net) of every line."""
    r = _Reader(xml, UBL_NS)
    return [(Decimal(r.one("cbc:InvoicedQuantity/text() | cbc:CreditedQuantity/text()", ln)),
             Decimal(r.one("cac:Price/cbc:PriceAmount/text()", ln)),
             [Decimal(a) for a in r.all("cac:AllowanceCharge[cbc:ChargeIndicator='false']/cbc:Amount/text()", ln)],
             Decimal(r.one("cbc:LineExtensionAmount/text()", ln)))
            for ln in r.all("cac:InvoiceLine | cac:CreditNoteLine")]


def cii_lines(xml: bytes) -> list[tuple[Decimal, Decimal, list[Decimal], Decimal]]:
    r = _Reader(xml, CII_NS)
    allowances = "ram:SpecifiedLineTradeSettlement/ram:SpecifiedTradeAllowanceCharge[ram:ChargeIndicator/*='false']"
    return [(Decimal(r.one("ram:SpecifiedLineTradeDelivery/ram:BilledQuantity/text()", ln)),
             Decimal(r.one("ram:SpecifiedLineTradeAgreement/ram:NetPriceProductTradePrice/"
                           "ram:ChargeAmount/text()", ln)),
             [Decimal(a) for a in r.all(allowances + "/ram:ActualAmount/text()", ln)],
             Decimal(r.one("ram:SpecifiedLineTradeSettlement/ram:SpecifiedTradeSettlementLineMonetarySummation/"
                           "ram:LineTotalAmount/text()", ln)))
            for ln in r.all("rsm:SupplyChainTradeTransaction/ram:IncludedSupplyChainTradeLineItem")]


def assert_lines_add_up(lines: list[tuple[Decimal, Decimal, list[Decimal], Decimal]]) -> None:
    """quantity x price, rounded to cents, minus the line allowances is the line net, exactly: the
    Peppol rule R120 allows 0.02 of slack (and CII has no such rule at all), we allow none."""
    for index, (quantity, price, allowances, net) in enumerate(lines, start=1):
        assert round_money(quantity * price) - sum(allowances, Decimal(0)) == net, \
            f"line {index}: {quantity} x {price} - {allowances} != {net}"


def report(findings: list[Any]) -> str:
    """The findings, one a line, for an assertion message."""
    return "\n".join(f"[{f.layer}] {f.flag} {f.id} {f.text} @ {f.location}" for f in findings) or "(none)"
