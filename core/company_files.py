"""The files a company gives Klerk: its logo and its terms and conditions (PDF).

Uploads arrive from a chat or a mail with a file name and a declared type that may lie: the bytes
decide. A logo must be a PNG, JPEG or SVG that opens; terms must be a readable, unencrypted PDF.
"""
from __future__ import annotations

import io

import pypdf
from PIL import Image, UnidentifiedImageError
from pypdf.errors import PdfReadError
from sqlmodel import Session

from core.companies import get_company, require_role, set_logo
from core.errors import ValidationError
from core.models import Company, Role

MAX_LOGO_BYTES = 2 * 1024 * 1024
MAX_TERMS_BYTES = 5 * 1024 * 1024
MAX_LOGO_PIXELS = 6000 * 6000
EDITORS = (Role.OWNER, Role.STAFF)


def logo_type(data: bytes) -> str:
    """The image type of ``data`` judged by its bytes: image/png, image/jpeg or image/svg+xml.

    Raises ``ValidationError`` (field ``logo``) for anything else, with a PDF named as such."""
    head = data[:512].lstrip()
    if data.startswith(b"%PDF-"):
        raise ValidationError("logo", "That is a PDF, not an image. "
                                      "Send your logo as a photo or as a PNG or JPEG file.")
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        mime = "image/png"
    elif data.startswith(b"\xff\xd8\xff"):
        mime = "image/jpeg"
    elif head.startswith(b"<svg") or (head.startswith(b"<?xml") and b"<svg" in data[:4096]):
        return "image/svg+xml"
    else:
        raise ValidationError("logo", "That is not an image I can use. "
                                      "Send your logo as a photo or as a PNG, JPEG or SVG file.")
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.width * image.height > MAX_LOGO_PIXELS:
                raise ValidationError("logo", "The logo is too large (at most {limit} pixels wide and high).",
                                      limit=6000)
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError):
        raise ValidationError("logo", "That image is damaged or incomplete. Please send it again.") from None
    return mime


def store_logo(session: Session, company_id: int, person_id: int, data: bytes) -> Company:
    """Check and store the company's logo (owner or staff)."""
    require_role(session, company_id, person_id, *EDITORS)
    if len(data) > MAX_LOGO_BYTES:
        raise ValidationError("logo", "The logo is larger than 2 MB")
    company = get_company(session, company_id)
    set_logo(session, company, bytes(data), logo_type(data))
    session.flush()
    return company


def remove_logo(session: Session, company_id: int, person_id: int) -> None:
    require_role(session, company_id, person_id, *EDITORS)
    company = get_company(session, company_id)
    company.logo, company.logo_mime = None, ""
    session.add(company)


def check_terms_pdf(data: bytes) -> int:
    """The number of pages of a terms-and-conditions PDF; ``ValidationError`` if it is not usable."""
    if not data.startswith(b"%PDF-"):
        raise ValidationError("terms_pdf", "That is not a PDF. Send your terms and conditions as a PDF document.")
    if len(data) > MAX_TERMS_BYTES:
        raise ValidationError("terms_pdf", "The PDF is larger than {limit} MB.", limit=MAX_TERMS_BYTES // (1024 * 1024))
    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise ValidationError("terms_pdf", "The terms and conditions PDF is encrypted.")
        pages = len(reader.pages)
    except (PdfReadError, ValueError, KeyError, TypeError):
        raise ValidationError("terms_pdf", "The terms and conditions file is not a readable PDF.") from None
    if pages == 0:
        raise ValidationError("terms_pdf", "The terms and conditions file is not a readable PDF.")
    return pages


def store_terms_pdf(session: Session, company_id: int, person_id: int, data: bytes, filename: str) -> int:
    """Store the terms and conditions, appended to every invoice and quote PDF. Returns the pages."""
    require_role(session, company_id, person_id, *EDITORS)
    pages = check_terms_pdf(data)
    company = get_company(session, company_id)
    name = (filename or "").strip().replace("/", "_").replace("\\", "_")[-200:] or "voorwaarden.pdf"
    company.terms_pdf, company.terms_filename = bytes(data), name
    session.add(company)
    session.flush()
    return pages


def remove_terms_pdf(session: Session, company_id: int, person_id: int) -> None:
    require_role(session, company_id, person_id, *EDITORS)
    company = get_company(session, company_id)
    company.terms_pdf, company.terms_filename = None, ""
    session.add(company)
