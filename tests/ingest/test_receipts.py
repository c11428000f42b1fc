"""The shoebox services the chat calls: upload, statuses, edits, lists, the original, the export."""
from __future__ import annotations

import csv
import io
import zipfile
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree
from sqlmodel import select

from core import storage
from core.errors import AccessDeniedError, ConflictError, NotFoundError, ValidationError
from core.extraction import Extraction, VatAmount
from core.inbox.export import export_period
from core.inbox.messages import accept_upload
from core.inbox.models import InboxDocument
from core.inbox.periods import parse_period
from core.inbox.receipts import (
    confirm_receipt,
    edit_receipt,
    get_receipt,
    list_receipts,
    mark_not_receipt,
    mark_private,
    receipt_original,
)
from core.models import Membership, Person, Role
from tests.conftest import NOW, SHARED
from tests.ingest.conftest import notifications

UBL_XSD = SHARED / "einvoice" / "kit" / "ubl-2.1" / "maindoc" / "UBL-Invoice-2.1.xsd"


class ScriptedReader:
    """Reads what the test says each file holds (the OCR itself is tested in test_reading/test_ocr)."""

    def __init__(self, script: dict[bytes, Extraction]) -> None:
        self.script = script

    def read_attachment(self, filename: str, content: bytes, mime: str) -> Extraction:
        return self.script[content]

    def read_html_body(self, html: str) -> Extraction:
        return Extraction(source="html")


def bon(vendor: str, day: date, total: str, *, vat: tuple[tuple[str, str], ...] = (("21", "0.00"),),
        number: str | None = None, low: tuple[str, ...] = ()) -> Extraction:
    confidence = {"vendor": 0.9, "total": 0.9, "date": 0.9} | {name: 0.3 for name in low}
    return Extraction(source="ocr", vendor=vendor, date=day, total=Decimal(total), invoice_number=number,
                      vat=tuple(VatAmount(Decimal(r), Decimal(a)) for r, a in vat), confidence=confidence,
                      currency="EUR")


@pytest.fixture
def upload(engine, inbox, make_worker):  # type: ignore[no-untyped-def]
    """Upload files through the chat service and let the worker read them; returns receipt ids."""
    def do(*files: tuple[bytes, Extraction], person_id: int | None = None) -> list[int]:
        with storage.session_scope(engine) as s:
            for content, _ in files:
                accept_upload(s, inbox.company_id, person_id or inbox.owner_id, "foto.jpg", content, "image/jpeg", now=NOW)
        make_worker(reader=ScriptedReader(dict(files))).run_until_idle()
        with storage.session_scope(engine) as s:
            return list(s.exec(select(InboxDocument.id).order_by(InboxDocument.id)))[-len(files):]
    return do


def test_an_upload_is_read_and_the_uploader_told(engine, inbox, upload) -> None:  # type: ignore[no-untyped-def]
    [rid] = upload((b"\xff\xd8\xff photo", bon("Albert Heijn", date(2026, 11, 28), "23.45", vat=(("9", "1.94"),),
                                                 low=("vendor",))))
    [note] = notifications(engine, "receipt_received")
    assert note.person_id == inbox.owner_id
    assert note.payload | {"receipt_id": rid, "vendor": "Albert Heijn", "total": "23.45", "date": "2026-11-28",
                           "vat": [{"rate": "9", "amount": "1.94"}], "low_confidence": ["vendor"],
                           "source": "upload"} == note.payload
    with storage.session_scope(engine) as s:
        original = receipt_original(s, inbox.store, inbox.company_id, rid)
    assert (original.filename, original.mime, original.content) == ("foto.jpg", "image/jpeg", b"\xff\xd8\xff photo")


def test_uploads_are_for_members_who_may_add_receipts(engine, inbox) -> None:  # type: ignore[no-untyped-def]
    with storage.session_scope(engine) as s:
        stranger = Person(name="X")
        accountant = Person(name="Boekhouder")
        s.add_all([stranger, accountant])
        s.flush()
        s.add(Membership(company_id=inbox.company_id, person_id=accountant.id, role=Role.ACCOUNTANT))
        s.flush()
        with pytest.raises(NotFoundError):
            accept_upload(s, inbox.company_id, stranger.id, "a.jpg", b"x", "image/jpeg", now=NOW)
        with pytest.raises(AccessDeniedError):
            accept_upload(s, inbox.company_id, accountant.id, "a.jpg", b"x", "image/jpeg", now=NOW)
        with pytest.raises(ValidationError) as empty:
            accept_upload(s, inbox.company_id, inbox.owner_id, "a.jpg", b"", "image/jpeg", now=NOW)
        assert empty.value.translated("nl") == "Het bestand is leeg"


