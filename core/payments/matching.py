"""Matching a bank credit to open invoices, with a confidence between 0 and 1. Pure.

Evidence and its weight (summed, at most 1):
  the invoice number or payment reference in the remittance text   0.60
  the amount equals what is open (0.30) / the invoice total (0.25) / is less than what is open (0.05)
  the paying IBAN is the contact's IBAN                             0.20
  the paying name looks like the contact's name                     0.10
A credit is booked without asking when the best candidate reaches ``AUTO_BOOK`` (0.80: e.g. the
number and the amount, or the number and the contact's IBAN) and leads the next one by ``MARGIN``.
Everything else is listed for the owner's one tap, best candidates first.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

AUTO_BOOK = Decimal("0.80")
MARGIN = Decimal("0.20")
WEIGHTS = {"reference": Decimal("0.60"), "amount": Decimal("0.30"), "total": Decimal("0.25"),
           "partial": Decimal("0.05"), "iban": Decimal("0.20"), "name": Decimal("0.10")}
_GAP = r"[\s\-._]*"          # what may sit between the characters of a reference in bank text
_NOISE = {"BV", "B.V.", "VOF", "V.O.F.", "HOLDING", "DE", "HET", "VAN", "EN", "THE", "AND", "NV", "N.V."}


@dataclass(frozen=True)
class OpenInvoice:
    id: int
    number: str
    payment_reference: str
    outstanding: Decimal
    total: Decimal
    contact_name: str = ""
    contact_iban: str = ""


@dataclass(frozen=True)
class Credit:
    amount: Decimal
    remittance: str = ""
    counterparty_iban: str = ""
    counterparty_name: str = ""


@dataclass(frozen=True)
class Candidate:
    invoice_id: int
    number: str
    outstanding: Decimal
    confidence: Decimal
    reasons: tuple[str, ...]


def mentions(text: str, reference: str) -> bool:
    """Does ``text`` name ``reference``? Ignores case and the separators banks like to drop
    (``2026-0001`` = ``20260001``) and statement lines wrapped in the middle of a number."""
    key = re.sub(r"[^0-9A-Z]", "", (reference or "").upper())
    if len(key) < 4 or not text:
        return False
    pattern = _GAP.join(re.escape(ch) for ch in key)
    return re.search(rf"(?<![0-9A-Z]){pattern}(?![0-9A-Z])", text.upper()) is not None


def _name_words(name: str) -> set[str]:
    return {w for w in re.findall(r"[A-Z0-9]+", name.upper()) if w not in _NOISE and len(w) > 1}


def names_match(a: str, b: str) -> bool:
    wa, wb = _name_words(a), _name_words(b)
    return bool(wa and wb) and (wa <= wb or wb <= wa)


def score(credit: Credit, invoice: OpenInvoice) -> Candidate:
    reasons = []
    if mentions(credit.remittance, invoice.number) or mentions(credit.remittance, invoice.payment_reference):
        reasons.append("reference")
    if credit.amount == invoice.outstanding:
        reasons.append("amount")
    elif credit.amount == invoice.total:
        reasons.append("total")
    elif Decimal(0) < credit.amount < invoice.outstanding:
        reasons.append("partial")
    if credit.counterparty_iban and credit.counterparty_iban == invoice.contact_iban:
        reasons.append("iban")
    if names_match(credit.counterparty_name, invoice.contact_name):
        reasons.append("name")
    confidence = min(Decimal("1.00"), sum((WEIGHTS[r] for r in reasons), Decimal("0.00")))
    return Candidate(invoice.id, invoice.number, invoice.outstanding, confidence, tuple(reasons))


def rank(credit: Credit, invoices: list[OpenInvoice], *, limit: int = 3) -> list[Candidate]:
    """The likeliest invoices for a credit; only candidates with more than a partial-amount hint."""
    scored = [score(credit, inv) for inv in invoices]
    useful = [c for c in scored if c.confidence > WEIGHTS["partial"]]
    return sorted(useful, key=lambda c: (-c.confidence, c.invoice_id))[:limit]


def sure_match(candidates: list[Candidate]) -> Candidate | None:
    """The candidate to book without asking, if the evidence is strong and unambiguous."""
    if not candidates or candidates[0].confidence < AUTO_BOOK:
        return None
    if len(candidates) > 1 and candidates[0].confidence - candidates[1].confidence < MARGIN:
        return None
    return candidates[0]
