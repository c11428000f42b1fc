"""Mail in through the real SMTP ingest, out through the worker with the real readers: documents,
notifications, replies, duplicates, bounces and hostile input."""
from __future__ import annotations

import dataclasses
import smtplib
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlmodel import select

from core import storage
from core.contacts import create_contact
from core.document import DocumentKind
from core.documents import create_draft
from core.extraction import Extraction
from core.inbox.messages import accept_mail
from core.inbox.models import InboundMessage, InboxDocument
from core.invoices import finalise_document
from core.mail import bounce_address
from core.models import Document, Job
from core.sending import send_by_mail
from ingest.smtp_server import IngestHandler, make_controller
from tests.conftest import BUYER, NOW, TODAY
from tests.ingest.conftest import DOMAIN, MAX_BYTES, free_port, notifications, send
from tests.ingest.mails import (
    WEBSHOP_HTML,
    bomb_png,
    encrypted_pdf,
    fixture_mail,
    forwarded,
    inline_pdf,
    mail,
    many_pages_pdf,
    receipt_scan_pdf,
    text_pdf,
    ubl_invoice,
)


def documents(engine) -> list[InboxDocument]:  # type: ignore[no-untyped-def]
    with storage.session_scope(engine) as s:
        return list(s.exec(select(InboxDocument).order_by(InboxDocument.id)))


def arrivals(engine) -> list[InboundMessage]:  # type: ignore[no-untyped-def]
    with storage.session_scope(engine) as s:
        return list(s.exec(select(InboundMessage).order_by(InboundMessage.id)))


def open_jobs(engine) -> list[Job]:  # type: ignore[no-untyped-def]
    with storage.session_scope(engine) as s:
        return list(s.exec(select(Job).where(Job.status != "done")))


def test_an_e_invoice_is_read_exactly_announced_and_answered(engine, inbox, smtp_ingest, make_worker,  # type: ignore[no-untyped-def]
                                                            relay_server) -> None:
    relay, captured = relay_server
    send(smtp_ingest, mail(to=inbox.address, subject="Factuur november",
                           attachments=(("factuur.xml", "application/xml", ubl_invoice()),)),
         to=inbox.address, sender="eva@example.nl")
    assert make_worker(relay).run_until_idle() == 2                       # the message, then the reply
    [doc] = documents(engine)
    assert (doc.status, doc.source, doc.invoice_number) == ("received", "ubl", "2026-0042")
    assert doc.vendor.startswith("Studio Vos")                            # the seller of the UBL
    assert (doc.total, doc.net, doc.doc_date.isoformat()) == (Decimal("1193.62"), Decimal("989.95"), "2026-11-30")
    assert inbox.store.read(doc.path) == ubl_invoice()
    [note] = notifications(engine, "receipt_received")
    assert note.person_id is None and note.company_id == inbox.company_id
    assert note.payload | {} == note.payload and note.payload["receipt_id"] == doc.id
    assert (note.payload["vendor"], note.payload["total"], note.payload["date"]) == (doc.vendor, "1193.62", "2026-11-30")
    assert note.payload["vat"] == [{"rate": "21", "amount": "200.50", "base": "954.75"},
                                   {"rate": "9", "amount": "3.17", "base": "35.20"}]
    assert note.payload["low_confidence"] == [] and note.payload["duplicate_of"] is None
    [(_, rcpts, reply)] = captured.messages
    assert rcpts == ["eva@example.nl"] and reply["Subject"] == "Re: Factuur november"
    assert reply["Auto-Submitted"] == "auto-replied" and reply["In-Reply-To"]
    body = reply.get_content()
    assert doc.vendor in body and "1.193,62" in body
    assert [a.status for a in arrivals(engine)] == ["processed"] and open_jobs(engine) == []


