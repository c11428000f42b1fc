"""UBL 2.1 e-invoices: Peppol BIS Billing 3.0 and SI-UBL 2.0 (NLCIUS). Pure: bytes in memory, no I/O.

``build_ubl(doc, totals)`` writes what ``core.vat.compute_totals`` computed — it never computes VAT
or totals itself, so the XML and the PDF carry the same numbers to the cent. Checked against the
official rules in ``../shared/einvoice`` by ``tests/einvoice``.

How the rules are met where it is not obvious:
- line discount: a line-level AllowanceCharge of (gross - net), with the percentage and the gross as
  base, so quantity x price - allowance = the line net of ``Totals`` (PEPPOL-EN16931-R120);
- document discount: one document-level AllowanceCharge per VAT subtotal, with its tax category;
- a negative unit price is written as a negative quantity at a positive price (BR-27);
- EndpointID: see ``core.einvoice_codes.endpoint_for``; a party without any routable identifier
  gets ``UNROUTABLE_ENDPOINT`` in Peppol (where the element is mandatory) and none in SI-UBL.
"""
from __future__ import annotations

from decimal import Decimal

from lxml import etree

from core.document import DocumentData, Line, Party, VatTreatment
from core.einvoice_codes import (
    XmlWriter,
    EXEMPT_CATEGORIES,
    KVK_SCHEME,
    UNROUTABLE_ENDPOINT,
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

NS_INVOICE = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
NS_CREDIT_NOTE = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
NS_CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
NS_CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
_PREFIX = {"cac": NS_CAC, "cbc": NS_CBC}

PROFILES = {
    "peppol": "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0",
    "nlcius": "urn:cen.eu:en16931:2017#compliant#urn:fdc:nen.nl:nlcius:v1.0",
}
PEPPOL_PROCESS = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
INVOICE_TYPE = "380"
CREDIT_NOTE_TYPE = "381"


def build_ubl(doc: DocumentData, totals: Totals, *, profile: str = "peppol") -> bytes:
    """The UBL Invoice (or CreditNote) of an issued document, UTF-8 with XML declaration.

    Raises ``ValidationError`` when the document cannot become a valid e-invoice (a quote, a draft,
    missing identifiers or addresses the rules require).
    """
    if profile not in PROFILES:
        raise ValidationError("profile", "Unknown e-invoice profile: {profile}", profile=profile)
    check_einvoice_ready(doc, totals)
    if len(totals.line_nets) != len(doc.lines):
        raise ValueError("totals were computed for another document")
    if profile == "nlcius" and doc.buyer.country == "NL" and not doc.buyer.kvk.strip():
        # BR-NL-10 demands a KvK or OIN for every Dutch customer, so no consumer can get SI-UBL.
        raise ValidationError("buyer.kvk", "SI-UBL 2.0 needs the KvK number of a Dutch customer")
    return _UblWriter(doc, totals, profile).write()


class _UblWriter(XmlWriter):
    PREFIXES = _PREFIX

    def __init__(self, doc: DocumentData, totals: Totals, profile: str) -> None:
        super().__init__(doc, totals)
        self.profile = profile

    # ---- element helpers --------------------------------------------------------------
    def amount(self, parent: etree._Element, tag: str, value: Decimal) -> None:
        self.el(parent, tag, money_str(value), currencyID=self.doc.currency)

    def tax_category(self, parent: etree._Element, tag: str, category: VatCategory, rate: Decimal,
                     exemption: tuple[str, str] = ("", "")) -> None:
        node = self.el(parent, tag)
        self.el(node, "cbc:ID", category.value)
        self.el(node, "cbc:Percent", decimal_str(rate))
        code, reason = exemption
        if self.profile == "peppol":   # SI-UBL advises against the code (BR-NL-35); the text suffices
            self.text(node, "cbc:TaxExemptionReasonCode", code)
        self.text(node, "cbc:TaxExemptionReason", reason)
        self.el(self.el(node, "cac:TaxScheme"), "cbc:ID", "VAT")

    # ---- document ---------------------------------------------------------------------
    def write(self) -> bytes:
        doc = self.doc
        ns = NS_CREDIT_NOTE if self.credit else NS_INVOICE
        root = etree.Element(f"{{{ns}}}{'CreditNote' if self.credit else 'Invoice'}",
                             nsmap={None: ns, "cac": NS_CAC, "cbc": NS_CBC})
        self.el(root, "cbc:CustomizationID", PROFILES[self.profile])
        self.el(root, "cbc:ProfileID", PEPPOL_PROCESS)
        self.text(root, "cbc:ID", doc.number or "")
        self.el(root, "cbc:IssueDate", doc.issue_date.isoformat())
        if not self.credit and doc.due_date:
            self.el(root, "cbc:DueDate", doc.due_date.isoformat())
        self.el(root, "cbc:CreditNoteTypeCode" if self.credit else "cbc:InvoiceTypeCode",
                CREDIT_NOTE_TYPE if self.credit else INVOICE_TYPE)
        self.text(root, "cbc:Note", "\n\n".join(t for t in (clean_text(doc.intro), clean_text(doc.outro)) if t))
        self.el(root, "cbc:DocumentCurrencyCode", doc.currency)
        # BT-10 (PEPPOL-EN16931-R003, BR-NL-2): the buyer's reference, else our own number.
        self.text(root, "cbc:BuyerReference", clean_text(doc.buyer_reference) or doc.number or "")
        if self.credit and doc.original_invoice:
            ref = self.el(self.el(root, "cac:BillingReference"), "cac:InvoiceDocumentReference")
            self.text(ref, "cbc:ID", doc.original_invoice.number)
            if self.profile == "peppol":   # SI-UBL advises against the issue date (BR-NL-24)
                self.el(ref, "cbc:IssueDate", doc.original_invoice.issue_date.isoformat())
        self.party(self.el(root, "cac:AccountingSupplierParty"), doc.seller, seller=True)
        self.party(self.el(root, "cac:AccountingCustomerParty"), doc.buyer, seller=False)
        self.delivery(root)
        self.payment(root)
        self.document_allowances(root)
        self.tax_total(root)
        self.monetary_total(root)
        for index, (line, net) in enumerate(zip(doc.lines, self.totals.line_nets), start=1):
            self.line(root, index, line, net)
        return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)

    def party(self, parent: etree._Element, who: Party, *, seller: bool) -> None:
        node = self.el(parent, "cac:Party")
        endpoint = endpoint_for(who)
        if endpoint is not None:
            self.el(node, "cbc:EndpointID", endpoint.value, schemeID=endpoint.scheme)
        elif self.profile == "peppol":   # mandatory in Peppol (R010/R020), optional in EN 16931
            self.el(node, "cbc:EndpointID", UNROUTABLE_ENDPOINT[1], schemeID=UNROUTABLE_ENDPOINT[0])
        if seller and who.trade_name.strip() and who.trade_name.strip() != who.name.strip():
            self.text(self.el(node, "cac:PartyName"), "cbc:Name", who.trade_name)
        address = self.el(node, "cac:PostalAddress")
        self.text(address, "cbc:StreetName", who.street)
        self.text(address, "cbc:CityName", who.city)
        self.text(address, "cbc:PostalZone", who.postcode)
        self.el(self.el(address, "cac:Country"), "cbc:IdentificationCode", who.country)
        if who.vat_id.strip():
            scheme = self.el(node, "cac:PartyTaxScheme")
            self.el(scheme, "cbc:CompanyID", compact_id(who.vat_id))
            self.el(self.el(scheme, "cac:TaxScheme"), "cbc:ID", "VAT")
        legal = self.el(node, "cac:PartyLegalEntity")
        self.text(legal, "cbc:RegistrationName", who.name)
        if who.kvk.strip():
            self.el(legal, "cbc:CompanyID", compact_id(who.kvk), schemeID=KVK_SCHEME)
        if who.phone.strip() or who.email.strip():
            contact = self.el(node, "cac:Contact")
            self.text(contact, "cbc:Telephone", who.phone)
            self.text(contact, "cbc:ElectronicMail", who.email)

    def delivery(self, root: etree._Element) -> None:
        doc = self.doc
        goods_to_eu = doc.vat_treatment is VatTreatment.INTRA_EU_GOODS
        if doc.delivery_date is None and not goods_to_eu:
            return
        node = self.el(root, "cac:Delivery")
        if doc.delivery_date is not None:
            self.el(node, "cbc:ActualDeliveryDate", doc.delivery_date.isoformat())
        if goods_to_eu:
            # BR-IC-12 wants the deliver-to country; the document has no delivery address, so the
            # goods are taken to go to the buyer's address.
            address = self.el(self.el(node, "cac:DeliveryLocation"), "cac:Address")
            self.text(address, "cbc:StreetName", doc.buyer.street)
            self.text(address, "cbc:CityName", doc.buyer.city)
            self.text(address, "cbc:PostalZone", doc.buyer.postcode)
            self.el(self.el(address, "cac:Country"), "cbc:IdentificationCode", doc.buyer.country)

    def payment(self, root: etree._Element) -> None:
        doc = self.doc
        seller = doc.seller
        if seller.iban.strip() and owed_to_seller(doc, self.totals.amount_due):
            means = self.el(root, "cac:PaymentMeans")
            code = payment_means_code(seller.iban)
            self.el(means, "cbc:PaymentMeansCode", code)
            self.text(means, "cbc:PaymentID", doc.effective_payment_reference)
            account = self.el(means, "cac:PayeeFinancialAccount")
            self.el(account, "cbc:ID", compact_id(seller.iban))
            if self.profile == "peppol":   # SI-UBL advises against the account name (BR-NL-30)
                self.text(account, "cbc:Name", seller.name)
            if code == "30" and seller.bic.strip():   # SI-UBL advises against a BIC for SEPA (BR-NL-31)
                self.text(self.el(account, "cac:FinancialInstitutionBranch"), "cbc:ID", seller.bic)
        self.text(self.el(root, "cac:PaymentTerms"), "cbc:Note", payment_terms_text(doc, self.totals.amount_due))

    def document_allowances(self, root: etree._Element) -> None:
        if not self.doc.discount_percent:
            return
        reason = "Discount" if self.english else "Korting"
        for sub in self.totals.subtotals:
            node = self.el(root, "cac:AllowanceCharge")
            self.el(node, "cbc:ChargeIndicator", "false")
            self.el(node, "cbc:AllowanceChargeReason", reason)
            self.el(node, "cbc:MultiplierFactorNumeric", decimal_str(self.doc.discount_percent))
            self.amount(node, "cbc:Amount", sub.allowance)
            self.amount(node, "cbc:BaseAmount", sub.lines_total)
            self.tax_category(node, "cac:TaxCategory", sub.category, sub.rate)

    def tax_total(self, root: etree._Element) -> None:
        total = self.el(root, "cac:TaxTotal")
        self.amount(total, "cbc:TaxAmount", self.totals.total_vat)
        for sub in self.totals.subtotals:
            node = self.el(total, "cac:TaxSubtotal")
            self.amount(node, "cbc:TaxableAmount", sub.base)
            self.amount(node, "cbc:TaxAmount", sub.vat)
            exemption = ((sub.exemption_code, exemption_reason(sub, self.doc.language))
                         if sub.category in EXEMPT_CATEGORIES else ("", ""))
            self.tax_category(node, "cac:TaxCategory", sub.category, sub.rate, exemption)

    def monetary_total(self, root: etree._Element) -> None:
        t = self.totals
        node = self.el(root, "cac:LegalMonetaryTotal")
        self.amount(node, "cbc:LineExtensionAmount", t.lines_total)
        self.amount(node, "cbc:TaxExclusiveAmount", t.total_excl)
        self.amount(node, "cbc:TaxInclusiveAmount", t.total_incl)
        if self.doc.discount_percent:
            self.amount(node, "cbc:AllowanceTotalAmount", t.allowance_total)
        if t.amount_paid > 0:
            self.amount(node, "cbc:PrepaidAmount", t.amount_paid)
        self.amount(node, "cbc:PayableAmount", t.amount_due)

    def line(self, root: etree._Element, index: int, line: Line, net: Decimal) -> None:
        doc = self.doc
        node = self.el(root, "cac:CreditNoteLine" if self.credit else "cac:InvoiceLine")
        self.el(node, "cbc:ID", str(index))
        quantity, price = line.quantity, line.unit_price
        if price < 0:                     # BR-27: the net price may not be negative
            quantity, price = -quantity, -price
        self.el(node, "cbc:CreditedQuantity" if self.credit else "cbc:InvoicedQuantity",
                decimal_str(quantity), unitCode=unit_code(line.unit))
        self.amount(node, "cbc:LineExtensionAmount", net)
        if line.discount_percent:
            gross = line_gross(line)
            allowance = self.el(node, "cac:AllowanceCharge")
            self.el(allowance, "cbc:ChargeIndicator", "false")
            self.el(allowance, "cbc:AllowanceChargeReason", "Discount" if self.english else "Korting")
            self.el(allowance, "cbc:MultiplierFactorNumeric", decimal_str(line.discount_percent))
            self.amount(allowance, "cbc:Amount", gross - net)
            self.amount(allowance, "cbc:BaseAmount", gross)
        item = self.el(node, "cac:Item")
        description = clean_text(line.description)
        name = item_name(description)
        if name != description:
            self.text(item, "cbc:Description", description)
        self.text(item, "cbc:Name", name)
        rate = effective_rate(doc.vat_treatment, line.vat_rate)
        self.tax_category(item, "cac:ClassifiedTaxCategory", category_for(doc.vat_treatment, rate), rate)
        self.el(self.el(node, "cac:Price"), "cbc:PriceAmount", price_str(price), currencyID=doc.currency)

