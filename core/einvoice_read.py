"""Reading incoming e-invoices: UBL 2.1 (Peppol BIS 3, SI-UBL 2.0) and CII (Factur-X, ZUGFeRD 1 and 2)
into an ``Extraction``. Pure: bytes in, value object out; no network, no entity expansion.

Every field is read, never guessed, so each gets confidence 1.0. The vendor is the seller's legal
name (BT-27: UBL ``RegistrationName``, CII ``Name``), which both syntaxes must carry; the trading
name is the fallback. Elements are found by local name (the CII flavours differ in namespaces and
in a few container names), always along the path the standard gives them, so a buyer's name or a
line's tax never stands in for the seller's or the document's.

Credit notes: the standards write their amounts positive and let the document type (UBL
``CreditNote``, type code 381) carry the sign; here they become negative, so that a credit note
and the invoice it corrects add up. A corrective invoice (384) keeps the signs it was written with.
"""
from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation

from lxml import etree

from core.errors import ReceiptRejectedError, ValidationError
from core.extraction import Extraction, VatAmount
from core.identifiers import clean_iban, clean_vat_id
from core.money import CENT, percent_of, round_money

MAX_XML_BYTES = 20 * 1024 * 1024
KVK_SCHEMES = {"0106", "NL:KVK"}
CREDIT_TYPE_CODES = {"381", "261", "262", "396", "532"}
UBL_ROOTS = {"Invoice", "CreditNote"}
CII_ROOTS = {"CrossIndustryInvoice", "CrossIndustryDocument"}


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False,
                           dtd_validation=False, remove_comments=True, remove_pis=True)


def parse_xml(content: bytes) -> etree._Element:
    """The root element of ``content``, parsed safely. Raises ``ReceiptRejectedError``."""
    if len(content) > MAX_XML_BYTES:
        raise ReceiptRejectedError("XML file too large")
    if b"<!DOCTYPE" in content[:4096] or b"<!ENTITY" in content:
        raise ReceiptRejectedError("XML with a DOCTYPE/DTD is not accepted")    # before parsing it at all
    try:
        tree = etree.fromstring(content, parser=_parser())
    except etree.XMLSyntaxError as exc:
        raise ReceiptRejectedError(f"not well-formed XML: {str(exc)[:120]}") from None
    docinfo = tree.getroottree().docinfo
    if docinfo.internalDTD is not None or docinfo.doctype:
        # No e-invoice standard uses a DTD; one here only serves entity tricks.
        raise ReceiptRejectedError("XML with a DOCTYPE/DTD is not accepted")
    return tree


def einvoice_kind(content: bytes) -> str | None:
    """``"ubl"``, ``"cii"`` or ``None``: what kind of e-invoice ``content`` is, by its root element."""
    try:
        root = parse_xml(content)
    except ReceiptRejectedError:
        return None
    return _kind(root)


def _kind(root: etree._Element) -> str | None:
    name = etree.QName(root).localname
    if name in UBL_ROOTS and "oasis" in (etree.QName(root).namespace or ""):
        return "ubl"
    if name in CII_ROOTS:
        return "cii"
    return None


def read_einvoice(content: bytes) -> Extraction:
    """An ``Extraction`` with source ``ubl`` or ``cii``. Raises ``ReceiptRejectedError`` when the XML
    is malformed, hostile, or not a UBL/CII invoice or credit note."""
    root = parse_xml(content)
    kind = _kind(root)
    if kind == "ubl":
        return _read_ubl(root)
    if kind == "cii":
        return _read_cii(root)
    raise ReceiptRejectedError(f"XML is not a UBL or CII invoice (root element {etree.QName(root).localname!r})")


# --------------------------------------------------------------------------- helpers by local name

def _children(el: etree._Element | None, name: str) -> list[etree._Element]:
    if el is None:
        return []
    return [c for c in el if isinstance(c.tag, str) and etree.QName(c).localname == name]