def test_inline_pdf_forwarded_eml_and_several_receipts(engine, inbox, smtp_ingest, make_worker) -> None:  # type: ignore[no-untyped-def]
    send(smtp_ingest, inline_pdf(to=inbox.address, pdf=text_pdf()), to=inbox.address)
    inner = mail(to="eva@example.nl", subject="Uw factuur", attachments=(
        ("factuur.xml", "application/xml", ubl_invoice("2026-0100")),
        ("bon.pdf", "application/pdf", text_pdf(("Garage Jansen", "Datum 03-11-2026", "Totaal EUR 80,00")))))
    send(smtp_ingest, forwarded(inner, to=inbox.address), to=inbox.address)
    make_worker().run_until_idle()
    docs = documents(engine)
    assert [(d.filename, d.source, d.total) for d in docs] == [
        ("factuur.pdf", "pdf_text", Decimal("12.50")),
        ("factuur.xml", "ubl", Decimal("1193.62")),
        ("bon.pdf", "pdf_text", Decimal("80.00"))]
    assert [d.position for d in docs] == [0, 0, 1]
    assert len(notifications(engine, "receipt_received")) == 3


@pytest.mark.ocr
@pytest.mark.slow
def test_a_receipt_image_inside_a_pdf_is_read_by_ocr(engine, inbox, smtp_ingest, make_worker) -> None:  # type: ignore[no-untyped-def]
    send(smtp_ingest, mail(to=inbox.address, attachments=(("scan.pdf", "application/pdf", receipt_scan_pdf()),)),
         to=inbox.address)
    make_worker().run_until_idle()
    [doc] = documents(engine)
    assert (doc.status, doc.source, doc.total, doc.doc_date.isoformat()) == ("received", "ocr", Decimal("12.50"),
                                                                            "2026-11-12")


def test_a_webshop_mail_without_attachment_is_read_from_its_body(engine, inbox, smtp_ingest, make_worker) -> None:  # type: ignore[no-untyped-def]
    send(smtp_ingest, mail(to=inbox.address, subject="Je bestelling", text="Bedankt!", html=WEBSHOP_HTML), to=inbox.address)
    make_worker().run_until_idle()
    [doc] = documents(engine)
    assert (doc.filename, doc.mime, doc.source, doc.total) == ("mail.html", "text/html", "html", Decimal("349.00"))


def test_a_mail_with_nothing_usable_is_processed_and_explained(engine, inbox, smtp_ingest, make_worker,  # type: ignore[no-untyped-def]
                                                              relay_server) -> None:
    relay, captured = relay_server
    send(smtp_ingest, mail(to=inbox.address, subject="Hoi", text="Tot morgen!"), to=inbox.address, sender="eva@example.nl")
    make_worker(relay).run_until_idle()
    assert documents(engine) == []
    [msg] = arrivals(engine)
    assert (msg.status, msg.reason, msg.reply_status) == ("processed", "no attachment or receipt data found", "sent")
    [note] = notifications(engine, "receipt_rejected")
    assert note.payload["reason"] == "no attachment or receipt data found"
    assert "geen bijlage" in captured.messages[0][2].get_content()     # the company speaks Dutch


def test_hostile_attachments_are_refused_with_their_reason(engine, inbox, smtp_ingest, make_worker,  # type: ignore[no-untyped-def]
                                                          relay_server) -> None:
    relay, captured = relay_server
    hostile = (("setup.exe", "application/octet-stream", b"MZ\x90\x00" + b"\0" * 2000),
               ("bonnen.zip", "application/zip", b"PK\x03\x04" + b"\0" * 2000),
               ("beveiligd.pdf", "application/pdf", encrypted_pdf()),
               ("dik.pdf", "application/pdf", many_pages_pdf()),
               ("bom.png", "image/png", bomb_png()))
    send(smtp_ingest, mail(to=inbox.address, attachments=hostile), to=inbox.address, sender="eva@example.nl")
    make_worker(relay).run_until_idle()
    docs = documents(engine)
    assert [d.status for d in docs] == ["rejected"] * 5
    reasons = [d.reason for d in docs]
    assert reasons[:2] == ["programs and scripts are not accepted",
                           "archives are not opened: send the documents themselves"]
    assert "encrypted" in reasons[2] and "20000 pages" in reasons[3] and "decompression bomb" in reasons[4]
    assert len(notifications(engine, "receipt_rejected")) == 5
    body = captured.messages[0][2].get_content()
    assert "setup.exe" in body and "Niet gebruikt" in body


