"""Reading in a child process: a file that hangs, eats memory or crashes the reader is refused with
that reason and the next file is read by a fresh child."""
from __future__ import annotations

import time

import pytest

from core.errors import ReceiptRejectedError
from ingest.reading_process import IsolatedReader
from tests.ingest.mails import text_pdf, ubl_invoice


@pytest.fixture
def reader():  # type: ignore[no-untyped-def]
    isolated = IsolatedReader("tests.ingest.slow_reading", timeout=2, memory_limit=1 * 2**30)
    yield isolated
    isolated.close()


def test_a_hanging_file_times_out_and_the_next_is_read(reader) -> None:  # type: ignore[no-untyped-def]
    assert reader.read_attachment("f.xml", ubl_invoice(), "application/xml").invoice_number == "2026-0042"
    t0 = time.monotonic()
    with pytest.raises(ReceiptRejectedError, match=r"reading took too long \(over 2 s\)"):
        reader.read_attachment("hangs.pdf", text_pdf(), "application/pdf")
    assert time.monotonic() - t0 < 10
    assert reader.read_attachment("ok.pdf", text_pdf(), "application/pdf").total is not None


def test_a_memory_hog_is_refused(reader) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ReceiptRejectedError, match="too much memory"):
        reader.read_attachment("eats.pdf", text_pdf(), "application/pdf")
    assert reader.read_html_body("<p>Totaal: € 5,00</p>").source == "html"


def test_a_crash_is_noticed_at_once(reader) -> None:  # type: ignore[no-untyped-def]
    t0 = time.monotonic()
    with pytest.raises(ReceiptRejectedError, match="the reader crashed on this file"):
        reader.read_attachment("crashes.pdf", text_pdf(), "application/pdf")
    assert time.monotonic() - t0 < 2.5
    assert reader.read_attachment("f.xml", ubl_invoice(), "application/xml").total is not None


def test_refusals_of_the_reader_pass_through(reader) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ReceiptRejectedError):
        reader.read_attachment("x.zip", b"PK\x03\x04" + b"\0" * 100, "application/zip")