def _child(el: etree._Element | None, *path: str) -> etree._Element | None:
    """The first element along ``path`` (local names, child steps); ``None`` when a step is missing."""
    for name in path:
        found = _children(el, name)
        if not found:
            return None
        el = found[0]
    return el


def _text(el: etree._Element | None, *path: str) -> str:
    found = _child(el, *path) if path else el
    return " ".join((found.text or "").split()) if found is not None else ""


def _amount(el: etree._Element | None, *path: str, currency: str | None = None) -> Decimal | None:
    """An amount element's value; among repeated ones (tax currency) the one in ``currency``."""
    if el is None:
        return None
    *parents, last = path
    parent = _child(el, *parents) if parents else el
    candidates = _children(parent, last)
    if currency:
        same = [c for c in candidates if c.get("currencyID") in (None, currency)]
        candidates = same or candidates
    for candidate in candidates:
        value = _decimal(candidate.text)
        if value is not None:
            return value
    return None


def _decimal(text: str | None) -> Decimal | None:
    """The number in ``text``; amounts with fewer than two decimals get two (``1436.5`` -> ``1436.50``)."""
    if not text or not text.strip():
        return None
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        return None
    if not value.is_finite():
        return None
    return value.quantize(CENT) if value == value.quantize(CENT) else value


def _rate(text: str) -> Decimal:
    """A VAT percentage without trailing zeros: ``19.00`` -> ``19``, ``5.50`` -> ``5.5``."""
    value = _decimal(text)
    if value is None:
        return Decimal(0)
    return value.quantize(Decimal(1)) if value == value.to_integral_value() else value.normalize()


def _iso_date(text: str) -> date | None:
    text = text.strip()
    match = re.fullmatch(r"(\d{4})-?(\d{2})-?(\d{2})(?:T.*)?", text)
    if not match:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def _vat_id(value: str) -> str | None:
    try:
        return clean_vat_id(value)
    except ValidationError:
        return None


def _iban(value: str) -> str | None:
    try:
        return clean_iban(value)
    except ValidationError:
        return None


def _kvk(value: str, scheme: str | None, country: str = "") -> str | None:
    """A KvK number: 8 digits under scheme 0106, or without a scheme from a Dutch party."""
    compact = re.sub(r"[\s.\-]", "", value)
    if not re.fullmatch(r"\d{8}", compact):
        return None
    if (scheme or "").upper() in KVK_SCHEMES or (not scheme and country.upper() == "NL"):
        return compact
    return None


def _negate(value: Decimal | None) -> Decimal | None:
    return -value if value is not None else None


def _finish(source: str, root: etree._Element, *, credit: bool, total: Decimal | None,
            net: Decimal | None, vat: list[VatAmount], payable: Decimal | None, **fields: object) -> Extraction:
    if credit:
        total, net, payable = _negate(total), _negate(net), _negate(payable)
        vat = [VatAmount(v.rate, -v.amount, _negate(v.base)) for v in vat]
    paid: bool | None = None
    if payable is not None and total is not None and total != 0 and not credit:
        paid = payable == 0                     # everything was prepaid: a receipt, not a bill
    text = " ".join(" ".join(root.itertext()).split())[:20_000]
    values = {"total": total, "net": net, "vat": vat or None, "paid_hint": paid, **fields}
    confidence = {name: 1.0 for name, value in values.items() if value is not None}
    return Extraction(source=source, total=total, net=net, vat=tuple(vat), paid_hint=paid,
                      confidence=confidence, text=text, **fields)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- UBL