def test_the_same_bill_twice_is_recognised_by_file_and_by_fields(engine, inbox, smtp_ingest, make_worker) -> None:  # type: ignore[no-untyped-def]
    first = ubl_invoice("2026-0077")
    rescan = first.replace(b"?>", b"?>\n<!-- opnieuw gescand -->", 1)          # other bytes, same invoice
    for content in (first, first, rescan):
        send(smtp_ingest, mail(to=inbox.address, attachments=(("f.xml", "application/xml", content),)), to=inbox.address)
    make_worker().run_until_idle()
    docs = documents(engine)
    assert [(d.duplicate_of, d.duplicate_reason) for d in docs] == [
        (None, ""), (docs[0].id, "same_file"), (docs[0].id, "same_fields")]
    payloads = [n.payload for n in notifications(engine, "receipt_received")]
    assert [p["duplicate_of"] for p in payloads] == [None, docs[0].id, docs[0].id]


def test_a_retransmitted_mail_is_processed_once(engine, inbox, smtp_ingest, make_worker) -> None:  # type: ignore[no-untyped-def]
    msg = mail(to=inbox.address, message_id="<same@example.nl>", attachments=(("f.pdf", "application/pdf", text_pdf()),))
    send(smtp_ingest, msg, to=inbox.address)
    send(smtp_ingest, msg, to=inbox.address)          # the sender missed our 250 and tried again
    make_worker().run_until_idle()
    assert [a.status for a in arrivals(engine)] == ["processed", "duplicate"]
    assert len(documents(engine)) == 1


def test_a_bounce_of_an_invoice_becomes_invoice_bounced_and_no_receipt(engine, inbox, smtp_ingest, make_worker,  # type: ignore[no-untyped-def]
                                                                      relay_server) -> None:
    relay, captured = relay_server
    send(smtp_ingest, fixture_mail("dsn-postfix.eml"), to=inbox.address, sender="")
    make_worker(relay).run_until_idle()
    assert documents(engine) == [] and captured.messages == []
    [msg] = arrivals(engine)
    assert (msg.kind, msg.status, msg.reply_status) == ("bounce", "processed", "skipped:bounce")
    [note] = notifications(engine, "invoice_bounced")
    assert note.payload["message_id"] == "<invoice-2026-0042.7f3a@klerk.test>"
    assert note.payload["recipient"] == "administratie@bakkerijdevries.nl"
    assert note.payload["status"] == "5.1.1" and "User unknown" in note.payload["reason"]
    assert (note.payload["document_id"], note.payload["number"]) == (None, None)     # not a mail we know
    assert notifications(engine, "receipt_received") == []


def test_a_bounce_of_an_invoice_we_sent_marks_it_bounced(engine, inbox, smtp_ingest, make_worker) -> None:  # type: ignore[no-untyped-def]
    with storage.session_scope(engine) as s:             # an invoice mailed by core.sending, Message-ID kept
        contact = create_contact(s, inbox.company_id, "Bakkerij de Vries B.V.", **BUYER)
        draft = create_draft(s, inbox.company_id, DocumentKind.INVOICE, contact.id, today=TODAY,
                             lines=[{"description": "Advies", "quantity": "1", "unit_price": "100", "vat_rate": "21"}])
        invoice = finalise_document(s, inbox.company_id, draft.id, today=TODAY, now=NOW)
        invoice.mail_message_id, invoice.delivery = "<invoice-2026-0042.7f3a@klerk.test>", "mailed"
    send(smtp_ingest, fixture_mail("dsn-postfix.eml"), to=inbox.address, sender="")
    make_worker().run_until_idle()
    [note] = notifications(engine, "invoice_bounced")
    assert (note.payload["document_id"], note.payload["number"]) == (invoice.id, invoice.number)
    with storage.session_scope(engine) as s:
        doc = s.get(Document, invoice.id)
        assert doc.delivery == "bounced" and "User unknown" in doc.delivery_error


