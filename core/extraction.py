"""What was read from a receipt or purchase invoice: each field with a confidence. Pure data.

Produced by the reading cascade in ``ingest`` (embedded e-invoice XML -> PDF text -> OCR -> HTML
body) and by ``core.receipt_text`` (fields from text); consumed by the inbox services and the chat.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal


@dataclass(frozen=True)
class VatAmount:
    rate: Decimal          # percent, e.g. Decimal("9")
    amount: Decimal        # VAT in euros
    base: Decimal | None = None


@dataclass(frozen=True)
class Extraction:
    source: str                              # ubl | cii | pdf_text | ocr | html | none
    total: Decimal | None = None             # incl. VAT
    net: Decimal | None = None
    vat: tuple[VatAmount, ...] = ()
    date: date | None = None
    vendor: str | None = None
    vendor_kvk: str | None = None
    vendor_vat_id: str | None = None
    vendor_iban: str | None = None
    invoice_number: str | None = None
    currency: str | None = None
    paid_hint: bool | None = None            # PIN / betaald / contant / paid
    confidence: dict[str, float] = field(default_factory=dict)   # field name -> 0..1
    text: str = ""                            # the text it was read from (for search and dedupe)

    def low_confidence(self, threshold: float = 0.6) -> list[str]:
        return [name for name, score in self.confidence.items() if score < threshold]
