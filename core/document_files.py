"""One document in every form a person or a machine receives it: PDF (optionally Factur-X),
UBL (Peppol BIS 3 or SI-UBL 2.0), and a PNG preview of page 1 for the chat.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from core.cii import build_cii, embed_facturx
from core.document import DocumentData, DocumentKind
from core.money import amount_str
from core.rendering import render_pdf, render_preview_png
from core.ubl import build_ubl
from core.vat import Totals, compute_totals


@dataclass(frozen=True)
class DocumentFiles:
    name: str                 # the number, or concept-<hash> for a draft
    totals: Totals
    pdf: bytes
    png: bytes
    xml: bytes | None         # UBL; None for quotes and drafts


def file_stem(doc: DocumentData) -> str:
    if doc.number:
        return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in doc.number)
    digest = hashlib.sha256(repr(doc).encode()).hexdigest()[:8]
    return f"concept-{doc.issue_date.isoformat()}-{digest}"


def build_files(doc: DocumentData, *, terms_pdf: bytes | None = None, ubl_profile: str = "peppol",
                facturx: bool = False, preview_width: int = 1000) -> DocumentFiles:
    totals = compute_totals(doc)
    has_xml = doc.kind is not DocumentKind.QUOTE and bool(doc.number)
    pdf = render_pdf(doc, totals, terms_pdf=terms_pdf, pdf_variant="pdf/a-3b" if facturx and has_xml else None)
    if facturx and has_xml:
        pdf = embed_facturx(pdf, build_cii(doc, totals))
    return DocumentFiles(
        name=file_stem(doc), totals=totals, pdf=pdf,
        png=render_preview_png(pdf, width_px=preview_width),
        xml=build_ubl(doc, totals, profile=ubl_profile) if has_xml else None,
    )


def summary(doc: DocumentData, totals: Totals) -> dict[str, Any]:
    """The machine-readable summary printed by ``klerk document render``."""
    return {
        "type": doc.kind.value,
        "number": doc.number,
        "vat_treatment": doc.vat_treatment.value,
        "vat_breakdown": [
            {"rate": amount_str(s.rate), "category": s.category.value, "base": amount_str(s.base),
             "vat": amount_str(s.vat)} for s in totals.subtotals
        ],
        "total_excl": amount_str(totals.total_excl),
        "total_vat": amount_str(totals.total_vat),
        "total_incl": amount_str(totals.total_incl),
        "amount_due": amount_str(totals.amount_due),
        "issue_date": doc.issue_date.isoformat(),
        "due_date": doc.due_date.isoformat() if doc.due_date else None,
        "valid_until": doc.valid_until.isoformat() if doc.valid_until else None,
    }