def _read_ubl(root: etree._Element) -> Extraction:
    credit_note = etree.QName(root).localname == "CreditNote"
    type_code = _text(root, "CreditNoteTypeCode") if credit_note else _text(root, "InvoiceTypeCode")
    credit = credit_note or type_code in CREDIT_TYPE_CODES
    currency = _text(root, "DocumentCurrencyCode") or None
    party = _child(root, "AccountingSupplierParty", "Party")
    legal = _child(party, "PartyLegalEntity")
    vendor = _text(legal, "RegistrationName") or _text(party, "PartyName", "Name") or None

    country = _text(party, "PostalAddress", "Country", "IdentificationCode")
    kvk = None
    for el in [_child(legal, "CompanyID"), _child(party, "EndpointID"),
               *[_child(p, "ID") for p in _children(party, "PartyIdentification")]]:
        if el is not None and kvk is None:
            kvk = _kvk(el.text or "", el.get("schemeID"), country if el.tag.endswith("CompanyID") else "")
    vat_id = None
    for scheme in _children(party, "PartyTaxScheme"):
        if _text(scheme, "TaxScheme", "ID").upper() in ("VAT", "") and vat_id is None:
            vat_id = _vat_id(_text(scheme, "CompanyID"))
    iban = None
    for means in _children(root, "PaymentMeans"):
        account = _text(means, "PayeeFinancialAccount", "ID")
        if account and iban is None:
            iban = _iban(account)

    vat: list[VatAmount] = []
    tax_totals = _children(root, "TaxTotal")
    with_subtotals = [t for t in tax_totals if _children(t, "TaxSubtotal")]
    in_currency = [t for t in with_subtotals
                   if _child(t, "TaxAmount") is not None and _child(t, "TaxAmount").get("currencyID") in (None, currency)]
    for sub in _children((in_currency or with_subtotals or [None])[0], "TaxSubtotal"):
        rate = _rate(_text(sub, "TaxCategory", "Percent"))
        amount = _amount(sub, "TaxAmount")
        if amount is not None:
            vat.append(VatAmount(rate=rate, amount=amount, base=_amount(sub, "TaxableAmount")))

    totals = _child(root, "LegalMonetaryTotal")
    return _finish(
        "ubl", root, credit=credit,
        total=_amount(totals, "TaxInclusiveAmount", currency=currency),
        net=_amount(totals, "TaxExclusiveAmount", currency=currency),
        vat=vat, payable=_amount(totals, "PayableAmount", currency=currency),
        date=_iso_date(_text(root, "IssueDate")), vendor=vendor, vendor_kvk=kvk, vendor_vat_id=vat_id,
        vendor_iban=iban, invoice_number=_text(root, "ID") or None, currency=currency,
    )


# --------------------------------------------------------------------------- CII (D16B and ZUGFeRD 1.0)

def _first_of(el: etree._Element | None, *names: str) -> etree._Element | None:
    for name in names:
        found = _child(el, name)
        if found is not None:
            return found
    return None


def _cii_date(el: etree._Element | None) -> date | None:
    stamp = _child(el, "DateTimeString")
    if stamp is None:
        return None
    text = (stamp.text or "").strip()
    if stamp.get("format", "102") == "102" or re.fullmatch(r"\d{8}", text):
        return _iso_date(text)
    return _iso_date(text) if "-" in text else None


