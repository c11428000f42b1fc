"""The finished view-model of a document: every label translated, every amount and date formatted.

``build_view(doc, totals)`` decides everything the template shows — which rows, which notices, the
sign of a credit note's amounts, whether there is a payment block and the GiroCode's text — so
``templates/document.html`` only lays it out. Amounts come from ``core.vat.Totals``; nothing is
computed here except presentation (the sign of a credit note, the payment term in days).
Money and dates are formatted with babel: ``nl`` as nl_NL, ``en`` as en_GB ("30 November 2026").
"""
from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from types import MappingProxyType

from babel import Locale
from babel.dates import format_date as babel_format_date
from babel.numbers import format_currency, format_decimal
from stdnum import iso11649

from core.document import DocumentData, DocumentKind, Party, VatTreatment
from core.i18n import normalize_language, translate
from core.vat import Totals, VatCategory

DEFAULT_COLOR = "#1f4e79"
_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")
_LOGO_MIMES = frozenset({"image/png", "image/jpeg", "image/svg+xml"})
_LOCALES = {"nl": "nl_NL", "en": "en_GB"}
_CENT = Decimal("0.01")
_HTTP_URL = re.compile(r"^https?://[^\s\"'<>]+$")


# --- formatting (registered as Jinja2 filters in core.rendering) ---------------------------------

def locale_for(language: str) -> str:
    return _LOCALES[normalize_language(language)]


def format_money(value: Decimal, language: str, currency: str = "EUR") -> str:
    """``€ 1.234,56`` / ``-€ 121,00`` (nl), ``€1,234.56`` / ``-€121.00`` (en); a unit price with more
    than two decimals keeps them (``€ 1,855``) instead of being rounded on the document."""
    exponent = value.normalize().as_tuple().exponent if value else 0
    places = max(2, -exponent) if isinstance(exponent, int) else 2
    amount = abs(value).quantize(Decimal(1).scaleb(-places))
    text = format_currency(amount, currency, locale=locale_for(language), decimal_quantization=False)
    return f"-{text}" if value < 0 else text


def format_date(value: date, language: str) -> str:
    """``30 november 2026`` (nl), ``30 November 2026`` (en)."""
    return babel_format_date(value, format="long", locale=locale_for(language))


def format_quantity(value: Decimal, language: str) -> str:
    return format_decimal(value.normalize(), locale=locale_for(language), decimal_quantization=False)


def format_percent(value: Decimal, language: str) -> str:
    """A percentage given as a number (``Decimal("21")``): ``21%``, ``12,5%``."""
    return f"{format_quantity(value, language)}%"


def format_iban(iban: str) -> str:
    compact = re.sub(r"\s+", "", iban).upper()
    return " ".join(compact[i:i + 4] for i in range(0, len(compact), 4))


# --- the view-model ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Row:
    label: str
    value: str
    strong: bool = False


@dataclass(frozen=True)
class PartyView:
    name: str                      # trade name if any, else the legal name
    legal_name: str                # "" when equal to ``name``
    address: tuple[str, ...]
    contact: tuple[str, ...]
    ids: tuple[Row, ...]           # KvK, btw-id


@dataclass(frozen=True)
class LineView:
    description: str
    quantity: str
    unit: str
    unit_price: str
    discount: str
    vat: str
    amount: str


@dataclass(frozen=True)
class VatRowView:
    rate: str
    base: str
    vat: str


@dataclass(frozen=True)
class PaymentView:
    text: str
    rows: tuple[Row, ...]
    link: str                      # "" or an http(s) URL, safe to put in href
    epc_payload: str               # "" or the EPC GiroCode text; drawn by the ``girocode`` filter
    qr_caption: str


@dataclass(frozen=True)
class DocumentView:
    language: str
    kind: str
    title: str
    pdf_title: str
    draft_mark: str                # "CONCEPT" / "DRAFT" when the document has no number, else ""
    draft_note: str
    color: str
    color_ink: str                 # the house colour for text on white, darkened when too light
    color_tint: str
    color_on: str                  # text colour on the house colour
    logo_uri: str
    seller: PartyView
    buyer: PartyView
    buyer_heading: str
    meta: tuple[Row, ...]
    intro: str
    outro: str
    labels: Mapping[str, str]
    show_discount: bool
    show_vat: bool
    lines: tuple[LineView, ...]
    vat_rows: tuple[VatRowView, ...]
    totals: tuple[Row, ...]
    notices: tuple[str, ...]
    payment: PaymentView | None
    acceptance: tuple[str, ...]    # quote: the "for agreement" fields; () otherwise
    footer: tuple[str, ...]


