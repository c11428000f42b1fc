"""The "factuur-APK": everything missing or inconsistent before a document may be sent. Pure.

``check_document(doc)`` returns findings; a blocking one stops sending (art. 35a Wet OB fields,
VAT treatment rules, credit note references); the others are advice. Messages are English
msgids translated through ``core.i18n``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Callable

from core.document import EU_COUNTRIES, DocumentData, DocumentKind, Party, VatTreatment
from core.errors import ValidationError
from core.i18n import translate
from core.identifiers import clean_email, clean_iban, clean_kvk, clean_postcode, clean_vat_id, vat_id_country
from core.vat import compute_totals, rates_on

MAX_B2B_TERM_DAYS = 60


@dataclass(frozen=True)
class Finding:
    code: str
    field: str
    message: str
    blocking: bool = True
    params: dict[str, Any] = field(default_factory=dict)

    def text(self, language: str = "nl") -> str:
        params = {k: (", ".join(translate(language, v) for v in value) if isinstance(value, tuple) else value)
                  for k, value in self.params.items()}
        return translate(language, self.message, **params)


def has_blocking(findings: list[Finding]) -> bool:
    return any(f.blocking for f in findings)


class _Collector:
    def __init__(self) -> None:
        self.findings: list[Finding] = []

    def add(self, code: str, field: str, message: str, *, blocking: bool = True, **params: Any) -> None:
        self.findings.append(Finding(code, field, message, blocking, params))

    def identifier(self, cleaner: Callable[..., str], value: str, field: str, **kw: Any) -> None:
        try:
            cleaner(value, field=field, **kw)
        except ValidationError as exc:
            self.findings.append(Finding(f"{field}.invalid", field, exc.message, True, exc.params))


def check_document(doc: DocumentData) -> list[Finding]:
    out = _Collector()
    billing = doc.kind is not DocumentKind.QUOTE
    due = doc.kind is DocumentKind.INVOICE and compute_totals(doc).amount_due > 0
    _check_seller(out, doc.seller, billing=billing, kor=doc.vat_treatment is VatTreatment.KOR, due=due)
    _check_buyer(out, doc.buyer, billing=billing)
    _check_treatment(out, doc)
    _check_dates_and_references(out, doc)
    _check_amounts(out, doc)
    return out.findings


def _check_address(out: _Collector, party: Party, who: str, *, blocking: bool) -> None:
    missing = [name for name in ("street", "postcode", "city") if not getattr(party, name)]
    if missing:
        message = ("The full address of the seller is required (missing: {fields})" if who == "seller"
                   else "The full address of the buyer is required (missing: {fields})")
        out.add(f"{who}.address.missing", f"{who}.{missing[0]}", message,
                blocking=blocking, fields=tuple(missing))
    elif party.country == "NL":
        out.identifier(clean_postcode, party.postcode, f"{who}.postcode", country="NL")


def _check_seller(out: _Collector, seller: Party, *, billing: bool, kor: bool, due: bool) -> None:
    _check_address(out, seller, "seller", blocking=True)
    if not seller.kvk:
        out.add("seller.kvk.missing", "seller.kvk", "The KvK number of the seller is missing", blocking=billing)
    else:
        out.identifier(clean_kvk, seller.kvk, "seller.kvk")
    if not seller.vat_id:
        out.add("seller.vat_id.missing", "seller.vat_id", "The btw-id of the seller is missing",
                blocking=billing and not kor)
    else:
        out.identifier(clean_vat_id, seller.vat_id, "seller.vat_id")
    if not seller.iban:
        out.add("seller.iban.missing", "seller.iban", "No IBAN: the customer does not know where to pay",
                blocking=billing and due)
    else:
        out.identifier(clean_iban, seller.iban, "seller.iban")
    if seller.email:
        out.identifier(clean_email, seller.email, "seller.email")


def _check_buyer(out: _Collector, buyer: Party, *, billing: bool) -> None:
    _check_address(out, buyer, "buyer", blocking=billing)
    if buyer.vat_id:
        out.identifier(clean_vat_id, buyer.vat_id, "buyer.vat_id")
    if buyer.kvk and buyer.country == "NL":
        out.identifier(clean_kvk, buyer.kvk, "buyer.kvk")
    if buyer.email:
        out.identifier(clean_email, buyer.email, "buyer.email")


def _check_treatment(out: _Collector, doc: DocumentData) -> None:
    treatment, buyer = doc.vat_treatment, doc.buyer
    charged = [i for i, line in enumerate(doc.lines) if line.vat_rate != 0]
    if treatment in (VatTreatment.REVERSE_CHARGE, VatTreatment.INTRA_EU_GOODS):
        if not buyer.is_business:
            out.add("buyer.consumer", "buyer.is_business",
                    "Reverse charge and intra-EU supplies are only for business customers")
        if not buyer.vat_id:
            out.add("buyer.vat_id.missing", "buyer.vat_id",
                    "The btw-id of the buyer is required for reverse charge and intra-EU supplies")
        elif vat_id_country(buyer.vat_id) != buyer.country:
            out.add("buyer.vat_id.country", "buyer.vat_id",
                    "The btw-id of the buyer is from another country than the address", blocking=False)
        if buyer.country not in EU_COUNTRIES or buyer.country == doc.seller.country:
            out.add("buyer.country.not_eu", "buyer.country",
                    "Reverse charge and intra-EU supplies need a buyer in another EU country")
    if treatment is VatTreatment.INTRA_EU_GOODS and doc.delivery_date is None:
        out.add("delivery_date.missing.intra_eu", "delivery_date",
                "An intra-EU supply of goods needs the delivery date")
    if treatment is VatTreatment.EXPORT and buyer.country in EU_COUNTRIES:
        out.add("buyer.country.in_eu", "buyer.country", "Export is only for customers outside the EU")
    if treatment is VatTreatment.KOR and not doc.seller.kor:
        out.add("seller.kor.not_registered", "seller.kor",
                "The KOR note is only for a company that uses the small business scheme (KOR)")
    if doc.seller.kor and treatment is VatTreatment.STANDARD and charged:
        out.add("seller.kor.charges_vat", f"lines[{charged[0]}].vat_rate",
                "The company uses the KOR: its invoices must not charge VAT")
    if treatment in (VatTreatment.KOR, VatTreatment.EXEMPT) and charged:
        out.add("lines.vat_rate.exempt", f"lines[{charged[0]}].vat_rate",
                "No VAT may be charged on an exempt or KOR invoice, but line {line} has {rate}% VAT",
                line=charged[0] + 1, rate=doc.lines[charged[0]].vat_rate)
    if treatment in (VatTreatment.REVERSE_CHARGE, VatTreatment.INTRA_EU_GOODS, VatTreatment.EXPORT) and charged:
        out.add("lines.vat_rate.ignored", f"lines[{charged[0]}].vat_rate",
                "Line {line} has {rate}% VAT, but this treatment charges 0%: it is invoiced without VAT",
                blocking=False, line=charged[0] + 1, rate=doc.lines[charged[0]].vat_rate)
    if treatment is VatTreatment.STANDARD:
        allowed = rates_on(doc.delivery_date or doc.issue_date)
        for i, line in enumerate(doc.lines):
            if line.vat_rate not in allowed:
                out.add("lines.vat_rate.unknown", f"lines[{i}].vat_rate",
                        "There is no Dutch VAT rate of {rate}% (allowed: {allowed})",
                        rate=line.vat_rate, allowed=", ".join(f"{r}%" for r in sorted(allowed, reverse=True)))


def _check_dates_and_references(out: _Collector, doc: DocumentData) -> None:
    if doc.kind is not DocumentKind.QUOTE:
        if not doc.number:
            out.add("number.missing", "number", "No number yet: Klerk assigns the next one when it is sent",
                    blocking=False)
        if doc.delivery_date is None:
            out.add("delivery_date.missing", "delivery_date",
                    "No delivery date: the issue date is taken as the date of delivery", blocking=False)
        if doc.due_date is not None and doc.due_date < doc.issue_date:
            out.add("due_date.before_issue", "due_days", "The due date lies before the issue date")
        elif (doc.due_date is not None and doc.buyer.is_business
              and (doc.due_date - doc.issue_date).days > MAX_B2B_TERM_DAYS):
            out.add("due_date.too_long", "due_days",
                    "A payment term over {days} days between businesses is only allowed if not grossly unfair",
                    blocking=False, days=MAX_B2B_TERM_DAYS)
    if doc.kind is DocumentKind.QUOTE and doc.valid_until is not None and doc.valid_until < doc.issue_date:
        out.add("valid_until.before_issue", "due_days", "The quote expires before its issue date")
    if doc.kind is DocumentKind.CREDIT_NOTE:
        if doc.original_invoice is None:
            out.add("original_invoice.missing", "original_invoice",
                    "A credit note must name the invoice it corrects (number and date)")
        elif doc.original_invoice.issue_date > doc.issue_date:
            out.add("original_invoice.later", "original_invoice.issue_date",
                    "The corrected invoice is dated after the credit note")
    elif doc.original_invoice is not None:
        out.add("original_invoice.unexpected", "original_invoice",
                "Only a credit note refers to an original invoice", blocking=False)


def _check_amounts(out: _Collector, doc: DocumentData) -> None:
    totals = compute_totals(doc)
    for i, line in enumerate(doc.lines):
        if line.quantity == 0:
            out.add("lines.quantity.zero", f"lines[{i}].quantity", "Line {line} has quantity 0",
                    blocking=False, line=i + 1)
        if not Decimal(0) <= line.discount_percent <= Decimal(100):
            out.add("lines.discount.range", f"lines[{i}].discount_percent",
                    "A discount lies between 0 and 100%")
    if not Decimal(0) <= doc.discount_percent <= Decimal(100):
        out.add("discount.range", "discount_percent", "A discount lies between 0 and 100%")
    if doc.kind is not DocumentKind.QUOTE and totals.total_incl < 0:
        out.add("total.negative", "lines",
                "The total is negative: make a credit note for the invoice you correct instead")
    if doc.amount_paid < 0 or doc.amount_paid > max(totals.total_incl, Decimal(0)):
        out.add("amount_paid.range", "amount_paid", "The amount already paid is more than the total")