def test_the_chat_verdicts_follow_the_lifecycle(engine, inbox, upload) -> None:  # type: ignore[no-untyped-def]
    a, b = upload((b"a", bon("Shell", date(2026, 11, 2), "60.00")), (b"b", bon("Bol.com", date(2026, 11, 3), "15.00")))
    with storage.session_scope(engine) as s:
        doc = confirm_receipt(s, inbox.company_id, a, person_id=inbox.owner_id, now=NOW)
        assert (doc.status, doc.checked_at, doc.person_id) == ("checked", NOW, inbox.owner_id)
        assert confirm_receipt(s, inbox.company_id, a, person_id=inbox.owner_id, now=NOW).status == "checked"
        assert mark_private(s, inbox.company_id, b, person_id=inbox.owner_id, now=NOW).status == "private"
        assert mark_not_receipt(s, inbox.company_id, b, person_id=inbox.owner_id, now=NOW).status == "not_receipt"
        assert confirm_receipt(s, inbox.company_id, b, person_id=inbox.owner_id, now=NOW).status == "checked"
        get_receipt(s, inbox.company_id, a).status = "shared"
        with pytest.raises(ConflictError):
            mark_private(s, inbox.company_id, a, person_id=inbox.owner_id, now=NOW)
        with pytest.raises(ConflictError):
            edit_receipt(s, inbox.company_id, a, person_id=inbox.owner_id, now=NOW, total="1")
        with pytest.raises(NotFoundError):
            confirm_receipt(s, inbox.company_id + 1000, a, person_id=inbox.owner_id, now=NOW)


def test_editing_validates_sets_confidence_and_rekeys(engine, inbox, upload) -> None:  # type: ignore[no-untyped-def]
    [rid] = upload((b"a", bon("Shel", date(2026, 11, 2), "6.00", low=("total", "vendor"))))
    with storage.session_scope(engine) as s:
        with pytest.raises(ValidationError) as bad:
            edit_receipt(s, inbox.company_id, rid, person_id=inbox.owner_id, now=NOW, vendor="Shell", date="31-02-2026")
        assert bad.value.field == "date"
        assert get_receipt(s, inbox.company_id, rid).vendor == "Shel"            # nothing changed
        doc = edit_receipt(s, inbox.company_id, rid, person_id=inbox.owner_id, now=NOW, vendor="Shell B.V.",
                           total="60,00", date="01-12-2026", vat=[{"rate": 21, "amount": "10,41"}],
                           invoice_number="F-1")
    assert (doc.vendor, doc.total, doc.doc_date, doc.period_date) == ("Shell B.V.", Decimal("60.00"), date(2026, 12, 1),
                                                                      date(2026, 12, 1))
    assert doc.vat == [{"rate": "21", "amount": "10.41"}] and doc.confidence["total"] == 1.0
    assert doc.dedupe_key == "shell|2026-12-01|60.00|f1"


def test_the_list_filters_by_period_supplier_and_status(engine, inbox, upload) -> None:  # type: ignore[no-untyped-def]
    ids = upload((b"1", bon("Shell", date(2026, 7, 2), "60.00")), (b"2", bon("Bol.com", date(2026, 9, 30), "15.00")),
                 (b"3", bon("Shell", date(2026, 10, 1), "70.00")), (b"4", bon("50% korting_shop", date(2026, 8, 1), "1.00")))
    with storage.session_scope(engine) as s:
        mark_private(s, inbox.company_id, ids[3], person_id=inbox.owner_id, now=NOW)
        q3 = list_receipts(s, inbox.company_id, period="2026-Q3")
        assert [d.vendor for d in q3] == ["Bol.com", "Shell"]
        assert [d.vendor for d in list_receipts(s, inbox.company_id, supplier="shell")] == ["Shell", "Shell"]
        assert [d.vendor for d in list_receipts(s, inbox.company_id, supplier="%")] == []
        assert [d.id for d in list_receipts(s, inbox.company_id, statuses=["private"])] == [ids[3]]
        assert len(list_receipts(s, inbox.company_id, period="2026-10")) == 1
        with pytest.raises(ValidationError):
            list_receipts(s, inbox.company_id, period="vorige week")


@pytest.mark.parametrize(("text", "label", "start", "end"), [
    ("2026-Q3", "2026-Q3", date(2026, 7, 1), date(2026, 10, 1)), ("Q4 2026", "2026-Q4", date(2026, 10, 1), date(2027, 1, 1)),
    ("2026-k1", "2026-Q1", date(2026, 1, 1), date(2026, 4, 1)), ("2026-12", "2026-12", date(2026, 12, 1), date(2027, 1, 1)),
    ("2026", "2026", date(2026, 1, 1), date(2027, 1, 1))])
def test_periods(text: str, label: str, start: date, end: date) -> None:
    period = parse_period(text)
    assert (period.label, period.start, period.end) == (label, start, end)


