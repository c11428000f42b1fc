"""Fuzz: no bytes and no MIME tree makes the parser raise anything but ReceiptRejectedError, hang,
or hand out unsafe names or unbounded document lists."""
from __future__ import annotations

from email.message import EmailMessage

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.errors import ReceiptRejectedError
from ingest.mail_parsing import MAX_DOCUMENTS, parse_mail

TYPES = ["application/pdf", "image/jpeg", "image/png", "application/xml", "text/plain", "text/html",
         "application/zip", "application/octet-stream", "message/rfc822", "text/calendar", "multipart/mixed",
         "x/\x00weird", "image/", ""]
PAYLOADS = st.one_of(st.binary(max_size=300), st.sampled_from([b"%PDF-1.4\n", b"MZ\x90", b"PK\x03\x04", b"<?xml",
                                                               b"\xff\xd8\xff" + b"\0" * 5000]))
HEADER_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60)


def check(raw: bytes) -> None:
    try:
        parsed = parse_mail(raw, envelope_from="eva@example.nl", ingest_domain="klerk.test")
    except ReceiptRejectedError:
        return
    assert len(parsed.accepted) <= MAX_DOCUMENTS
    for c in parsed.candidates:
        assert "/" not in c.filename and "\\" not in c.filename
        assert not any(ord(ch) < 32 for ch in c.filename)
        assert len(c.filename) <= 200
    assert "\n" not in parsed.facts.subject and "\r" not in parsed.facts.subject


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_arbitrary_bytes(raw: bytes) -> None:
    check(raw)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(TYPES), HEADER_TEXT, PAYLOADS,
                          st.sampled_from(["attachment", "inline", "", "x\r\ny"])), max_size=8),
       HEADER_TEXT, st.integers(min_value=0, max_value=4))
def test_mime_trees(parts: list, subject: str, depth: int) -> None:
    lines = [b"From: a@example.nl", b"Subject: " + subject.encode("utf-8", "surrogateescape").replace(b"\n", b" "),
             b"MIME-Version: 1.0", b'Content-Type: multipart/mixed; boundary="b0"', b""]
    for n, (ctype, name, payload, disposition) in enumerate(parts):
        lines += [b"--b0", b"Content-Type: " + ctype.encode("utf-8", "replace")]
        if disposition:
            lines.append(b"Content-Disposition: " + disposition.encode() + b'; filename="'
                         + name.encode("utf-8", "replace") + b'"')
        if n % 2:
            lines.append(b"Content-Transfer-Encoding: base64")
        lines += [b"", payload]
    lines.append(b"--b0--" if depth % 2 else b"")
    raw = b"\r\n".join(lines)
    for _ in range(depth):                 # wrap as forwarded messages
        raw = (b'From: b@example.nl\r\nContent-Type: multipart/mixed; boundary="w"\r\n\r\n--w\r\n'
               b"Content-Type: message/rfc822\r\n\r\n" + raw + b"\r\n--w--\r\n")
    check(raw)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(HEADER_TEXT, HEADER_TEXT), max_size=6))
def test_hostile_headers(headers: list) -> None:
    msg = EmailMessage()
    for name, value in headers:
        clean = "".join(ch for ch in name if ch.isalnum() or ch == "-")[:30] or "X-Test"
        try:
            msg[clean] = value
        except (ValueError, TypeError):
            continue
    msg.set_content("hallo")
    try:
        raw = msg.as_bytes()
    except (ValueError, TypeError, UnicodeError, IndexError):
        return
    check(raw)
