"""Numbers: patterns, assigned only at finalisation, gap-free and unique under concurrency."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from core import storage
from core.companies import get_company
from core.document import DocumentKind
from core.documents import create_draft
from core.errors import ValidationError
from core.invoices import finalise_document
from core.models import Document
from core.numbering import counter_year, format_number, validate_pattern
from tests.conftest import NOW, TODAY

LINE = {"description": "Advies", "quantity": "1", "unit_price": "100", "vat_rate": "21"}


@pytest.mark.parametrize("pattern, seq, expected", [
    ("{year}-{seq:04}", 42, "2026-0042"), ("OFF-{year}-{seq:03}", 7, "OFF-2026-007"),
    ("CN-{year}-{seq:04}", 3, "CN-2026-0003"), ("F{yy}{seq:05}", 12, "F2600012"), ("{seq}", 1001, "1001"),
])
def test_format_number(pattern: str, seq: int, expected: str) -> None:
    assert format_number(validate_pattern(pattern), year=2026, seq=seq) == expected


@pytest.mark.parametrize("pattern", ["", "{year}", "{seq}{seq}", "{foo}-{seq}", "{seq!r}", "{seq:>10}",
                                     "<b>{seq}</b>", "{seq", "x" * 50])
def test_bad_patterns_are_refused(pattern: str) -> None:
    with pytest.raises(ValidationError):
        validate_pattern(pattern)


def test_a_series_without_the_year_never_restarts() -> None:
    assert counter_year("{year}-{seq}", 2026) == 2026
    assert counter_year("F-{seq:05}", 2026) == counter_year("F-{seq:05}", 2027)


def _drafts(engine, make_company, make_contact, session, count: int) -> tuple[int, list[int]]:  # type: ignore[no-untyped-def]
    company = make_company()
    contact = make_contact(company)
    ids = [create_draft(session, company.id, DocumentKind.INVOICE, contact.id, today=TODAY, lines=[LINE]).id
           for _ in range(count)]
    session.commit()
    return company.id, ids


def test_numbers_are_assigned_at_finalisation_only(engine, session, make_company, make_contact) -> None:  # type: ignore[no-untyped-def]
    company_id, (first, second) = _drafts(engine, make_company, make_contact, session, 2)
    assert session.get(Document, first).number is None
    doc = finalise_document(session, company_id, second, today=TODAY, now=NOW)
    assert doc.number == "2026-0001" and doc.status == "sent"
    assert finalise_document(session, company_id, first, today=TODAY, now=NOW).number == "2026-0002"


def test_a_rolled_back_finalisation_leaves_no_gap(engine, session, make_company, make_contact) -> None:  # type: ignore[no-untyped-def]
    company_id, (a, b) = _drafts(engine, make_company, make_contact, session, 2)
    with pytest.raises(RuntimeError):
        with storage.session_scope(engine) as s:
            assert finalise_document(s, company_id, a, today=TODAY, now=NOW).number == "2026-0001"
            raise RuntimeError("the e-mail could not be sent")
    with storage.session_scope(engine) as s:
        assert finalise_document(s, company_id, b, today=TODAY, now=NOW).number == "2026-0001"
    with storage.session_scope(engine) as s:
        assert s.get(Document, a).number is None


def test_each_company_and_series_counts_on_its_own(engine, session, make_company, make_contact) -> None:  # type: ignore[no-untyped-def]
    c1, [d1] = _drafts(engine, make_company, make_contact, session, 1)
    c2, [d2] = _drafts(engine, make_company, make_contact, session, 1)
    contact = make_contact(get_company(session, c1))
    quote = create_draft(session, c1, DocumentKind.QUOTE, contact.id, today=TODAY, lines=[LINE])
    numbers = [finalise_document(session, c, d, today=TODAY, now=NOW).number for c, d in ((c1, d1), (c2, d2), (c1, quote.id))]
    assert numbers == ["2026-0001", "2026-0001", "OFF-2026-001"]


@pytest.mark.slow
def test_64_concurrent_finalisations_give_no_gap_and_no_duplicate(engine, session, make_company, make_contact) -> None:  # type: ignore[no-untyped-def]
    company_id, ids = _drafts(engine, make_company, make_contact, session, 64)
    start = threading.Barrier(16)

    def finalise(doc_id: int) -> str:
        if doc_id in ids[:16]:
            start.wait(timeout=30)   # make the first 16 collide for real
        with storage.session_scope(engine) as s:
            return finalise_document(s, company_id, doc_id, today=TODAY, now=NOW).number or ""

    with ThreadPoolExecutor(max_workers=16) as pool:
        numbers = list(pool.map(finalise, ids))
    assert len(set(numbers)) == 64
    assert sorted(numbers) == [f"2026-{n:04}" for n in range(1, 65)]
