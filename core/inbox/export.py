"""The shoebox of a period for the accountant: a ZIP of the originals, a CSV of what was read and a
UBL purchase invoice per document.

Which documents: the business statuses (received, checked, shared, processed) dated in the period
(the receipt's own date, else its arrival), without duplicates, private ones and non-receipts.
The CSV is what Dutch spreadsheet programs open directly: ``;`` between fields, a decimal comma,
UTF-8 with a byte order mark. The ZIP is deterministic for the same rows and clock.
"""
from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlmodel import Session, col, select

from core.errors import NotFoundError
from core.inbox.facts import status_label
from core.inbox.filing import extension
from core.inbox.models import InboxDocument
from core.inbox.periods import parse_period
from core.inbox.purchase_ubl import build_purchase_ubl
from core.inbox.receipts import SHOEBOX
from core.inbox.store import FileStore
from core.models import Company

_SLUG = re.compile(r"[^0-9A-Za-z]+")


@dataclass(frozen=True)
class ExportFile:
    filename: str
    content: bytes
    count: int


def period_documents(session: Session, company_id: int, period: str) -> list[InboxDocument]:
    p = parse_period(period)
    return list(session.exec(select(InboxDocument).where(
        InboxDocument.company_id == company_id, col(InboxDocument.status).in_(SHOEBOX),
        InboxDocument.duplicate_of.is_(None),
        InboxDocument.period_date >= p.start, InboxDocument.period_date < p.end,
    ).order_by(InboxDocument.period_date, InboxDocument.id)))


def _stem(doc: InboxDocument) -> str:
    vendor = _SLUG.sub("-", doc.vendor or "onbekend").strip("-")[:40] or "onbekend"
    return f"{doc.period_date.isoformat() if doc.period_date else 'zonder-datum'}_{vendor}_{doc.id}"


def _cell(text: str) -> str:
    """Text read from a hostile file must not become a spreadsheet formula (CSV injection)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _nl(value: Decimal | None) -> str:
    return "" if value is None else f"{value:.2f}".replace(".", ",")


def export_period(session: Session, store: FileStore, company_id: int, period: str, *, now: datetime) -> ExportFile:
    """``export_period(s, store, 7, "2026-Q3")`` -> ``klerk-bonnen-2026-Q3.zip``."""
    company = session.get(Company, company_id)
    if company is None:
        raise NotFoundError("no such company")
    label = parse_period(period).label
    docs = period_documents(session, company_id, period)
    rates = sorted({Decimal(v["rate"]) for d in docs for v in d.vat or []} | {Decimal(21), Decimal(9)}, reverse=True)
    lang = company.language or "nl"
    table = io.StringIO()
    writer = csv.writer(table, delimiter=";", lineterminator="\r\n")
    writer.writerow(["id", "datum", "leverancier", "btw-id leverancier", "kvk leverancier", "iban leverancier",
                     "factuurnummer", "totaal incl. btw", "excl. btw",
                     *[f"btw {r.normalize():f}%" for r in rates], "valuta", "status", "origineel", "ubl", "sha256"])
    stamp = now.timetuple()[:6]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        def add(name: str, data: bytes) -> None:
            zf.writestr(zipfile.ZipInfo(name, date_time=stamp), data, compress_type=zipfile.ZIP_DEFLATED)

        for doc in docs:
            stem = _stem(doc)
            original = f"originelen/{stem}.{extension(doc.filename, doc.mime)}"
            ubl = f"ubl/{stem}.xml"
            add(original, store.read(doc.path))
            add(ubl, build_purchase_ubl(doc, company))
            per_rate = {Decimal(v["rate"]): Decimal(v["amount"]) for v in doc.vat or []}
            writer.writerow([doc.id, doc.doc_date.isoformat() if doc.doc_date else "", *map(_cell, (doc.vendor, doc.vendor_vat_id,
                             doc.vendor_kvk, doc.vendor_iban, doc.invoice_number)), _nl(doc.total), _nl(doc.net),
                             *[_nl(per_rate.get(r)) for r in rates], doc.currency,
                             status_label(doc.status, lang), original, ubl, doc.sha256])
        add(f"bonnen-{label}.csv", table.getvalue().encode("utf-8-sig"))
    return ExportFile(f"klerk-bonnen-{label}.zip", buffer.getvalue(), len(docs))
