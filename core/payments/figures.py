"""Money questions the chat asks: the overview, the quarterly VAT return, the KOR threshold.

The VAT return follows the invoice date (factuurstelsel). Rubrieken: 1a (21 %), 1b (9 %), 1c
(other rates), 1e (0 % / not taxed here), 3a (exports outside the EU), 3b (intra-EU supplies, with
the ICP list), 5a (VAT due), 5b (input VAT), 5g (to pay, or to get back when negative). Input VAT
comes from confirmed receipts, which live in ``core/inbox`` (being written): it is a parameter.
⚠ Which turnover counts towards the KOR threshold is simplified here to domestic supplies
(standard and KOR invoices, less credit notes).
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from collections.abc import Callable

import sqlalchemy as sa
from sqlmodel import Session, select

from core.companies import get_company
from core.document import DocumentKind, VatTreatment
from core.documents import document_data
from core.errors import ValidationError
from core.i18n import translate
from core.invoices import outstanding
from core.models import Document, DocumentStatus
from core.money import ZERO, round_money
from core.outbox import notify
from core.payments.models import Payment
from core.vat import VatCategory, compute_totals

S = DocumentStatus
ISSUED = (S.SENT.value, S.PARTIALLY_PAID.value, S.PAID.value, S.CREDITED.value)
KOR_THRESHOLD = Decimal("20000.00")
KOR_WARNING_SHARE = Decimal("0.80")
InputVatSource = Callable[[Session, int, date, date], Decimal]


# ---- overview -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Overview:
    today: date
    open_count: int
    open_amount: Decimal
    overdue_count: int
    overdue_amount: Decimal
    received_month: Decimal
    received_year: Decimal
    currency: str = "EUR"

    def as_payload(self) -> dict:
        return {k: (str(v) if isinstance(v, (Decimal, date)) else v) for k, v in self.__dict__.items()}


def overview(session: Session, company_id: int, *, today: date) -> Overview:
    """What is open, what is overdue, what came in this month and this year (booked payments)."""
    get_company(session, company_id)
    docs = session.exec(select(Document).where(
        Document.company_id == company_id, Document.kind == DocumentKind.INVOICE.value,
        Document.status.in_((S.SENT.value, S.PARTIALLY_PAID.value))))
    open_count = overdue_count = 0
    open_amount = overdue_amount = ZERO
    for doc in docs:
        left = max(ZERO, outstanding(doc))
        open_count += 1
        open_amount += left
        if doc.due_date is not None and doc.due_date < today:
            overdue_count += 1
            overdue_amount += left
    return Overview(today, open_count, open_amount, overdue_count, overdue_amount,
                    received_between(session, company_id, today.replace(day=1), today),
                    received_between(session, company_id, today.replace(month=1, day=1), today))


def received_between(session: Session, company_id: int, start: date, end: date) -> Decimal:
    """Money booked on invoices with a receipt date in [start, end] (Mollie, bank and by hand)."""
    total = ZERO
    for booked in session.exec(select(Payment.booked).where(
            Payment.company_id == company_id, Payment.received_on >= start, Payment.received_on <= end)):
        total += booked
    return round_money(total)


# ---- VAT return -----------------------------------------------------------------------------

RUBRIEKEN = {
    "1a": "Supplies/services taxed at the standard rate",
    "1b": "Supplies/services taxed at the reduced rate",
    "1c": "Supplies/services taxed at other rates, except 0%",
    "1e": "Supplies/services taxed at 0% or not taxed with you",
    "3a": "Supplies to countries outside the EU (exports)",
    "3b": "Supplies to or services in countries within the EU",
    "5a": "VAT due (subtotal)",
    "5b": "Input VAT",
    "5g": "Total to pay (negative: to get back)",
}


CSV_HEADERS = ("Quarter", "Box", "Description", "Turnover", "VAT", "Turnover (whole euros)",
               "VAT (whole euros)", "ICP list", "Country", "Goods", "Services")
NOTE_NO_RECEIPTS = "5b: receipts are not connected yet; input VAT is 0"
NOTE_KOR = "KOR: the company files no VAT return"


@dataclass(frozen=True)
class VatLine:
    code: str
    base: Decimal
    vat: Decimal


@dataclass(frozen=True)
class IcpLine:
    vat_id: str
    country: str
    goods: Decimal
    services: Decimal


@dataclass(frozen=True)
class VatReturn:
    quarter: str
    start: date
    end: date
    lines: tuple[VatLine, ...]
    icp: tuple[IcpLine, ...]
    required: bool = True            # False under the KOR: no VAT return at all
    notes: tuple[str, ...] = field(default=())

    def line(self, code: str) -> VatLine:
        return next(line for line in self.lines if line.code == code)

    def whole_euros(self, code: str) -> tuple[int, int]:
        """Base and VAT as the return asks them: whole euros, rounded in the filer's favour
        (turnover and VAT due down, input VAT up)."""
        line = self.line(code)
        vat_rounding = ROUND_CEILING if code == "5b" else ROUND_FLOOR
        return int(line.base.to_integral_value(ROUND_FLOOR)), int(line.vat.to_integral_value(vat_rounding))


def no_input_vat(session: Session, company_id: int, start: date, end: date) -> Decimal:
    """Stand-in until core/inbox provides the input VAT of confirmed receipts."""
    return ZERO


def quarter_bounds(quarter: str) -> tuple[date, date]:
    match = re.fullmatch(r"(\d{4})-?Q([1-4])", (quarter or "").strip().upper())
    if match is None:
        raise ValidationError("quarter", "Not a quarter like 2026-Q3: {value}", value=str(quarter)[:20])
    year, q = int(match.group(1)), int(match.group(2))
    start = date(year, 3 * q - 2, 1)
    end = date(year + 1, 1, 1) if q == 4 else date(year, 3 * q + 1, 1)
    return start, date.fromordinal(end.toordinal() - 1)


def vat_return(session: Session, company_id: int, quarter: str = "2026-Q3", *,
               input_vat: InputVatSource = no_input_vat) -> VatReturn:
    """The figures of the quarterly return from the invoices and credit notes issued in ``quarter``."""
    start, end = quarter_bounds(quarter)
    company = get_company(session, company_id)
    sums: dict[str, list[Decimal]] = {code: [ZERO, ZERO] for code in ("1a", "1b", "1c", "1e", "3a", "3b")}
    icp: dict[str, list] = {}
    docs = session.exec(select(Document).where(
        Document.company_id == company_id, Document.status.in_(ISSUED),
        Document.kind.in_((DocumentKind.INVOICE.value, DocumentKind.CREDIT_NOTE.value)),
        Document.issue_date >= start, Document.issue_date <= end).order_by(Document.id))
    for doc in docs:
        sign = -1 if doc.kind == DocumentKind.CREDIT_NOTE.value else 1
        data = document_data(session, doc)
        for sub in compute_totals(data).subtotals:
            code = _rubriek(sub.category, sub.rate)
            if code is None:
                continue
            sums[code][0] += sign * sub.base
            sums[code][1] += sign * sub.vat
            if code == "3b":
                entry = icp.setdefault(data.buyer.vat_id, [data.buyer.country, ZERO, ZERO])
                entry[1 if sub.category is VatCategory.INTRA_EU else 2] += sign * sub.base
    due = sum((sums[c][1] for c in ("1a", "1b", "1c", "1e")), ZERO)
    deductible = round_money(input_vat(session, company_id, start, end))
    lines = [VatLine(code, round_money(b), round_money(v)) for code, (b, v) in sums.items()]
    lines += [VatLine("5a", ZERO, round_money(due)), VatLine("5b", ZERO, deductible),
              VatLine("5g", ZERO, round_money(due - deductible))]
    notes = []
    if input_vat is no_input_vat:
        notes.append(NOTE_NO_RECEIPTS)
    if company.kor:
        notes.append(NOTE_KOR)
    icp_lines = tuple(IcpLine(vat_id, country, round_money(goods), round_money(services))
                      for vat_id, (country, goods, services) in sorted(icp.items()))
    return VatReturn(quarter.upper(), start, end, tuple(lines), icp_lines, required=not company.kor,
                     notes=tuple(notes))


def _rubriek(category: VatCategory, rate: Decimal) -> str | None:
    if category is VatCategory.STANDARD:
        return {Decimal(21): "1a", Decimal(9): "1b"}.get(rate, "1c")
    return {VatCategory.ZERO: "1e", VatCategory.EXPORT: "3a", VatCategory.INTRA_EU: "3b",
            VatCategory.REVERSE_CHARGE: "3b"}.get(category)      # exempt (incl. KOR): not reported


def vat_return_csv(ret: VatReturn, *, language: str = "nl") -> str:
    """Semicolon CSV (opens in a Dutch spreadsheet): the rubrieken, then the ICP list."""
    out = io.StringIO()
    w = csv.writer(out, delimiter=";", lineterminator="\n")
    w.writerow([translate(language, "Quarter"), ret.quarter, ret.start.isoformat(), ret.end.isoformat()])
    w.writerow([translate(language, "Box"), translate(language, "Description"), translate(language, "Turnover"),
                translate(language, "VAT"), translate(language, "Turnover (whole euros)"),
                translate(language, "VAT (whole euros)")])
    for line in ret.lines:
        base_whole, vat_whole = ret.whole_euros(line.code)
        w.writerow([line.code, translate(language, RUBRIEKEN[line.code]), line.base, line.vat, base_whole, vat_whole])
    if ret.icp:
        w.writerow([])
        w.writerow([translate(language, "ICP list"), translate(language, "Country"),
                    translate(language, "Goods"), translate(language, "Services")])
        for item in ret.icp:
            w.writerow([item.vat_id, item.country, item.goods, item.services])
    for note in ret.notes:
        w.writerow([translate(language, note)])
    return out.getvalue()


# ---- KOR --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class KorStatus:
    year: int
    turnover: Decimal
    last_year_turnover: Decimal
    threshold: Decimal
    share: Decimal                   # turnover / threshold, e.g. 0.83
    level: str                       # ok | warning (>= 80 %) | exceeded (> EUR 20.000)
    applies: bool                    # the company uses the KOR now

    def as_payload(self) -> dict:
        return {k: (str(v) if isinstance(v, Decimal) else v) for k, v in self.__dict__.items()}


def turnover(session: Session, company_id: int, start: date, end: date) -> Decimal:
    """Domestic turnover excl. VAT invoiced in [start, end], less credit notes."""
    sign = sa.case((Document.kind == DocumentKind.CREDIT_NOTE.value, -1), else_=1)
    total = ZERO
    for amount, factor in session.exec(select(Document.total_excl, sign).where(
            Document.company_id == company_id, Document.status.in_(ISSUED),
            Document.kind.in_((DocumentKind.INVOICE.value, DocumentKind.CREDIT_NOTE.value)),
            Document.vat_treatment.in_((VatTreatment.STANDARD.value, VatTreatment.KOR.value)),
            Document.issue_date >= start, Document.issue_date <= end)):
        total += amount * factor
    return round_money(total)


def kor_status(session: Session, company_id: int, *, today: date) -> KorStatus:
    """This year's turnover against the EUR 20.000 of the KOR: warning from 80 %, exceeded above 100 %."""
    company = get_company(session, company_id)
    year = today.year
    this_year = turnover(session, company_id, date(year, 1, 1), today)
    last_year = turnover(session, company_id, date(year - 1, 1, 1), date(year - 1, 12, 31))
    share = (this_year / KOR_THRESHOLD).quantize(Decimal("0.01"))
    level = "exceeded" if this_year > KOR_THRESHOLD else (
        "warning" if this_year >= KOR_THRESHOLD * KOR_WARNING_SHARE else "ok")
    return KorStatus(year, this_year, last_year, KOR_THRESHOLD, share, level, company.kor)


def warn_kor_threshold(session: Session, company_id: int, *, today: date) -> KorStatus:
    """Tell the owner (once per level and year) when a KOR company nears or crosses the threshold."""
    status = kor_status(session, company_id, today=today)
    if status.applies and status.level != "ok":
        notify(session, company_id, "kor_threshold", status.as_payload(),
               dedupe_key=f"kor_threshold:{company_id}:{status.year}:{status.level}")
    return status
