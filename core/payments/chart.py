"""The overview as a picture: invoiced and received per month, last 12 months (PNG bytes).

Matplotlib's object API with the Agg canvas: no pyplot, no display, safe in threads.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlmodel import Session, select

from core.document import DocumentKind
from core.i18n import translate
from core.models import Document
from core.money import ZERO
from core.payments.figures import ISSUED
from core.payments.models import Payment

MONTHS = {"nl": "jan feb mrt apr mei jun jul aug sep okt nov dec".split(),
          "en": "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()}


@dataclass(frozen=True)
class MonthFigures:
    month: date                  # first day of the month
    invoiced: Decimal            # incl. VAT, invoices issued that month
    received: Decimal            # booked payments received that month


def monthly_figures(session: Session, company_id: int, *, today: date, months: int = 12) -> list[MonthFigures]:
    firsts = []
    y, m = today.year, today.month
    for _ in range(months):
        firsts.append(date(y, m, 1))
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    firsts.reverse()
    invoiced = {f: ZERO for f in firsts}
    received = {f: ZERO for f in firsts}
    for issue_date, total in session.exec(select(Document.issue_date, Document.total_incl).where(
            Document.company_id == company_id, Document.kind == DocumentKind.INVOICE.value,
            Document.status.in_(ISSUED), Document.issue_date >= firsts[0], Document.issue_date <= today)):
        invoiced[issue_date.replace(day=1)] += total
    for day, booked in session.exec(select(Payment.received_on, Payment.booked).where(
            Payment.company_id == company_id, Payment.received_on >= firsts[0], Payment.received_on <= today)):
        received[day.replace(day=1)] += booked
    return [MonthFigures(f, invoiced[f], received[f]) for f in firsts]


def overview_chart_png(session: Session, company_id: int, *, today: date, language: str = "nl") -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    lang = language if language in MONTHS else "nl"
    data = monthly_figures(session, company_id, today=today)
    fig = Figure(figsize=(8, 3.6), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    xs = range(len(data))
    ax.bar([x - 0.2 for x in xs], [float(d.invoiced) for d in data], width=0.4,
           label=translate(lang, "Invoiced"), color="#1f4e79")
    ax.bar([x + 0.2 for x in xs], [float(d.received) for d in data], width=0.4,
           label=translate(lang, "Received"), color="#6aa84f")
    ax.set_xticks(list(xs), [MONTHS[lang][d.month.month - 1] for d in data])
    ax.set_ylabel("€")
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(frameon=False, loc="upper left")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()
