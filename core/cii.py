"""UN/CEFACT CII (CrossIndustryInvoice D16B) for Factur-X EN 16931, and its PDF/A-3 embedding. Pure.

``build_cii(doc, totals)`` carries the same content and the same numbers as ``core.ubl.build_ubl``:
everything comes from ``Totals``; nothing is recomputed here. ``embed_facturx(pdf, cii)`` attaches
the XML to a PDF/A-3 (WeasyPrint ``pdf_variant="pdf/a-3b"``) with the ``factur-x`` library, in memory.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import facturx
from lxml import etree

from core.document import DocumentData, Line, Party, VatTreatment
from core.einvoice_codes import (
    XmlWriter,
    EXEMPT_CATEGORIES,
    KVK_SCHEME,
    check_einvoice_ready,
    clean_text,
    compact_id,
    decimal_str,
    endpoint_for,
    exemption_reason,
    item_name,
    money_str,
    owed_to_seller,
    payment_means_code,
    payment_terms_text,
    price_str,
    unit_code,
)
from core.errors import ValidationError
from core.vat import Totals, VatCategory, category_for, effective_rate, line_gross

NS_RSM = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
NS_RAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
NS_UDT = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"
NS_QDT = "urn:un:unece:uncefact:data:standard:QualifiedDataType:100"
_PREFIX = {"rsm": NS_RSM, "ram": NS_RAM, "udt": NS_UDT, "qdt": NS_QDT}

EN16931_GUIDELINE = "urn:cen.eu:en16931:2017"
FACTURX_LEVEL = "en16931"


def build_cii(doc: DocumentData, totals: Totals) -> bytes:
    """The CII XML (Factur-X EN 16931 profile) of an issued invoice or credit note.

    Raises ``ValidationError`` like ``build_ubl`` when the document cannot be a valid e-invoice.
    """
    check_einvoice_ready(doc, totals)
    if len(totals.line_nets) != len(doc.lines):
        raise ValueError("totals were computed for another document")
    return _CiiWriter(doc, totals).write()


def embed_facturx(pdf: bytes, cii: bytes) -> bytes:
    """A Factur-X PDF: ``pdf`` (a PDF/A-3) with ``cii`` attached as ``factur-x.xml``.

    The XML is checked against the Factur-X EN 16931 XSD on the way in; the schematron check of the
    library is off (it would call a network service).
    """
    if not pdf.startswith(b"%PDF-"):
        raise ValidationError("pdf", "Not a PDF document")
    return facturx.generate_from_binary(
        pdf, cii, flavor="factur-x", level=FACTURX_LEVEL, check_xsd=True, check_schematron=False,
    )


class _CiiWriter(XmlWriter):
    PREFIXES = _PREFIX

    # ---- element helpers --------------------------------------------------------------
    def amount(self, parent: etree._Element, tag: str, value: Decimal) -> None:
        self.el(parent, tag, money_str(value))

    def date(self, parent: etree._Element, tag: str, day: date, *, qualified: bool = False) -> None:
        self.el(self.el(parent, tag), "qdt:DateTimeString" if qualified else "udt:DateTimeString",
                day.strftime("%Y%m%d"), format="102")

    def indicator(self, parent: etree._Element, charge: bool) -> None:
        self.el(self.el(parent, "ram:ChargeIndicator"), "udt:Indicator", "true" if charge else "false")

    def trade_tax(self, parent: etree._Element, tag: str, category: VatCategory, rate: Decimal) -> None:
        node = self.el(parent, tag)
        self.el(node, "ram:TypeCode", "VAT")
        self.el(node, "ram:CategoryCode", category.value)
        self.el(node, "ram:RateApplicablePercent", decimal_str(rate))

    def discount(self, parent: etree._Element, tag: str, percent: Decimal, base: Decimal,
                 amount: Decimal) -> etree._Element:
        node = self.el(parent, tag)
        self.indicator(node, charge=False)
        self.el(node, "ram:CalculationPercent", decimal_str(percent))
        self.amount(node, "ram:BasisAmount", base)
        self.amount(node, "ram:ActualAmount", amount)
        self.el(node, "ram:Reason", "Discount" if self.english else "Korting")
        return node

    # ---- document ---------------------------------------------------------------------
    def write(self) -> bytes:
        doc = self.doc
        root = etree.Element(f"{{{NS_RSM}}}CrossIndustryInvoice", nsmap=dict(_PREFIX))
        context = self.el(root, "rsm:ExchangedDocumentContext")
        self.el(self.el(context, "ram:GuidelineSpecifiedDocumentContextParameter"), "ram:ID", EN16931_GUIDELINE)
        header = self.el(root, "rsm:ExchangedDocument")
        self.text(header, "ram:ID", doc.number or "")
        self.el(header, "ram:TypeCode", "381" if self.credit else "380")
        self.date(header, "ram:IssueDateTime", doc.issue_date)
        note = "\n\n".join(t for t in (clean_text(doc.intro), clean_text(doc.outro)) if t)
        if note:
            self.el(self.el(header, "ram:IncludedNote"), "ram:Content", note)
        transaction = self.el(root, "rsm:SupplyChainTradeTransaction")
        for index, (line, net) in enumerate(zip(doc.lines, self.totals.line_nets), start=1):
            self.line(transaction, index, line, net)
        self.agreement(transaction)
        self.delivery(transaction)
        self.settlement(transaction)
        return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)

    def line(self, parent: etree._Element, index: int, line: Line, net: Decimal) -> None:
        doc = self.doc
        node = self.el(parent, "ram:IncludedSupplyChainTradeLineItem")
        self.el(self.el(node, "ram:AssociatedDocumentLineDocument"), "ram:LineID", str(index))
        product = self.el(node, "ram:SpecifiedTradeProduct")
        description = clean_text(line.description)
        name = item_name(description)
        self.text(product, "ram:Name", name)
        if name != description:
            self.text(product, "ram:Description", description)
        quantity, price = line.quantity, line.unit_price
        if price < 0:                     # BR-27: the net price may not be negative
            quantity, price = -quantity, -price
        agreement = self.el(node, "ram:SpecifiedLineTradeAgreement")
        self.el(self.el(agreement, "ram:NetPriceProductTradePrice"), "ram:ChargeAmount", price_str(price))
        delivery = self.el(node, "ram:SpecifiedLineTradeDelivery")
        self.el(delivery, "ram:BilledQuantity", decimal_str(quantity), unitCode=unit_code(line.unit))
        settlement = self.el(node, "ram:SpecifiedLineTradeSettlement")
        rate = effective_rate(doc.vat_treatment, line.vat_rate)
        self.trade_tax(settlement, "ram:ApplicableTradeTax", category_for(doc.vat_treatment, rate), rate)
        if line.discount_percent:
            gross = line_gross(line)
            self.discount(settlement, "ram:SpecifiedTradeAllowanceCharge", line.discount_percent, gross, gross - net)
        summation = self.el(settlement, "ram:SpecifiedTradeSettlementLineMonetarySummation")
        self.amount(summation, "ram:LineTotalAmount", net)

    def agreement(self, parent: etree._Element) -> None:
        doc = self.doc
        node = self.el(parent, "ram:ApplicableHeaderTradeAgreement")
        self.text(node, "ram:BuyerReference", clean_text(doc.buyer_reference) or doc.number or "")
        self.party(node, "ram:SellerTradeParty", doc.seller, seller=True)
        self.party(node, "ram:BuyerTradeParty", doc.buyer, seller=False)

    def party(self, parent: etree._Element, tag: str, who: Party, *, seller: bool) -> None:
        node = self.el(parent, tag)
        self.text(node, "ram:Name", who.name)
        trading = who.trade_name.strip() if seller and who.trade_name.strip() != who.name.strip() else ""
        if who.kvk.strip() or trading:
            legal = self.el(node, "ram:SpecifiedLegalOrganization")
            if who.kvk.strip():
                self.el(legal, "ram:ID", compact_id(who.kvk), schemeID=KVK_SCHEME)
            self.text(legal, "ram:TradingBusinessName", trading)
        if who.phone.strip() or who.email.strip():
            contact = self.el(node, "ram:DefinedTradeContact")
            if who.phone.strip():
                self.text(self.el(contact, "ram:TelephoneUniversalCommunication"), "ram:CompleteNumber", who.phone)
            if who.email.strip():
                self.text(self.el(contact, "ram:EmailURIUniversalCommunication"), "ram:URIID", who.email)
        self.address(node, who)
        endpoint = endpoint_for(who)
        if endpoint is not None:
            self.el(self.el(node, "ram:URIUniversalCommunication"), "ram:URIID", endpoint.value,
                    schemeID=endpoint.scheme)
        if who.vat_id.strip():
            self.el(self.el(node, "ram:SpecifiedTaxRegistration"), "ram:ID", compact_id(who.vat_id), schemeID="VA")

    def address(self, parent: etree._Element, who: Party) -> None:
        node = self.el(parent, "ram:PostalTradeAddress")
        self.text(node, "ram:PostcodeCode", who.postcode)
        self.text(node, "ram:LineOne", who.street)
        self.text(node, "ram:CityName", who.city)
        self.el(node, "ram:CountryID", who.country)

    def delivery(self, parent: etree._Element) -> None:
        doc = self.doc
        node = self.el(parent, "ram:ApplicableHeaderTradeDelivery")
        if doc.vat_treatment is VatTreatment.INTRA_EU_GOODS:
            # BR-IC-12: the deliver-to country; without a delivery address, the buyer's address.
            ship_to = self.el(node, "ram:ShipToTradeParty")
            self.text(ship_to, "ram:Name", doc.buyer.name)
            self.address(ship_to, doc.buyer)
        if doc.delivery_date is not None:
            self.date(self.el(node, "ram:ActualDeliverySupplyChainEvent"), "ram:OccurrenceDateTime",
                      doc.delivery_date)

    def settlement(self, parent: etree._Element) -> None:
        doc, totals = self.doc, self.totals
        node = self.el(parent, "ram:ApplicableHeaderTradeSettlement")
        if owed_to_seller(doc, totals.amount_due):
            self.text(node, "ram:PaymentReference", doc.effective_payment_reference)
        self.el(node, "ram:InvoiceCurrencyCode", doc.currency)
        seller = doc.seller
        if seller.iban.strip() and owed_to_seller(doc, totals.amount_due):
            means = self.el(node, "ram:SpecifiedTradeSettlementPaymentMeans")
            code = payment_means_code(seller.iban)
            self.el(means, "ram:TypeCode", code)
            account = self.el(means, "ram:PayeePartyCreditorFinancialAccount")
            self.el(account, "ram:IBANID", compact_id(seller.iban))
            self.text(account, "ram:AccountName", seller.name)
            if code == "30" and seller.bic.strip():
                self.text(self.el(means, "ram:PayeeSpecifiedCreditorFinancialInstitution"), "ram:BICID", seller.bic)
        for sub in totals.subtotals:
            tax = self.el(node, "ram:ApplicableTradeTax")
            self.amount(tax, "ram:CalculatedAmount", sub.vat)
            self.el(tax, "ram:TypeCode", "VAT")
            exempt = sub.category in EXEMPT_CATEGORIES
            if exempt:
                self.text(tax, "ram:ExemptionReason", exemption_reason(sub, doc.language))
            self.amount(tax, "ram:BasisAmount", sub.base)
            self.el(tax, "ram:CategoryCode", sub.category.value)
            if exempt:
                self.text(tax, "ram:ExemptionReasonCode", sub.exemption_code)
            self.el(tax, "ram:RateApplicablePercent", decimal_str(sub.rate))
        if doc.discount_percent:
            for sub in totals.subtotals:
                allowance = self.discount(node, "ram:SpecifiedTradeAllowanceCharge", doc.discount_percent,
                                          sub.lines_total, sub.allowance)
                self.trade_tax(allowance, "ram:CategoryTradeTax", sub.category, sub.rate)
        terms = self.el(node, "ram:SpecifiedTradePaymentTerms")
        self.text(terms, "ram:Description", payment_terms_text(doc, totals.amount_due))
        if not self.credit and doc.due_date:
            self.date(terms, "ram:DueDateDateTime", doc.due_date)
        summation = self.el(node, "ram:SpecifiedTradeSettlementHeaderMonetarySummation")
        self.amount(summation, "ram:LineTotalAmount", totals.lines_total)
        if doc.discount_percent:
            self.amount(summation, "ram:AllowanceTotalAmount", totals.allowance_total)
        self.amount(summation, "ram:TaxBasisTotalAmount", totals.total_excl)
        self.el(summation, "ram:TaxTotalAmount", money_str(totals.total_vat), currencyID=doc.currency)
        self.amount(summation, "ram:GrandTotalAmount", totals.total_incl)
        if totals.amount_paid > 0:
            self.amount(summation, "ram:TotalPrepaidAmount", totals.amount_paid)
        self.amount(summation, "ram:DuePayableAmount", totals.amount_due)
        if self.credit and doc.original_invoice:
            reference = self.el(node, "ram:InvoiceReferencedDocument")
            self.text(reference, "ram:IssuerAssignedID", doc.original_invoice.number)
            self.date(reference, "ram:FormattedIssueDateTime", doc.original_invoice.issue_date, qualified=True)