_TITLES = {DocumentKind.INVOICE: "Invoice", DocumentKind.QUOTE: "Quote", DocumentKind.CREDIT_NOTE: "Credit note"}
_NUMBER_LABELS = {DocumentKind.INVOICE: "Invoice number", DocumentKind.QUOTE: "Quote number",
                  DocumentKind.CREDIT_NOTE: "Credit note number"}
_DATE_LABELS = {DocumentKind.INVOICE: "Invoice date", DocumentKind.QUOTE: "Quote date",
                DocumentKind.CREDIT_NOTE: "Date"}
_LABELS = {"description": "Description", "quantity": "Quantity", "unit_price": "Price",
           "discount": "Discount", "vat": "VAT", "amount": "Amount", "vat_heading": "VAT breakdown",
           "vat_rate": "Rate", "vat_base": "Base excl. VAT", "vat_amount": "VAT amount",
           "page": "Page", "page_of": "of", "payment_heading": "Payment details",
           "acceptance_heading": "Accepted", "pay_online": "Pay online"}


def build_view(doc: DocumentData, totals: Totals) -> DocumentView:
    """Everything ``templates/document.html`` shows, in ``doc.language`` (nl or en)."""
    return _Builder(doc, totals).view()


class _Builder:
    """One document's view: the language, the translator and the sign of its money, in one place."""

    def __init__(self, doc: DocumentData, totals: Totals) -> None:
        self.doc, self.totals = doc, totals
        self.lang = normalize_language(doc.language)
        self.sign = Decimal(-1) if doc.kind is DocumentKind.CREDIT_NOTE else Decimal(1)

    def t(self, msgid: str, **params: object) -> str:
        return translate(self.lang, msgid, **params)

    def money(self, value: Decimal) -> str:
        """An amount as shown on this document: a credit note shows what is credited, negative."""
        return format_money(self.sign * value, self.lang, self.doc.currency)

    def date(self, value: date) -> str:
        return format_date(value, self.lang)

    def view(self) -> DocumentView:
        doc, t = self.doc, self.t
        kor = doc.vat_treatment is VatTreatment.KOR
        title = t(_TITLES[doc.kind])
        color = doc.branding.color.lower() if _HEX.match(doc.branding.color or "") else DEFAULT_COLOR
        return DocumentView(
            language=self.lang, kind=doc.kind.value, title=title,
            pdf_title=f"{title} {doc.number}" if doc.number else f"{title} ({t('draft')})",
            draft_mark=t("DRAFT") if doc.is_draft else "",
            draft_note=t("Draft without a number: not valid yet.") if doc.is_draft else "",
            color=color, color_ink=color if _luminance(color) < 0.25 else _mix(color, "#000000", 0.5),
            color_tint=_mix(color, "#ffffff", 0.92), color_on="#ffffff" if _luminance(color) < 0.3 else "#111111",
            logo_uri=_logo_uri(doc), seller=self.party(doc.seller), buyer=self.party(doc.buyer, contact=False),
            buyer_heading=t("Quote for") if doc.kind is DocumentKind.QUOTE else t("Bill to"),
            meta=self.meta(), intro=doc.intro, outro=doc.outro,
            labels=MappingProxyType({key: t(msgid) for key, msgid in _LABELS.items()}),
            show_discount=any(line.discount_percent for line in doc.lines), show_vat=not kor,
            lines=self.lines(),
            vat_rows=() if kor else tuple(
                VatRowView(rate=self.rate_label(s.category, s.rate), base=self.money(s.base), vat=self.money(s.vat))
                for s in self.totals.subtotals),
            totals=self.total_rows(), notices=self.notices(), payment=self.payment(),
            acceptance=(t("Name"), t("Date"), t("Signature")) if doc.kind is DocumentKind.QUOTE else (),
            footer=self.footer(),
        )

    def party(self, party: Party, *, contact: bool = True) -> PartyView:
        """Name and address; the country only when seller and buyer are in different countries."""
        place = " ".join(p for p in (party.postcode, party.city) if p)
        country = ""
        if self.doc.buyer.country != self.doc.seller.country:
            country = Locale.parse(locale_for(self.lang)).territories.get(party.country, party.country)
        ids = []
        if party.kvk:
            ids.append(Row(self.t("CoC no."), party.kvk))
        if party.vat_id:
            ids.append(Row(self.t("VAT ID"), party.vat_id))
        extra = (party.email, party.phone, party.website) if contact else ()
        return PartyView(name=party.display_name, legal_name=party.name if party.display_name != party.name else "",
                         address=tuple(p for p in (party.street, place, country) if p),
                         contact=tuple(x for x in extra if x), ids=tuple(ids))

    def meta(self) -> tuple[Row, ...]:
        doc, t = self.doc, self.t
        rows = [Row(t(_NUMBER_LABELS[doc.kind]), doc.number, strong=True)] if doc.number else []
        rows.append(Row(t(_DATE_LABELS[doc.kind]), self.date(doc.issue_date)))
        if doc.delivery_date:
            rows.append(Row(t("Delivery date"), self.date(doc.delivery_date)))
        if doc.kind is DocumentKind.INVOICE and doc.due_date:
            rows.append(Row(t("Due date"), self.date(doc.due_date)))
        if doc.kind is DocumentKind.QUOTE and doc.valid_until:
            rows.append(Row(t("Valid until"), self.date(doc.valid_until), strong=True))
        if doc.original_invoice:
            ref = doc.original_invoice
            rows.append(Row(t("Original invoice"), t("{number} of {date}", number=ref.number,
                                                       date=self.date(ref.issue_date))))
        if doc.quote_reference:
            rows.append(Row(t("Our quote"), doc.quote_reference))
        if doc.buyer_reference:
            rows.append(Row(t("Your reference"), doc.buyer_reference))
        return tuple(rows)

    def lines(self) -> tuple[LineView, ...]:
        treatment, lang = self.doc.vat_treatment, self.lang
        fixed_vat = None if treatment is VatTreatment.STANDARD else {   # one label for every line
            VatTreatment.REVERSE_CHARGE: self.t("reverse charge"), VatTreatment.EXEMPT: self.t("exempt"),
            VatTreatment.KOR: ""}.get(treatment, format_percent(Decimal(0), lang))
        return tuple(
            LineView(description=line.description, quantity=format_quantity(line.quantity, lang), unit=line.unit,
                     unit_price=self.money(line.unit_price),
                     discount=format_percent(line.discount_percent, lang) if line.discount_percent else "",
                     vat=format_percent(line.vat_rate, lang) if fixed_vat is None else fixed_vat,
                     amount=self.money(net))
            for line, net in zip(self.doc.lines, self.totals.line_nets)
        )

    def rate_label(self, category: VatCategory, rate: Decimal) -> str:
        return {
            VatCategory.REVERSE_CHARGE: self.t("VAT reverse-charged"),
            VatCategory.INTRA_EU: self.t("0% intra-EU supply"),
            VatCategory.EXPORT: self.t("0% export"),
            VatCategory.EXEMPT: self.t("exempt"),
        }.get(category, format_percent(rate, self.lang))

    def total_rows(self) -> tuple[Row, ...]:
        doc, totals, t, money = self.doc, self.totals, self.t, self.money
        rows = []
        if totals.allowance_total:
            rows.append(Row(t("Subtotal"), money(totals.lines_total)))
            rows.append(Row(t("Discount {percent}", percent=format_percent(doc.discount_percent, self.lang)),
                            money(-totals.allowance_total)))
        if doc.vat_treatment is not VatTreatment.KOR:       # KOR: showing VAT would end the exemption
            rows.append(Row(t("Total excl. VAT"), money(totals.total_excl)))
            rows.append(Row(t("VAT"), money(totals.total_vat)))
        total_label = t("Total incl. VAT") if doc.vat_treatment is VatTreatment.STANDARD else t("Total")
        if totals.amount_paid and doc.kind is DocumentKind.INVOICE:
            rows.append(Row(total_label, money(totals.total_incl)))
            rows.append(Row(t("Already paid"), money(-totals.amount_paid)))
            rows.append(Row(t("Amount due"), money(totals.amount_due), strong=True))
        else:
            rows.append(Row(total_label, money(totals.total_incl), strong=True))
        return tuple(rows)

    def notices(self) -> tuple[str, ...]:
        doc, totals, t = self.doc, self.totals, self.t
        notes: list[str] = []
        if doc.kind is DocumentKind.CREDIT_NOTE and doc.original_invoice:
            notes.append(t("This credit note corrects invoice {number} of {date}.",
                           number=doc.original_invoice.number, date=self.date(doc.original_invoice.issue_date)))
        for sub in totals.subtotals:
            text = sub.exemption_text_nl if self.lang == "nl" else sub.exemption_text_en
            if text and self.lang != "nl" and sub.category is VatCategory.REVERSE_CHARGE:
                text = f"{text} ({sub.exemption_text_nl.lower()})"   # Dutch law asks for "btw verlegd"
            if text and text not in notes:
                notes.append(text)
        if doc.vat_treatment in (VatTreatment.REVERSE_CHARGE, VatTreatment.INTRA_EU_GOODS) and doc.buyer.vat_id:
            notes.append(t("Customer VAT ID: {vat_id}", vat_id=doc.buyer.vat_id))
        if doc.kind is DocumentKind.QUOTE and doc.valid_until:
            notes.append(t("This quote is valid until {date}.", date=self.date(doc.valid_until)))
        if doc.kind is DocumentKind.INVOICE and totals.total_incl > 0 and totals.amount_due <= 0:
            notes.append(t("This invoice has been paid. Thank you!"))
        return tuple(notes)

    def payment(self) -> PaymentView | None:
        """How to pay what is still due: IBAN, reference, the payment link and the GiroCode."""
        doc, totals, t = self.doc, self.totals, self.t
        if doc.kind is not DocumentKind.INVOICE or totals.amount_due <= 0:
            return None
        seller, reference = doc.seller, doc.effective_payment_reference
        rows = [Row(t("Amount due"), self.money(totals.amount_due), strong=True)]
        if doc.due_date:
            rows.append(Row(t("Due date"), self.date(doc.due_date)))
        if seller.iban:
            rows.append(Row("IBAN", format_iban(seller.iban)))
            if seller.bic:
                rows.append(Row("BIC", seller.bic))
            rows.append(Row(t("Account holder"), seller.name))
        if reference:
            rows.append(Row(t("Payment reference"), reference))
        days = (doc.due_date - doc.issue_date).days if doc.due_date else 0
        text = ""
        if seller.iban and reference:
            text = (t("Please transfer the amount within {days} days, quoting the payment reference.", days=days)
                    if days > 0 else t("Please transfer the amount, quoting the payment reference."))
        elif seller.iban and days > 0:
            text = t("Please transfer the amount within {days} days.", days=days)
        link = doc.payment_link.strip()
        payload = epc_payload(doc, totals) or ""
        return PaymentView(text=text, rows=tuple(rows), link=link if _HTTP_URL.match(link) else "",
                           epc_payload=payload, qr_caption=t("Scan to pay") if payload else "")

    def footer(self) -> tuple[str, ...]:
        seller = self.doc.seller
        parts = [seller.display_name]
        if seller.kvk:
            parts.append(f"{self.t('CoC no.')} {seller.kvk}")
        if seller.vat_id:
            parts.append(f"{self.t('VAT ID')} {seller.vat_id}")
        if seller.iban:
            parts.append(f"IBAN {format_iban(seller.iban)}")
        return tuple(parts)