def _read_cii(root: etree._Element) -> Extraction:
    header = _first_of(root, "ExchangedDocument", "HeaderExchangedDocument")
    transaction = _first_of(root, "SupplyChainTradeTransaction", "SpecifiedSupplyChainTradeTransaction")
    agreement = _first_of(transaction, "ApplicableHeaderTradeAgreement", "ApplicableSupplyChainTradeAgreement")
    settlement = _first_of(transaction, "ApplicableHeaderTradeSettlement", "ApplicableSupplyChainTradeSettlement")
    if header is None or settlement is None:
        raise ReceiptRejectedError("CII document without header or settlement")
    credit = _text(header, "TypeCode") in CREDIT_TYPE_CODES
    currency = _text(settlement, "InvoiceCurrencyCode") or None

    seller = _child(agreement, "SellerTradeParty")
    vendor = _text(seller, "Name") or _text(seller, "SpecifiedLegalOrganization", "TradingBusinessName") or None
    country = _text(seller, "PostalTradeAddress", "CountryID")
    kvk = None
    organization_id = _child(seller, "SpecifiedLegalOrganization", "ID")
    if organization_id is not None:
        kvk = _kvk(organization_id.text or "", organization_id.get("schemeID"), country)
    for global_id in _children(seller, "GlobalID"):
        kvk = kvk or _kvk(global_id.text or "", global_id.get("schemeID"))
    vat_id = None
    for registration in _children(seller, "SpecifiedTaxRegistration"):
        reg_id = _child(registration, "ID")
        if reg_id is not None and reg_id.get("schemeID", "VA").upper() == "VA" and vat_id is None:
            vat_id = _vat_id(reg_id.text or "")
    iban = None
    for means in _children(settlement, "SpecifiedTradeSettlementPaymentMeans"):
        account = _text(means, "PayeePartyCreditorFinancialAccount", "IBANID")
        if account and iban is None:
            iban = _iban(account)

    vat: list[VatAmount] = []
    for tax in _children(settlement, "ApplicableTradeTax"):
        amount = _amount(tax, "CalculatedAmount")
        if amount is None:
            continue
        rate = _rate(_text(tax, "RateApplicablePercent") or _text(tax, "ApplicablePercent"))
        vat.append(VatAmount(rate=rate, amount=amount, base=_amount(tax, "BasisAmount")))

    summation = _first_of(settlement, "SpecifiedTradeSettlementHeaderMonetarySummation",
                          "SpecifiedTradeSettlementMonetarySummation")
    total = _amount(summation, "GrandTotalAmount", currency=currency)
    net = _amount(summation, "TaxBasisTotalAmount", currency=currency)
    tax_total = _amount(summation, "TaxTotalAmount", currency=currency)
    if net is None and total is not None and tax_total is not None:
        net = total - tax_total
    if not vat and tax_total is not None and transaction is not None:
        vat = _vat_from_lines(transaction, tax_total)
    return _finish(
        "cii", root, credit=credit, total=total, net=net, vat=vat,
        payable=_amount(summation, "DuePayableAmount", currency=currency),
        date=_cii_date(_child(header, "IssueDateTime")), vendor=vendor, vendor_kvk=kvk, vendor_vat_id=vat_id,
        vendor_iban=iban, invoice_number=_text(header, "ID") or None, currency=currency,
    )


def _vat_from_lines(transaction: etree._Element, tax_total: Decimal) -> list[VatAmount]:
    """VAT per rate for an (early ZUGFeRD 1) invoice that states only the tax total: the line nets
    per rate, kept only when their VAT adds up to the stated total to the cent."""
    per_rate: dict[Decimal, list[Decimal]] = {}
    for item in _children(transaction, "IncludedSupplyChainTradeLineItem"):
        settlement = _first_of(item, "SpecifiedLineTradeSettlement", "SpecifiedSupplyChainTradeSettlement")
        agreement = _first_of(item, "SpecifiedLineTradeAgreement", "SpecifiedSupplyChainTradeAgreement")
        delivery = _first_of(item, "SpecifiedLineTradeDelivery", "SpecifiedSupplyChainTradeDelivery")
        tax = _child(settlement, "ApplicableTradeTax")
        price = _amount(agreement, "NetPriceProductTradePrice", "ChargeAmount")
        basis = _decimal(_text(agreement, "NetPriceProductTradePrice", "BasisQuantity")) or Decimal(1)
        quantity = _decimal(_text(delivery, "BilledQuantity"))
        if tax is None or price is None or quantity is None:
            return []
        rate = _rate(_text(tax, "RateApplicablePercent") or _text(tax, "ApplicablePercent"))
        per_rate.setdefault(rate, []).append(round_money(price * quantity / basis))
    vat = [VatAmount(rate, percent_of(sum(nets, Decimal(0)), rate), sum(nets, Decimal(0)))
           for rate, nets in sorted(per_rate.items(), reverse=True)]
    return vat if vat and sum(v.amount for v in vat) == tax_total else []