def test_no_reply_to_auto_replies_and_a_brake_on_loops(engine, inbox, smtp_ingest, make_worker, relay_server) -> None:  # type: ignore[no-untyped-def]
    relay, captured = relay_server
    send(smtp_ingest, mail(to=inbox.address, headers={"Auto-Submitted": "auto-replied"}), to=inbox.address,
         sender="robot@example.nl")
    for _ in range(7):                                    # a loop the headers did not reveal
        send(smtp_ingest, mail(to=inbox.address), to=inbox.address, sender="loop@example.nl")
    make_worker(relay).run_until_idle()
    statuses = [a.reply_status for a in arrivals(engine)]
    assert statuses == ["skipped:auto-submitted"] + ["sent"] * 5 + ["skipped:rate limit"] * 2
    assert len(captured.messages) == 5


def test_a_header_injection_reaches_nobody_else(engine, inbox, smtp_ingest, make_worker, relay_server) -> None:  # type: ignore[no-untyped-def]
    relay, captured = relay_server
    send(smtp_ingest, fixture_mail("header-injection.eml"), to=inbox.address, sender="eva@example.nl")
    make_worker(relay).run_until_idle()
    [(_, rcpts, reply)] = captured.messages
    assert rcpts == ["eva@example.nl"] and reply["Bcc"] is None
    assert "victim" not in reply["To"]


def test_relay_trouble_is_retried_and_a_refusal_recorded(engine, inbox, smtp_ingest, make_worker, relay_server) -> None:  # type: ignore[no-untyped-def]
    relay, captured = relay_server
    send(smtp_ingest, mail(to=inbox.address), to=inbox.address, sender="eva@example.nl")
    captured.refuse_with = "451 4.3.0 try later"
    make_worker(relay).run_until_idle()
    [job] = open_jobs(engine)
    assert (job.kind, job.status, job.attempts) == ("receipt_reply", "queued", 1) and job.run_after > NOW
    captured.refuse_with = "550 5.7.1 no thanks"
    later = make_worker(relay, clock=lambda: NOW + timedelta(minutes=5))
    later.run_until_idle()
    assert [a.reply_status for a in arrivals(engine)] == ["failed:550"] and open_jobs(engine) == []


class BrokenReader:
    """A reader with a bug: the worker must lose that document, not the mail or the loop."""

    def read_attachment(self, filename: str, content: bytes, mime: str) -> Extraction:
        if filename == "kapot.pdf":
            raise RuntimeError("bug in the reader")
        return Extraction(source="pdf_text", total=Decimal("5.00"))

    def read_html_body(self, html: str) -> Extraction:
        return Extraction(source="html")


def test_a_reader_bug_costs_one_document_not_the_mail(engine, inbox, smtp_ingest, make_worker) -> None:  # type: ignore[no-untyped-def]
    send(smtp_ingest, mail(to=inbox.address, attachments=(("kapot.pdf", "application/pdf", text_pdf()),
                                                          ("heel.pdf", "application/pdf", text_pdf() + b" "))),
         to=inbox.address)
    make_worker(reader=BrokenReader()).run_until_idle()
    assert [(d.filename, d.status, d.reason) for d in documents(engine)] == [
        ("kapot.pdf", "rejected", "could not be read"), ("heel.pdf", "received", "")]


def test_junk_that_is_no_mail_is_quarantined(engine, inbox, make_worker) -> None:  # type: ignore[no-untyped-def]
    with storage.session_scope(engine) as s:             # e.g. an IMAP server handing out garbage
        accept_mail(s, inbox.store, b"\x00\x00 no header", company_ids=[inbox.company_id], source="imap",
                    envelope_from="", message_id="", subject="", now=NOW)
    make_worker().run_until_idle()
    [msg] = arrivals(engine)
    assert (msg.status, msg.reason) == ("quarantined", "this is not an e-mail message (no header)")
    assert notifications(engine, "receipt_rejected")[0].payload["reason"] == msg.reason