# --- payment: IBAN, reference, payment link and the EPC GiroCode ------------------------------------

def epc_payload(doc: DocumentData, totals: Totals) -> str | None:
    """The EPC069-12 v002 "GiroCode" payload for ``totals.amount_due``, or ``None`` when there is
    nothing to transfer (quote, credit note, nothing due, no IBAN, no reference to quote, not EUR).

    The same text ``segno.helpers.make_epc_qr`` builds: an ISO 11649 ``RF`` reference goes in the
    structured field, anything else in the free text; Latin-1 (charset 2) when it fits, else UTF-8.
    """
    reference = _one_line(doc.effective_payment_reference)
    if (doc.kind is not DocumentKind.INVOICE or totals.amount_due < _CENT or not doc.seller.iban
            or not reference or doc.currency != "EUR" or totals.amount_due > Decimal("999999999.99")):
        return None
    structured = iso11649.is_valid(reference)
    amount = f"EUR{totals.amount_due:.2f}".rstrip("0").rstrip(".")
    fields = ["BCD", "002", "", "SCT", doc.seller.bic.replace(" ", "").upper(), _one_line(doc.seller.name)[:70],
              re.sub(r"\s+", "", doc.seller.iban).upper(), amount, "",
              iso11649.compact(reference) if structured else ""]
    if not structured:
        fields.append(reference[:140])
    try:
        "\n".join(fields).encode("iso-8859-1")
        fields[2] = "2"
    except UnicodeEncodeError:
        fields[2] = "1"
    return "\n".join(fields)


def _one_line(text: str) -> str:
    """A payload field on one line: a newline in a name would shift the fields after it."""
    return " ".join(text.split())


# --- branding ---------------------------------------------------------------------------------------

def _logo_uri(doc: DocumentData) -> str:
    logo = doc.branding.logo
    if not logo or doc.branding.logo_mime not in _LOGO_MIMES:
        return ""
    return f"data:{doc.branding.logo_mime};base64,{base64.b64encode(logo).decode('ascii')}"


def _rgb(color: str) -> tuple[int, int, int]:
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)


def _mix(color: str, other: str, share_of_other: float) -> str:
    a, b = _rgb(color), _rgb(other)
    return "#" + "".join(f"{round(x + (y - x) * share_of_other):02x}" for x, y in zip(a, b))


def _luminance(color: str) -> float:
    """Relative luminance (WCAG) of ``#rrggbb``: 0 black, 1 white."""
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(v) for v in _rgb(color))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b
