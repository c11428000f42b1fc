"""The document as value objects: what an invoice, quote or credit note *says*.

Both the JSON spec (``core.spec``) and the database (``core.documents``) produce a ``DocumentData``;
totals (``core.vat``), the compliance check (``core.compliance``), the PDF (``core.rendering``) and
the e-invoices (``core.ubl``, ``core.cii``) consume it. Pure: no I/O.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal


class DocumentKind(str, enum.Enum):
    INVOICE = "invoice"
    QUOTE = "quote"
    CREDIT_NOTE = "credit_note"


class VatTreatment(str, enum.Enum):
    STANDARD = "standard"            # 21 / 9 / 0 % in the Netherlands
    REVERSE_CHARGE = "reverse_charge"  # EU B2B services: "btw verlegd" (AE)
    INTRA_EU_GOODS = "intra_eu_goods"  # EU B2B goods: 0 %, intra-community (K)
    EXPORT = "export"                # outside the EU (G)
    KOR = "kor"                      # kleineondernemersregeling: no VAT at all (E)
    EXEMPT = "exempt"                # vrijgesteld, e.g. education, healthcare (E)


EU_COUNTRIES = frozenset(
    "AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK".split()
)


@dataclass(frozen=True)
class Party:
    name: str
    street: str = ""
    postcode: str = ""
    city: str = ""
    country: str = "NL"          # ISO 3166-1 alpha-2
    kvk: str = ""
    vat_id: str = ""
    iban: str = ""
    bic: str = ""
    email: str = ""
    phone: str = ""
    website: str = ""
    trade_name: str = ""
    is_business: bool = True
    kor: bool = False            # seller only

    @property
    def display_name(self) -> str:
        return self.trade_name or self.name


@dataclass(frozen=True)
class Line:
    description: str
    quantity: Decimal
    unit_price: Decimal          # excl. VAT
    vat_rate: Decimal            # percent, e.g. Decimal("21")
    unit: str = ""
    discount_percent: Decimal = Decimal(0)


@dataclass(frozen=True)
class Reference:
    number: str
    issue_date: date


@dataclass(frozen=True)
class Branding:
    color: str = "#1f4e79"       # the house colour, #rrggbb
    logo: bytes | None = None    # PNG/JPEG/SVG bytes
    logo_mime: str = ""


@dataclass(frozen=True)
class DocumentData:
    kind: DocumentKind
    issue_date: date
    seller: Party
    buyer: Party
    lines: tuple[Line, ...]
    number: str | None = None
    delivery_date: date | None = None
    due_date: date | None = None          # invoice / credit note
    valid_until: date | None = None       # quote
    currency: str = "EUR"
    language: str = "nl"
    vat_treatment: VatTreatment = VatTreatment.STANDARD
    discount_percent: Decimal = Decimal(0)
    intro: str = ""
    outro: str = ""
    original_invoice: Reference | None = None   # credit note: the invoice it corrects
    quote_reference: str = ""                   # invoice made from a quote
    buyer_reference: str = ""                   # the buyer's PO / reference (BT-10)
    payment_reference: str = ""                 # defaults to the number
    amount_paid: Decimal = Decimal(0)           # already received (BT-113)
    payment_link: str = ""                      # e.g. a Mollie payment link
    branding: Branding = field(default_factory=Branding)

    @property
    def is_draft(self) -> bool:
        return not self.number

    @property
    def effective_payment_reference(self) -> str:
        return self.payment_reference or (self.number or "")

    def with_number(self, number: str) -> "DocumentData":
        return replace(self, number=number)