def test_a_job_that_keeps_killing_the_worker_is_given_up(engine, inbox, smtp_ingest, make_worker) -> None:  # type: ignore[no-untyped-def]
    send(smtp_ingest, mail(to=inbox.address, attachments=(("f.pdf", "application/pdf", text_pdf()),)), to=inbox.address)
    with storage.session_scope(engine) as s:             # five workers took it and died (kill -9, OOM)
        job = s.exec(select(Job)).one()
        job.status, job.attempts, job.locked_until = "running", job.max_attempts, NOW - timedelta(minutes=1)
    make_worker().run_until_idle()
    [msg] = arrivals(engine)
    assert (msg.status, msg.reason) == ("failed", "processing failed") and "too often" in msg.error
    assert notifications(engine, "receipt_rejected")[0].payload["reason"] == "processing failed"
    assert [j.status for j in open_jobs(engine)] == ["failed"]


def test_with_bounces_to_the_ingest_an_invoice_that_bounces_comes_back_to_its_company(  # type: ignore[no-untyped-def]
        engine, store, inbox, relay_server, make_worker) -> None:
    """KLERK_BOUNCES_TO_INGEST: the invoice leaves with the company's signed bounce address as
    envelope sender; the delivery report to that address reaches the right company through the
    real SMTP ingest; made-up bounce addresses are refused; other mail there is no receipt."""
    key = b"the installation's bounce key, 32"
    relay, captured = relay_server
    relay = dataclasses.replace(relay, bounce_domain=DOMAIN, bounce_key=key)
    with storage.session_scope(engine) as s:
        contact = create_contact(s, inbox.company_id, "Bakkerij de Vries B.V.", **BUYER)
        draft = create_draft(s, inbox.company_id, DocumentKind.INVOICE, contact.id, today=TODAY,
                             lines=[{"description": "Advies", "quantity": "1", "unit_price": "100", "vat_rate": "21"}])
        sent = send_by_mail(s, inbox.company_id, draft.id, relay=relay, today=TODAY, now=NOW)
    [(envelope_from, _, message)] = captured.messages
    bounce_to = bounce_address(inbox.company_id, key, DOMAIN)
    assert envelope_from == bounce_to and bounce_to.startswith(f"bounce-{inbox.company_id}-")
    assert message["From"].addresses[0].addr_spec == "klerk@klerk.test"            # the From stays

    port = free_port()
    controller = make_controller(IngestHandler(engine, store, domain=DOMAIN, clock=lambda: NOW, bounce_key=key),
                                 host="127.0.0.1", port=port, max_message_bytes=MAX_BYTES)
    controller.start()
    try:
        server = ("127.0.0.1", port)
        report = fixture_mail("dsn-postfix.eml").replace(b"<invoice-2026-0042.7f3a@klerk.test>",
                                                         sent.message_id.encode())
        forged = [bounce_to.replace(bounce_to.split("-")[2][:4], "0000"),              # a made-up signature
                  bounce_address(inbox.company_id + 1, key, DOMAIN),                  # no such company
                  bounce_address(inbox.company_id, b"another key", DOMAIN)]
        for address in forged:
            with pytest.raises(smtplib.SMTPRecipientsRefused):
                send(server, report, to=address, sender="")
        send(server, report, to=bounce_to, sender="")
        send(server, mail(to=bounce_to, subject="Afwezig: terug op maandag"), to=bounce_to, sender="")
    finally:
        controller.stop()
    make_worker().run_until_idle()
    [note] = notifications(engine, "invoice_bounced")
    assert (note.payload["document_id"], note.payload["recipient"]) == (draft.id, "administratie@bakkerijdevries.nl")
    with storage.session_scope(engine) as s:
        assert s.get(Document, draft.id).delivery == "bounced"
    bounce, away = arrivals(engine)
    assert (bounce.source, bounce.kind, bounce.status) == ("bounce", "bounce", "processed")
    assert (away.source, away.status, away.reason) == ("bounce", "quarantined",
                                                       "sent to a bounce address and not a delivery report")
    assert documents(engine) == [] and notifications(engine, "receipt_rejected") == []
