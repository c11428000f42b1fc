"""The facts of a document as the chat shows them (notification payloads, lists). Pure."""
from __future__ import annotations

from typing import Any

from core.i18n import translate
from core.inbox.models import InboxDocument, ReceiptStatus

LOW_CONFIDENCE = 0.6

# How each status is named (English msgids; Dutch in inbox.po: ontvangen, gecontroleerd, gedeeld
# met boekhouder, verwerkt, privé, geen bon, geweigerd). ``status_label`` translates.
STATUS_LABELS = {
    ReceiptStatus.RECEIVED.value: "received",
    ReceiptStatus.CHECKED.value: "checked",
    ReceiptStatus.SHARED.value: "shared with the accountant",
    ReceiptStatus.PROCESSED.value: "processed",
    ReceiptStatus.PRIVATE.value: "private",
    ReceiptStatus.NOT_RECEIPT.value: "not a receipt",
    ReceiptStatus.REJECTED.value: "refused",
}


def status_label(status: str, language: str) -> str:
    return translate(language, STATUS_LABELS.get(status, status))


def low_confidence_fields(doc: InboxDocument) -> list[str]:
    return sorted(name for name, score in (doc.confidence or {}).items() if float(score) < LOW_CONFIDENCE)


def receipt_facts(doc: InboxDocument) -> dict[str, Any]:
    """JSON-safe facts of one document: what the chat needs to show it and offer the buttons."""
    return {
        "receipt_id": doc.id,
        "status": doc.status,
        "vendor": doc.vendor or None,
        "total": f"{doc.total:.2f}" if doc.total is not None else None,
        "net": f"{doc.net:.2f}" if doc.net is not None else None,
        "currency": doc.currency or "EUR",
        "vat": [dict(v) for v in (doc.vat or [])],
        "date": doc.doc_date.isoformat() if doc.doc_date else None,
        "invoice_number": doc.invoice_number or None,
        "vendor_vat_id": doc.vendor_vat_id or None,
        "filename": doc.filename or None,
        "source": doc.source or None,
        "low_confidence": low_confidence_fields(doc),
        "duplicate_of": doc.duplicate_of,
        "duplicate_reason": doc.duplicate_reason or None,
        "paid_hint": doc.paid_hint,
    }
