"""MIME walking, bounces, answerability and the accountant's answers: pure, no database."""
from __future__ import annotations

from email.message import EmailMessage

import pytest

from core.mail import OutgoingMail, Relay, build_message
from ingest.mail_parsing import MAX_DOCUMENTS, body_document, parse_mail, peek_headers, redact
from tests.ingest.mails import (
    SENDER,
    WEBSHOP_HTML,
    bomb_png,
    fixture_mail,
    forwarded,
    inline_pdf,
    mail,
    text_pdf,
    ubl_invoice,
    wire,
)

TO = "bon-" + "a" * 32 + "@klerk.test"
PHOTO = b"\xff\xd8\xff\xe0" + b"\x00" * 20_000


def parse(msg: EmailMessage | bytes, envelope: str = SENDER):  # type: ignore[no-untyped-def]
    return parse_mail(wire(msg), envelope_from=envelope, ingest_domain="klerk.test")


def test_an_inline_pdf_is_a_document() -> None:
    parsed = parse(inline_pdf(to=TO, pdf=text_pdf()))
    assert [(c.filename, c.mime, c.rejection) for c in parsed.candidates] == [("factuur.pdf", "application/pdf", "")]
    assert parsed.candidates[0].content == text_pdf()


def test_several_receipts_in_one_mail_and_a_forwarded_eml() -> None:
    inner = mail(to="me@example.nl", subject="Je factuur", attachments=(
        ("factuur.xml", "application/xml", ubl_invoice()), ("bon.jpg", "image/jpeg", PHOTO)))
    outer = forwarded(inner, to=TO)
    outer.add_attachment(text_pdf(), maintype="application", subtype="pdf", filename="tweede.pdf")
    parsed = parse(outer)
    assert [(c.filename, c.mime) for c in parsed.accepted] == [
        ("factuur.xml", "application/xml"), ("bon.jpg", "image/jpeg"), ("tweede.pdf", "application/pdf")]


def test_an_eml_sent_as_a_plain_file_is_opened_too() -> None:
    inner = mail(to="me@example.nl", attachments=(("f.pdf", "application/pdf", text_pdf()),))
    outer = mail(to=TO, attachments=(("doorgestuurd.eml", "application/octet-stream", wire(inner)),))
    assert [c.filename for c in parse(outer).accepted] == ["f.pdf"]


def test_a_webshop_mail_without_attachment_is_read_from_its_html() -> None:
    msg = mail(to=TO, subject="Je bestelling", text="Bedankt voor je bestelling", html=WEBSHOP_HTML)
    parsed = parse(forwarded(msg, to=TO))
    assert parsed.accepted == []
    name, mime, content = body_document(parsed)
    assert (name, mime) == ("mail.html", "text/html") and b"349,00" in content


def test_logos_pixels_signatures_and_calendars_are_not_documents() -> None:
    msg = mail(to=TO, html='<img src="cid:logo1">', attachments=(("invite.ics", "text/calendar", b"BEGIN:VCALENDAR"),
                                                                ("pixel.png", "image/png", b"\x89PNG\r\n\x1a\n" + b"\0" * 40)))
    html_part = msg.get_body(("html",))
    html_part.add_related(b"\x89PNG\r\n\x1a\n" + b"\0" * 9000, maintype="image", subtype="png", cid="<logo1>")
    assert parse(msg).candidates == ()


@pytest.mark.parametrize(("filename", "mime", "content", "reason"), [
    ("setup.exe", "application/octet-stream", b"MZ\x90\x00" + b"\0" * 100, "programs and scripts are not accepted"),
    ("factuur.pdf", "application/pdf", b"MZ\x90\x00" + b"\0" * 100, "programs and scripts are not accepted"),
    ("bonnen.zip", "application/zip", b"PK\x03\x04" + b"\0" * 100, "archives are not opened"),
    ("offerte.docx", "application/octet-stream", b"PK\x03\x04" + b"\0" * 100, "office documents are not read"),
    ("factuur.pdf", "application/pdf", b"<html>not a pdf</html>", "the file is not a valid PDF"),
    ("data.bin", "application/octet-stream", b"\x01\x02\x03" * 50, "this file type is not read (.bin)"),
])
def test_refused_attachments_say_why(filename: str, mime: str, content: bytes, reason: str) -> None:
    [candidate] = parse(mail(to=TO, attachments=((filename, mime, content),))).candidates
    assert candidate.rejection.startswith(reason)


def test_a_decompression_bomb_is_passed_on_to_the_reader_which_refuses_it() -> None:
    [candidate] = parse(mail(to=TO, attachments=(("scan.png", "image/png", bomb_png()),))).candidates
    assert (candidate.mime, candidate.rejection) == ("image/png", "")


def test_more_documents_than_the_limit_are_refused_not_dropped() -> None:
    files = tuple((f"bon{n}.pdf", "application/pdf", text_pdf() + bytes([n])) for n in range(MAX_DOCUMENTS + 3))
    parsed = parse(mail(to=TO, attachments=files))
    assert len(parsed.accepted) == MAX_DOCUMENTS
    assert [c.rejection for c in parsed.candidates[MAX_DOCUMENTS:]] == [f"too many documents in one mail (more than {MAX_DOCUMENTS})"] * 3