def test_export_a_quarter_for_the_accountant(engine, inbox, upload) -> None:  # type: ignore[no-untyped-def]
    ids = upload((b"%PDF-a", bon("Shell", date(2026, 7, 2), "60.00", vat=(("21", "10.41"),), number="F-1")),
                 (b"%PDF-b", bon("=HYPERLINK(evil)", date(2026, 9, 30), "21.80", vat=(("9", "1.80"),))),
                 (b"%PDF-c", bon("Shell", date(2026, 10, 1), "70.00")),
                 (b"%PDF-d", bon("Privé winkel", date(2026, 8, 1), "9.00")))
    with storage.session_scope(engine) as s:
        mark_private(s, inbox.company_id, ids[3], person_id=inbox.owner_id, now=NOW)
        export = export_period(s, inbox.store, inbox.company_id, "2026-Q3", now=NOW)
    assert (export.filename, export.count) == ("klerk-bonnen-2026-Q3.zip", 2)
    zf = zipfile.ZipFile(io.BytesIO(export.content))
    rows = list(csv.DictReader(io.StringIO(zf.read("bonnen-2026-Q3.csv").decode("utf-8-sig")), delimiter=";"))
    assert [(r["leverancier"], r["totaal incl. btw"], r["btw 21%"], r["btw 9%"], r["status"]) for r in rows] == [
        ("Shell", "60,00", "10,41", "", "ontvangen"), ("'=HYPERLINK(evil)", "21,80", "", "1,80", "ontvangen")]
    assert zf.read(rows[0]["origineel"]) == b"%PDF-a" and rows[0]["factuurnummer"] == "F-1"
    schema = etree.XMLSchema(etree.parse(str(UBL_XSD)))
    for row in rows:
        xml = etree.fromstring(zf.read(row["ubl"]))
        schema.assertValid(xml)
        ns = {"cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"}
        assert xml.findtext(".//cbc:PayableAmount", namespaces=ns) == row["totaal incl. btw"].replace(",", ".")
    with storage.session_scope(engine) as s:
        assert export_period(s, inbox.store, inbox.company_id, "2026-Q3", now=NOW).content == export.content


def test_the_ubl_of_a_receipt_with_unread_vat_still_adds_up(engine, inbox, upload) -> None:  # type: ignore[no-untyped-def]
    upload((b"x", Extraction(source="ocr", vendor="Kiosk", date=date(2026, 8, 1), total=Decimal("4.50"))))
    with storage.session_scope(engine) as s:
        zf = zipfile.ZipFile(io.BytesIO(export_period(s, inbox.store, inbox.company_id, "2026", now=NOW).content))
    xml = etree.fromstring(zf.read(next(n for n in zf.namelist() if n.startswith("ubl/"))))
    etree.XMLSchema(etree.parse(str(UBL_XSD))).assertValid(xml)
    ns = {"cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"}
    assert xml.findtext(".//cbc:TaxInclusiveAmount", namespaces=ns) == "4.50"
    assert "0 %" in "".join(xml.itertext())


def test_the_ubl_xsd_is_there() -> None:
    assert Path(UBL_XSD).is_file(), "the shared e-invoice kit is missing: ../shared/einvoice"


def test_what_the_books_need_input_vat_and_receipts_for_debits(engine, inbox, upload) -> None:  # type: ignore[no-untyped-def]
    from core.inbox.bookkeeping import has_receipt, input_vat
    from core.payments.models import BankTransaction

    ids = upload((b"1", bon("Shell", date(2026, 7, 2), "60.50", vat=(("21", "10.50"),))),
                 (b"2", bon("Boekhandel", date(2026, 9, 30), "21.80", vat=(("9", "1.80"), ("21", "0.17")))),
                 (b"3", bon("Shell", date(2026, 10, 1), "70.00", vat=(("21", "12.15"),))),
                 (b"4", bon("Privé", date(2026, 8, 1), "9.00", vat=(("21", "1.56"),))))
    with storage.session_scope(engine) as s:
        for rid in ids[:3]:
            confirm_receipt(s, inbox.company_id, rid, person_id=inbox.owner_id, now=NOW)
        mark_private(s, inbox.company_id, ids[3], person_id=inbox.owner_id, now=NOW)
        assert input_vat(s, inbox.company_id, date(2026, 7, 1), date(2026, 9, 30)) == Decimal("12.47")

        def debit(amount: str, day: date) -> BankTransaction:
            return BankTransaction(company_id=inbox.company_id, fingerprint="x", source_format="camt053",
                                   booking_date=day, direction="debit", amount=Decimal(amount))
        assert has_receipt(s, debit("60.50", date(2026, 7, 3)))
        assert not has_receipt(s, debit("60.50", date(2026, 8, 3)))          # a month later: another payment
        assert not has_receipt(s, debit("9.00", date(2026, 8, 1)))           # private
        assert not has_receipt(s, debit("61.00", date(2026, 7, 3)))
