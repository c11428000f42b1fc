"""Money questions: the overview, the quarterly VAT return with the ICP list, the KOR threshold, the chart."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlmodel import select

from core.document import DocumentKind
from core.documents import create_draft
from core.errors import ValidationError
from core.invoices import create_credit_note, finalise_document
from core.models import Notification
from core.payments.booking import record_manual_payment
from core.payments.chart import monthly_figures, overview_chart_png
from core.payments.figures import (kor_status, overview, quarter_bounds, vat_return, vat_return_csv,
                                   warn_kor_threshold)
from core.payments.reminders import run_due_reminders
from tests.conftest import NOW, TODAY

D = Decimal


def _invoice(session, company, contact, lines, *, on: date, send: bool = True):  # type: ignore[no-untyped-def]
    doc = create_draft(session, company.id, DocumentKind.INVOICE, contact.id, today=on, delivery_date=on, lines=[
        {"description": "Werk", "quantity": "1", "unit_price": price, "vat_rate": rate} for price, rate in lines])
    if send:
        finalise_document(session, company.id, doc.id, today=on, now=NOW)
    return doc


def test_overview(session, make_company, make_contact) -> None:  # type: ignore[no-untyped-def]
    company = make_company()
    contact = make_contact(company)
    open_ = _invoice(session, company, contact, [("100", "21")], on=TODAY - timedelta(days=5))
    overdue = _invoice(session, company, contact, [("200", "21")], on=TODAY - timedelta(days=40))
    paid = _invoice(session, company, contact, [("300", "21")], on=date(2026, 3, 1))
    _invoice(session, company, contact, [("999", "21")], on=TODAY, send=False)          # a draft counts nowhere
    record_manual_payment(session, company.id, overdue.id, "42", received_on=date(2026, 11, 10), now=NOW)
    record_manual_payment(session, company.id, paid.id, "363", received_on=date(2026, 3, 5), now=NOW)
    view = overview(session, company.id, today=TODAY)
    assert (view.open_count, view.open_amount, view.overdue_count, view.overdue_amount) == (2, D("321.00"), 1, D("200.00"))
    assert (view.received_month, view.received_year) == (D("42.00"), D("405.00"))
    assert view.as_payload()["open_amount"] == "321.00" and open_.status == "sent"


def test_vat_return_rubrieken_icp_and_csv(session, make_company, make_contact) -> None:  # type: ignore[no-untyped-def]
    company = make_company()
    nl = make_contact(company)
    de = make_contact(company, "Berlin GmbH", country="DE", postcode="10115", city="Berlin", vat_id="DE136695976",
                      kvk="", vat_treatment="reverse_charge")
    be = make_contact(company, "Brussel BV", country="BE", postcode="1000", city="Brussel", vat_id="BE0411905847",
                      kvk="", vat_treatment="intra_eu_goods")
    us = make_contact(company, "NY Inc", country="US", postcode="10001", city="New York", vat_id="", kvk="",
                      vat_treatment="export")
    q3 = date(2026, 8, 15)
    big = _invoice(session, company, nl, [("1000", "21"), ("100", "9"), ("50", "0")], on=q3)
    _invoice(session, company, de, [("500", "21")], on=q3)
    _invoice(session, company, be, [("300", "21")], on=date(2026, 9, 30))
    _invoice(session, company, us, [("200", "21")], on=date(2026, 7, 1))
    _invoice(session, company, nl, [("7777", "21")], on=date(2026, 10, 1))               # Q4
    note = create_credit_note(session, company.id, big.id, today=q3, lines=[
        {"description": "Korting", "quantity": "1", "unit_price": "100", "vat_rate": "21"}])
    finalise_document(session, company.id, note.id, today=q3, now=NOW)
    ret = vat_return(session, company.id, "2026-Q3", input_vat=lambda s, c, start, end: D("55.55"))
    got = {line.code: (line.base, line.vat) for line in ret.lines}
    assert got == {"1a": (D("900.00"), D("189.00")), "1b": (D("100.00"), D("9.00")), "1c": (D(0), D(0)),
                   "1e": (D("50.00"), D(0)), "3a": (D("200.00"), D(0)), "3b": (D("800.00"), D(0)),
                   "5a": (D(0), D("198.00")), "5b": (D(0), D("55.55")), "5g": (D(0), D("142.45"))}
    assert [(i.vat_id, i.country, i.goods, i.services) for i in ret.icp] == [
        ("BE0411905847", "BE", D("300.00"), D(0)), ("DE136695976", "DE", D(0), D("500.00"))]
    assert ret.whole_euros("5b") == (0, 56) and ret.whole_euros("1a") == (900, 189) and ret.notes == ()
    csv_text = vat_return_csv(ret)
    assert "1a;Leveringen/diensten belast met hoog tarief;900.00;189.00;900;189" in csv_text
    assert "ICP-opgaaf;Land;Goederen;Diensten" in csv_text and "DE136695976;DE;0.00;500.00" in csv_text
    assert "Box;Description" in vat_return_csv(ret, language="en")
    plain = vat_return(session, company.id, "2026Q3")
    assert plain.line("5b").vat == D(0) and "receipts are not connected" in plain.notes[0]


def test_quarters() -> None:
    assert quarter_bounds("2026-Q1") == (date(2026, 1, 1), date(2026, 3, 31))
    assert quarter_bounds("2026-q4") == (date(2026, 10, 1), date(2026, 12, 31))
    with pytest.raises(ValidationError):
        quarter_bounds("2026-Q5")


def test_kor_threshold_warns_at_80_and_100_percent_once(session, make_company, make_contact) -> None:  # type: ignore[no-untyped-def]
    company = make_company(kor=True, vat_id="")
    contact = make_contact(company)
    _invoice(session, company, contact, [("15999.99", "0")], on=date(2026, 2, 1))
    _invoice(session, company, contact, [("5000", "0")], on=date(2025, 6, 1))
    status = kor_status(session, company.id, today=TODAY)
    assert (status.turnover, status.last_year_turnover, status.level, status.applies) == (
        D("15999.99"), D("5000.00"), "ok", True)
    _invoice(session, company, contact, [("0.01", "0")], on=date(2026, 3, 1))
    assert kor_status(session, company.id, today=TODAY).level == "warning"                # exactly 80 %
    for _ in range(2):
        warn_kor_threshold(session, company.id, today=TODAY)
    _invoice(session, company, contact, [("4000", "0")], on=date(2026, 4, 1))
    status = kor_status(session, company.id, today=TODAY)
    assert (status.turnover, status.level) == (D("20000.00"), "warning")                   # at, not over
    _invoice(session, company, contact, [("0.01", "0")], on=date(2026, 5, 1))
    warn_kor_threshold(session, company.id, today=TODAY)
    warn_kor_threshold(session, company.id, today=TODAY)
    notes = session.exec(select(Notification).where(Notification.kind == "kor_threshold").order_by(Notification.id)).all()
    assert [n.payload["level"] for n in notes] == ["warning", "exceeded"]
    assert notes[1].payload["turnover"] == "20000.01"
    assert run_due_reminders(session, today=TODAY, now=NOW).kor_warnings == [company.id]     # the daily run checks it
    assert len(session.exec(select(Notification).where(Notification.kind == "kor_threshold")).all()) == 2


def test_chart_is_a_png_of_twelve_months(session, make_company, make_contact) -> None:  # type: ignore[no-untyped-def]
    company = make_company()
    contact = make_contact(company)
    invoice = _invoice(session, company, contact, [("100", "21")], on=date(2026, 10, 10))
    record_manual_payment(session, company.id, invoice.id, "121", received_on=date(2026, 11, 2), now=NOW)
    months = monthly_figures(session, company.id, today=TODAY)
    assert len(months) == 12 and months[0].month == date(2025, 12, 1) and months[-1].month == date(2026, 11, 1)
    assert (months[-2].invoiced, months[-1].received) == (D("121.00"), D("121.00"))
    png = overview_chart_png(session, company.id, today=TODAY)
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 5000
