"""Scoring a bank credit against open invoices (pure)."""
from __future__ import annotations

from decimal import Decimal

import pytest

from core.payments.matching import Credit, OpenInvoice, mentions, names_match, rank, sure_match

D = Decimal
A = OpenInvoice(1, "2026-0001", "2026-0001", D("121.00"), D("121.00"), "Bakkerij de Vries B.V.", "NL91ABNA0417164300")
B = OpenInvoice(2, "2026-0002", "2026-0002", D("242.00"), D("242.00"), "Jansen Advies", "NL02RABO0123456789")


@pytest.mark.parametrize("text, ref, found", [
    ("Factuur 2026-0001", "2026-0001", True),
    ("FACTUUR 20260001 BAKKERIJ", "2026-0001", True),        # the bank dropped the hyphen
    ("/REMI/2026-0001/EREF/x", "2026-0001", True),
    ("betaling 2026-0001a", "2026-0001", False),             # another reference
    ("ref 12026-00011", "2026-0001", False),
    ("FACTUUR 2026- 0001", "2026-0001", True),               # an MT940 line wrapped mid-number
    ("order 1", "1", False),                                  # too short to mean anything
    ("", "2026-0001", False),
])
def test_mentions(text: str, ref: str, found: bool) -> None:
    assert mentions(text, ref) is found


def test_names_match_ignores_legal_forms() -> None:
    assert names_match("BAKKERIJ DE VRIES", "Bakkerij de Vries B.V.")
    assert not names_match("Jansen", "Bakkerij de Vries B.V.")


def test_reference_and_amount_book_without_asking() -> None:
    (best, *_) = candidates = rank(Credit(D("121.00"), "Factuur 2026-0001"), [A, B])
    assert (best.invoice_id, best.confidence, best.reasons) == (1, D("0.90"), ("reference", "amount"))
    assert sure_match(candidates) == best


def test_reference_and_iban_book_a_partial_payment() -> None:
    best = sure_match(rank(Credit(D("50.00"), "2026-0001", "NL91ABNA0417164300"), [A, B]))
    assert best is not None and best.invoice_id == 1 and best.reasons == ("reference", "partial", "iban")


def test_amount_alone_is_only_a_suggestion() -> None:
    candidates = rank(Credit(D("242.00"), "dank je wel"), [A, B])
    assert candidates[0].invoice_id == 2 and sure_match(candidates) is None


def test_two_invoices_named_in_one_transfer_are_ambiguous() -> None:
    candidates = rank(Credit(D("363.00"), "facturen 2026-0001 en 2026-0002"), [A, B])
    assert [c.invoice_id for c in candidates] == [1, 2] and sure_match(candidates) is None
