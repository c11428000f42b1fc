"""The JSON document spec of ``klerk document render|check`` (schema: docs/document-spec.schema.json).

``parse_spec(data)`` turns the decoded JSON into a ``DocumentData`` or raises ``SpecError`` listing
every problem with the field it belongs to (``lines[2].unit_price``). Numbers are strings
("75.00", "12,5"); a JSON float is refused because it cannot carry cents exactly.
"""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

import pydantic
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from core.document import Branding, DocumentData, DocumentKind, Line, Party, Reference, VatTreatment
from core.errors import ValidationError
from core.money import parse_decimal

MAX_TEXT = 2000
MAX_LINES = 500
MAX_LOGO_BYTES = 2 * 1024 * 1024


def _number(value: Any) -> Decimal:
    if isinstance(value, float):
        raise ValueError("write numbers as strings, e.g. \"12.50\" (a JSON float cannot hold cents exactly)")
    if not isinstance(value, (str, int, Decimal)) or isinstance(value, bool):
        raise ValueError("expected a number written as a string")
    try:
        return parse_decimal(value, field="")
    except ValidationError as exc:
        raise ValueError(exc.message.format(**exc.params)) from None


Number = Annotated[Decimal, BeforeValidator(_number), WithJsonSchema({
    "type": ["string", "integer"], "pattern": r"^[-+]?[0-9][0-9 .,]*$",
    "description": "A number as a string: \"75\", \"12.50\", \"12,50\", \"1.234,56\" (floats are refused)",
})]
Text = Annotated[str, Field(max_length=MAX_TEXT)]
Short = Annotated[str, Field(max_length=200)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class SellerSpec(_Strict):
    name: Short = Field(min_length=1)
    trade_name: Short = ""
    street: Short = ""
    postcode: Short = ""
    city: Short = ""
    country: Annotated[str, Field(pattern=r"^[A-Z]{2}$")] = "NL"
    kvk: Short = ""
    vat_id: Short = ""
    iban: Short = ""
    bic: Short = ""
    email: Short = ""
    phone: Short = ""
    website: Short = ""
    kor: bool = False


class BuyerSpec(_Strict):
    name: Short = Field(min_length=1)
    street: Short = ""
    postcode: Short = ""
    city: Short = ""
    country: Annotated[str, Field(pattern=r"^[A-Z]{2}$")] = "NL"
    vat_id: Short = ""
    kvk: Short = ""
    email: Short = ""
    is_business: bool = True


class LineSpec(_Strict):
    description: Text = Field(min_length=1)
    quantity: Number
    unit: Short = ""
    unit_price: Number
    vat_rate: Number = Decimal(21)
    discount_percent: Number = Decimal(0)


class ReferenceSpec(_Strict):
    number: Short = Field(min_length=1)
    issue_date: date


class BrandingSpec(_Strict):
    color: Annotated[str, Field(pattern=r"^#[0-9a-fA-F]{6}$")] = "#1f4e79"
    logo: Short = ""           # path of a PNG/JPEG/SVG, relative to the spec file


class DocumentSpec(_Strict):
    type: Literal["invoice", "quote", "credit_note"]
    number: Short = ""
    issue_date: date
    delivery_date: date | None = None
    due_days: Annotated[int, Field(ge=0, le=365)] | None = None
    currency: Literal["EUR"] = "EUR"
    language: Literal["nl", "en"] = "nl"
    seller: SellerSpec
    buyer: BuyerSpec
    vat_treatment: VatTreatment = VatTreatment.STANDARD
    lines: Annotated[list[LineSpec], Field(min_length=1, max_length=MAX_LINES)]
    discount_percent: Number = Decimal(0)
    intro: Text = ""
    outro: Text = ""
    original_invoice: ReferenceSpec | None = None
    quote_reference: Short = ""
    buyer_reference: Short = ""
    payment_reference: Short = ""
    amount_paid: Number = Decimal(0)
    payment_link: Short = ""
    branding: BrandingSpec | None = None


class SpecError(ValidationError):
    """Every problem of a spec: ``problems`` is a list of (field, message)."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        field, message = problems[0]
        super().__init__(field, "{detail}", detail=message)


def _loc(parts: tuple[Any, ...]) -> str:
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif not str(part).startswith("function-") and part not in ("date", "str", "int", "Decimal"):
            out += ("." if out else "") + str(part)
    return out or "(document)"


DEFAULT_DUE_DAYS = 30


def spec_json_schema() -> dict[str, Any]:
    """The JSON Schema published as docs/document-spec.schema.json."""
    schema = DocumentSpec.model_json_schema()
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": "Klerk document spec", **schema}


def parse_spec(data: Any, *, base_dir: Path | None = None) -> DocumentData:
    try:
        spec = DocumentSpec.model_validate(data)
    except pydantic.ValidationError as exc:
        problems = []
        for err in exc.errors(include_url=False):
            message = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                message = "unknown field"
            problems.append((_loc(err["loc"]), message))
        raise SpecError(problems) from None
    return _to_document(spec, base_dir)


def _to_document(spec: DocumentSpec, base_dir: Path | None) -> DocumentData:
    kind = DocumentKind(spec.type)
    days = DEFAULT_DUE_DAYS if spec.due_days is None else spec.due_days
    due = spec.issue_date + timedelta(days=days)
    seller = Party(**spec.seller.model_dump(), is_business=True)
    buyer = Party(**spec.buyer.model_dump())
    lines = tuple(Line(**line.model_dump()) for line in spec.lines)
    original = (Reference(spec.original_invoice.number, spec.original_invoice.issue_date)
                if spec.original_invoice else None)
    return DocumentData(
        kind=kind, number=spec.number or None, issue_date=spec.issue_date,
        delivery_date=spec.delivery_date,
        due_date=None if kind is DocumentKind.QUOTE else due,
        valid_until=due if kind is DocumentKind.QUOTE else None,
        currency=spec.currency, language=spec.language, seller=seller, buyer=buyer,
        vat_treatment=spec.vat_treatment, lines=lines, discount_percent=spec.discount_percent,
        intro=spec.intro, outro=spec.outro, original_invoice=original,
        quote_reference=spec.quote_reference, buyer_reference=spec.buyer_reference,
        payment_reference=spec.payment_reference, amount_paid=spec.amount_paid,
        payment_link=spec.payment_link, branding=_branding(spec.branding, base_dir),
    )


_LOGO_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".svg": "image/svg+xml"}


def _branding(spec: BrandingSpec | None, base_dir: Path | None) -> Branding:
    if spec is None:
        return Branding()
    if not spec.logo:
        return Branding(color=spec.color.lower())
    path = (base_dir or Path.cwd()) / spec.logo
    mime = _LOGO_TYPES.get(path.suffix.lower())
    if mime is None:
        raise SpecError([("branding.logo", "the logo must be a .png, .jpg or .svg file")])
    try:
        if path.stat().st_size > MAX_LOGO_BYTES:
            raise SpecError([("branding.logo", "the logo is larger than 2 MB")])
        data = path.read_bytes()
    except OSError as exc:
        raise SpecError([("branding.logo", f"cannot read the logo: {exc.strerror}")]) from None
    return Branding(color=spec.color.lower(), logo=data, logo_mime=mime)