def test_attached_messages_nested_too_deep_are_refused() -> None:
    msg = mail(to=TO, attachments=(("f.pdf", "application/pdf", text_pdf()),))
    for _ in range(7):
        msg = forwarded(msg, to=TO)
    parsed = parse(msg)
    assert [c.rejection for c in parsed.candidates] == ["attached messages are nested too deep"]


def test_a_postfix_dsn_names_the_failed_recipient_and_the_original_message() -> None:
    parsed = parse(fixture_mail("dsn-postfix.eml"), envelope="")
    report = parsed.report
    assert report is not None and report.failed
    assert report.original_message_id == "<invoice-2026-0042.7f3a@klerk.test>"
    [recipient] = report.recipients
    assert (recipient.address, recipient.action, recipient.status) == ("administratie@bakkerijdevries.nl", "failed", "5.1.1")
    assert "User unknown" in recipient.diagnostic
    assert parsed.candidates == () and parsed.facts.reply_to == ""


def test_a_non_standard_bounce_is_recognised_too() -> None:
    report = parse(fixture_mail("bounce-qmail.eml"), envelope="").report
    assert report is not None
    assert report.original_message_id == "<invoice-2026-0043.aa01@klerk.test>"
    assert [r.address for r in report.recipients] == ["boekhouding@example.org"]
    assert report.recipients[0].status == "5.1.1"


def test_an_ordinary_mail_is_no_bounce_even_from_an_empty_return_path() -> None:
    assert parse(mail(to=TO, subject="Bonnetje"), envelope="").report is None


@pytest.mark.parametrize(("headers", "envelope", "why"), [
    ({"Auto-Submitted": "auto-replied"}, SENDER, "auto-submitted"),
    ({"Precedence": "bulk"}, SENDER, "bulk or list"),
    ({"Precedence": "junk"}, SENDER, "bulk or list"),
    ({"List-Id": "<nieuws.example.nl>"}, SENDER, "mailing list"),
    ({"X-Auto-Response-Suppress": "All"}, SENDER, "auto-response suppressed"),
    ({}, "", "empty return path"),
    ({}, "noreply@shop.example", "automatic sender"),
    ({}, "MAILER-DAEMON@mx.example.nl", "automatic sender"),
    ({}, "bon-" + "b" * 32 + "@klerk.test", "our own address"),
    ({}, "a@b@c", "no valid return address"),
])
def test_no_reply_to_bounces_lists_auto_replies_or_ourselves(headers: dict, envelope: str, why: str) -> None:
    facts = parse(mail(to=TO, headers=headers), envelope=envelope).facts
    assert (facts.reply_to, facts.no_reply_reason) == ("", why)


def test_an_ordinary_forward_gets_a_reply_to_its_return_path() -> None:
    facts = parse(mail(to=TO, sender="Eva <eva@example.nl>"), envelope="eva+bounce@example.nl").facts
    assert (facts.reply_to, facts.no_reply_reason) == ("eva+bounce@example.nl", "")


def test_a_header_injection_stays_inside_its_header() -> None:
    parsed = parse(fixture_mail("header-injection.eml"), envelope="eva@example.nl")
    assert "\r" not in parsed.facts.subject and "\n" not in parsed.facts.subject
    reply = build_message(OutgoingMail(to=(parsed.facts.reply_to,), subject="Re: " + parsed.facts.subject, text="x"),
                          Relay(host="relay", sender="klerk@klerk.test"))
    assert reply["Bcc"] is None and reply["To"] == "eva@example.nl"
    assert reply.get_content().strip() == "x"


def test_malformed_mime_is_parsed_leniently_and_names_are_made_safe() -> None:
    parsed = parse(fixture_mail("malformed-mime.eml"))
    assert [c.mime for c in parsed.candidates] == ["application/pdf"]       # the broken base64 PDF
    for candidate in parsed.candidates:
        assert "/" not in candidate.filename and "\x00" not in candidate.filename


def test_an_answer_from_the_accountant_is_recognised_by_token_and_word() -> None:
    msg = mail(to=TO, subject="Re: Bon Bakkerij [KLERK-ABCDEFGHJKLM]", text="Verwerkt, dank je!\n\n> Ref: KLERK-ABCDEFGHJKLM",
               headers={"In-Reply-To": "<klerk-share-1@klerk.test>"})
    reply = parse(msg).accountant
    assert reply.tokens == ("KLERK-ABCDEFGHJKLM",) and reply.references == ("<klerk-share-1@klerk.test>",)
    assert reply.says_processed and reply.excerpt == "Verwerkt, dank je!"


@pytest.mark.parametrize("text", ["Nog niet verwerkt, wat is dit?", "Wat is dit?\n\nOp 1 dec schreef Klerk:\n> verwerkt"])
def test_not_processed_unless_the_new_text_says_so(text: str) -> None:
    msg = mail(to=TO, subject="Re: Bon [KLERK-ABCDEFGHJKLM]", text=text)
    assert parse(msg).accountant.says_processed is False


def test_peek_and_redact() -> None:
    peek = peek_headers(wire(mail(to=TO, subject="Hoi", message_id="<m1@example.nl>")))
    assert (peek.message_id, peek.subject) == ("<m1@example.nl>", "Hoi")
    assert redact(TO) == "bon-…@klerk.test" and redact("eva@example.nl") == "e…@example.nl"
