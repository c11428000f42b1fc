"""A UBL 2.1 purchase invoice for a document in the shoebox, for the accountant's software. Pure.

It carries what was read (supplier, date, number, VAT per rate, totals) with the company as the
customer; one line per VAT rate. It is valid against the UBL 2.1 schema, not an EN 16931
e-invoice: a receipt lacks the addresses and lines those rules demand. Where the VAT read does not
add up to the total, the remainder is a 0 % line and a note says so — nothing is invented.
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from lxml import etree

from core.inbox.models import InboxDocument
from core.models import Company

NS_INVOICE = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
NS_CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
NS_CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
CUSTOMIZATION = "urn:cen.eu:en16931:2017"
_CENT = Decimal("0.01")


def _cbc(parent: etree._Element, name: str, text: str, **attrs: str) -> etree._Element:
    el = etree.SubElement(parent, f"{{{NS_CBC}}}{name}", attrs)
    el.text = text
    return el


def _cac(parent: etree._Element, name: str) -> etree._Element:
    return etree.SubElement(parent, f"{{{NS_CAC}}}{name}")


def _money(value: Decimal) -> str:
    return str(value.quantize(_CENT, rounding=ROUND_HALF_UP))


def _clean(text: str) -> str:
    return "".join(ch for ch in text if ch in "\t\n" or ord(ch) >= 32)[:200]


def vat_breakdown(doc: InboxDocument) -> list[tuple[Decimal, Decimal, Decimal]]:
    """(rate, base, VAT) per rate as read, plus a 0 % remainder so the lines add up to the total."""
    rows = []
    for v in doc.vat or []:
        rate, amount = Decimal(v["rate"]), Decimal(v["amount"])
        if v.get("base") is not None:
            base = Decimal(v["base"])
        elif rate:
            base = (amount * 100 / rate).quantize(_CENT, rounding=ROUND_HALF_UP)
        else:
            base = Decimal("0.00")
        rows.append((rate, base, amount))
    total = doc.total if doc.total is not None else sum((b + a for _, b, a in rows), Decimal("0.00"))
    rest = total - sum((b + a for _, b, a in rows), Decimal("0.00"))
    if rest != 0 or not rows:
        rows.append((Decimal(0), rest, Decimal("0.00")))
    return rows


def _party(parent: etree._Element, role: str, name: str, vat_id: str, kvk: str) -> None:
    party = _cac(_cac(parent, role), "Party")
    if name:
        _cbc(_cac(party, "PartyName"), "Name", _clean(name))
    if vat_id:
        scheme = _cac(party, "PartyTaxScheme")
        _cbc(scheme, "CompanyID", _clean(vat_id))
        _cbc(_cac(scheme, "TaxScheme"), "ID", "VAT")
    legal = _cac(party, "PartyLegalEntity")
    _cbc(legal, "RegistrationName", _clean(name) or "-")
    if kvk:
        _cbc(legal, "CompanyID", _clean(kvk), schemeID="0106")


def _category(parent: etree._Element, name: str, rate: Decimal) -> None:
    cat = _cac(parent, name)
    _cbc(cat, "ID", "S" if rate else "Z")
    _cbc(cat, "Percent", f"{rate.normalize():f}")
    _cbc(_cac(cat, "TaxScheme"), "ID", "VAT")


def build_purchase_ubl(doc: InboxDocument, company: Company) -> bytes:
    currency = (doc.currency or "EUR").upper()
    rows = vat_breakdown(doc)
    net = sum((base for _, base, _ in rows), Decimal("0.00"))
    vat = sum((amount for _, _, amount in rows), Decimal("0.00"))
    total = net + vat
    root = etree.Element(f"{{{NS_INVOICE}}}Invoice", nsmap={None: NS_INVOICE, "cac": NS_CAC, "cbc": NS_CBC})
    _cbc(root, "CustomizationID", CUSTOMIZATION)
    _cbc(root, "ID", _clean(doc.invoice_number) or f"KLERK-BON-{doc.id}")
    _cbc(root, "IssueDate", (doc.doc_date or doc.period_date or doc.created_at.date()).isoformat())
    _cbc(root, "InvoiceTypeCode", "380")
    notes = [f"Read by Klerk from {_clean(doc.filename) or 'a mail'} ({doc.source or 'unknown'}); receipt #{doc.id}."]
    if doc.total is None:
        notes.append("The total was not read.")
    elif len(rows) > len(doc.vat or []):
        notes.append("The VAT read does not account for the whole total: the remainder is shown at 0 %.")
    for note in notes:
        _cbc(root, "Note", note)
    _cbc(root, "DocumentCurrencyCode", currency)
    ref = _cac(root, "AdditionalDocumentReference")
    _cbc(ref, "ID", _clean(doc.filename) or f"bon-{doc.id}")
    _cbc(ref, "DocumentDescription", f"sha256:{doc.sha256}")
    _party(root, "AccountingSupplierParty", doc.vendor, doc.vendor_vat_id, doc.vendor_kvk)
    _party(root, "AccountingCustomerParty", company.name, company.vat_id, company.kvk)
    if doc.vendor_iban:
        means = _cac(root, "PaymentMeans")
        _cbc(means, "PaymentMeansCode", "58")
        _cbc(_cac(means, "PayeeFinancialAccount"), "ID", _clean(doc.vendor_iban))
    tax_total = _cac(root, "TaxTotal")
    _cbc(tax_total, "TaxAmount", _money(vat), currencyID=currency)
    for rate, base, amount in rows:
        sub = _cac(tax_total, "TaxSubtotal")
        _cbc(sub, "TaxableAmount", _money(base), currencyID=currency)
        _cbc(sub, "TaxAmount", _money(amount), currencyID=currency)
        _category(sub, "TaxCategory", rate)
    totals = _cac(root, "LegalMonetaryTotal")
    _cbc(totals, "LineExtensionAmount", _money(net), currencyID=currency)
    _cbc(totals, "TaxExclusiveAmount", _money(net), currencyID=currency)
    _cbc(totals, "TaxInclusiveAmount", _money(total), currencyID=currency)
    _cbc(totals, "PayableAmount", _money(total), currencyID=currency)
    for number, (rate, base, _) in enumerate(rows, start=1):
        line = _cac(root, "InvoiceLine")
        _cbc(line, "ID", str(number))
        _cbc(line, "InvoicedQuantity", "1", unitCode="C62")
        _cbc(line, "LineExtensionAmount", _money(base), currencyID=currency)
        item = _cac(line, "Item")
        _cbc(item, "Name", _clean(f"{doc.vendor or 'Bon'} {rate.normalize():f}%"))
        _category(item, "ClassifiedTaxCategory", rate)
        _cbc(_cac(line, "Price"), "PriceAmount", _money(base), currencyID=currency)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
