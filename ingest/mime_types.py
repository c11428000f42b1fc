"""What an attachment really is, from its first bytes (the name and the declared type are only
hints a hostile sender controls), and whether we read it. Pure."""
from __future__ import annotations

MIN_IMAGE_BYTES = 4096           # smaller images are icons and tracking pixels, never a receipt
MAX_INLINE_DECORATION = 64 * 1024  # an inline image with a Content-ID below this is part of the HTML

_PROGRAM_EXT = {"exe", "com", "scr", "msi", "dll", "bat", "cmd", "ps1", "vbs", "vbe", "js", "jse", "wsf", "hta",
                "jar", "apk", "app", "dmg", "iso", "img", "lnk", "sh", "py", "pif", "cpl", "reg", "msix"}
_ARCHIVE_EXT = {"zip", "rar", "7z", "gz", "tgz", "bz2", "xz", "tar", "cab", "arj", "lz", "zst"}
_OFFICE_EXT = {"doc", "docx", "xls", "xlsx", "ppt", "pptx", "odt", "ods", "odp", "rtf", "pages", "numbers"}
_IGNORED_TYPES = {"application/pgp-signature", "application/pkcs7-signature", "application/x-pkcs7-signature",
                  "text/calendar", "application/ics", "text/vcard", "text/x-vcard", "application/pgp-keys",
                  "message/disposition-notification", "text/rfc822-headers", "application/pgp-encrypted"}
_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1", b"heif"}


def sniff(content: bytes) -> str:
    """The type the bytes say they are: pdf, jpeg, png, gif, tiff, webp, heic, xml, zip, archive,
    program, or "" when unknown."""
    head = content[:64]
    if content[:1024].find(b"%PDF-") != -1:
        return "pdf"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS:
        return "heic"
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "zip"
    if head.startswith((b"Rar!\x1a\x07", b"7z\xbc\xaf\x27\x1c", b"\x1f\x8b", b"BZh", b"\xfd7zXZ", b"MSCF")):
        return "archive"
    if head.startswith((b"MZ", b"\x7fELF", b"\xfe\xed\xfa", b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe", b"#!")):
        return "program"
    stripped = content[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith(b"<?xml") or (stripped.startswith(b"<") and b"Invoice" in stripped[:4096]):
        return "xml"
    if stripped[:15].lower().startswith((b"<!doctype html", b"<html")):
        return "html"
    return ""


_MIME = {"pdf": "application/pdf", "jpeg": "image/jpeg", "png": "image/png", "gif": "image/gif",
         "tiff": "image/tiff", "webp": "image/webp", "heic": "image/heic", "xml": "application/xml",
         "html": "text/html"}


def classify_attachment(filename: str, declared: str, content: bytes, *, disposition: str = "",
                        content_id: bool = False) -> tuple[str | None, str]:
    """(mime, "") for a document to read, (mime, reason) for one refused, (None, "") for a part
    that is not a document (signature, calendar, logo)."""
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    declared = (declared or "").lower()
    kind = sniff(content)
    if kind == "program" or ext in _PROGRAM_EXT or declared in ("application/x-msdownload", "application/x-dosexec"):
        return "application/octet-stream", "programs and scripts are not accepted"
    if declared in _IGNORED_TYPES and kind not in ("pdf", "xml"):
        return None, ""
    if kind == "zip" and ext in _OFFICE_EXT:
        return declared or "application/zip", "office documents are not read: send a PDF"
    if kind in ("zip", "archive") or ext in _ARCHIVE_EXT:
        return declared or "application/zip", "archives are not opened: send the documents themselves"
    if kind in ("jpeg", "png", "gif", "tiff", "webp", "heic"):
        if len(content) < MIN_IMAGE_BYTES:
            return None, ""
        if disposition != "attachment" and (kind == "gif" or (content_id and len(content) < MAX_INLINE_DECORATION)):
            return None, ""
        return _MIME[kind], ""
    if kind in ("pdf", "xml") or (kind == "html" and (declared == "text/html" or ext in ("html", "htm"))):
        return _MIME[kind], ""
    if ext in _OFFICE_EXT:
        return declared or "application/octet-stream", "office documents are not read: send a PDF"
    if declared == "application/pdf" or ext == "pdf":
        return "application/pdf", "the file is not a valid PDF"
    if declared.startswith("image/") and len(content) < MIN_IMAGE_BYTES:
        return None, ""
    shown = f".{ext}" if ext else (declared or "unknown")
    return declared or "application/octet-stream", f"this file type is not read ({shown[:40]})"
