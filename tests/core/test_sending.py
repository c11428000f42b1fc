"""core.sending against a real SMTP server on loopback and the real database (SQLite and PostgreSQL):
the number is final only when the relay accepted the mail."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlmodel import select

from core import storage
from core.companies import create_company
from core.company_settings import CompanySetting, set_setting
from core.contacts import create_contact
from core.document import DocumentKind
from core.documents import create_draft, get_document
from core.errors import ConflictError, NotFoundError
from core.invoices import NotReadyError, create_credit_note, finalise_document
from core.mail import MailDeliveryError, Relay
from core.models import Company, Document, NumberCounter
from core.sending import mark_bounced, resend_by_mail, send_by_mail, send_to_chat
from tests.conftest import BUYER, NOW, SELLER, TODAY
from tests.mail_sink import SENDER, MailSink, RefusingSink, smtp_server

LINES = [{"description": "Advies", "quantity": "8", "unit": "uur", "unit_price": "75", "vat_rate": "21"}]
TERMS = b"%PDF-1.4 terms and conditions (not rendered, only attached)"


def _setup(engine, *, kind: str = "invoice", **contact_fields):  # type: ignore[no-untyped-def]
    with storage.session_scope(engine) as s:
        company = create_company(s, "Studio Vos", **SELLER)
        contact = create_contact(s, company.id, "Bakkerij de Vries B.V.", **{**BUYER, **contact_fields})
        doc = create_draft(s, company.id, DocumentKind(kind), contact.id, today=TODAY, lines=LINES)
        return company.id, contact.id, doc.id


def _send(engine, company_id: int, doc_id: int, relay: Relay):  # type: ignore[no-untyped-def]
    with storage.session_scope(engine) as s:
        return send_by_mail(s, company_id, doc_id, relay=relay, today=TODAY, now=NOW)


def _doc(engine, company_id: int, doc_id: int) -> Document:  # type: ignore[no-untyped-def]
    with storage.session_scope(engine) as s:
        return get_document(s, company_id, doc_id)


def test_send_by_mail_numbers_renders_and_records_the_message_id(engine) -> None:  # type: ignore[no-untyped-def]
    company_id, _, doc_id = _setup(engine)
    sink = MailSink()
    with smtp_server(sink) as relay:
        sent = _send(engine, company_id, doc_id, relay)
    assert (sent.number, sent.attachments, sent.total_incl) == ("2026-0001", ("2026-0001.pdf",), Decimal("726.00"))
    [msg] = sink.messages
    assert msg["To"] == "administratie@bakkerijdevries.nl"
    assert msg["From"] == f"Studio Vos Ontwerp <{SENDER}>" and msg["Reply-To"] == "facturen@studiovos.nl"
    assert msg["Subject"] == "Factuur 2026-0001 van Studio Vos Ontwerp"
    body = msg.get_body(("plain",)).get_content().replace("\xa0", " ")
    assert "€ 726,00" in body and "30 december 2026" in body and "NL91 ABNA 0417 1643 00" in body
    assert sink.attachments()["2026-0001.pdf"].startswith(b"%PDF-")
    doc = _doc(engine, company_id, doc_id)
    assert (doc.status, doc.number, doc.delivery) == ("sent", "2026-0001", "mailed")
    assert doc.mail_message_id == msg["Message-ID"] and doc.mail_message_id.endswith("@klerk.test>")
    assert doc.seller_snapshot["kvk"] == "12345678"


def test_ubl_and_terms_are_attached_when_asked(engine) -> None:  # type: ignore[no-untyped-def]
    company_id, _, doc_id = _setup(engine, send_format="both", extra_emails="boekhouding@bakkerijdevries.nl")
    with storage.session_scope(engine) as s:
        company = s.get(Company, company_id)
        company.terms_pdf, company.terms_filename = TERMS, "voorwaarden.pdf"
        s.add(company)
    sink = MailSink()
    with smtp_server(sink) as relay:
        sent = _send(engine, company_id, doc_id, relay)
    files = sink.attachments()
    assert sorted(files) == ["2026-0001.pdf", "2026-0001.xml", "voorwaarden.pdf"]
    assert b"<cbc:ID>2026-0001</cbc:ID>" in files["2026-0001.xml"] and files["voorwaarden.pdf"] == TERMS
    assert sink.envelopes[0][1] == ["administratie@bakkerijdevries.nl", "boekhouding@bakkerijdevries.nl"]
    assert sent.recipients == ("administratie@bakkerijdevries.nl", "boekhouding@bakkerijdevries.nl")


def test_ubl_only_contact_still_gets_the_pdf_and_a_quote_never_gets_ubl(engine) -> None:  # type: ignore[no-untyped-def]
    company_id, _, quote_id = _setup(engine, kind="quote", send_format="ubl")
    sink = MailSink()
    with smtp_server(sink) as relay:
        sent = _send(engine, company_id, quote_id, relay)
    assert sent.attachments == ("OFF-2026-001.pdf",)
    assert sink.messages[0]["Subject"] == "Offerte OFF-2026-001 van Studio Vos Ontwerp"


def test_a_refused_recipient_rolls_everything_back(engine) -> None:  # type: ignore[no-untyped-def]
    company_id, _, doc_id = _setup(engine)
    sink = RefusingSink("administratie@bakkerijdevries.nl")
    with smtp_server(sink) as relay, pytest.raises(MailDeliveryError) as err:
        _send(engine, company_id, doc_id, relay)
    assert err.value.code == 550 and err.value.permanent and sink.messages == []
    doc = _doc(engine, company_id, doc_id)
    assert (doc.status, doc.number, doc.mail_message_id, doc.delivery, doc.seller_snapshot) == ("draft", None, "", "", None)
    with storage.session_scope(engine) as s:
        assert s.exec(select(NumberCounter)).all() == []
    sink = MailSink()                                       # the next attempt gets the first number
    with smtp_server(sink) as relay:
        assert _send(engine, company_id, doc_id, relay).number == "2026-0001"


def test_an_unreachable_or_unconfigured_relay_leaves_the_draft(engine) -> None:  # type: ignore[no-untyped-def]
    company_id, _, doc_id = _setup(engine)
    with smtp_server(MailSink()) as relay:
        port = relay.port
    with pytest.raises(MailDeliveryError) as err:           # nobody listens there any more
        _send(engine, company_id, doc_id, Relay(host="127.0.0.1", port=port, starttls=False, sender=SENDER, timeout=2))
    assert err.value.code is None
    with pytest.raises(MailDeliveryError):
        _send(engine, company_id, doc_id, Relay(host=""))
    assert _doc(engine, company_id, doc_id).status == "draft"


def test_not_ready_names_every_blocking_field_including_the_missing_email(engine) -> None:  # type: ignore[no-untyped-def]
    with storage.session_scope(engine) as s:
        company = create_company(s, "Studio Vos", **{**SELLER, "kvk": ""})
        contact = create_contact(s, company.id, "Nieuwe Klant")
        doc = create_draft(s, company.id, DocumentKind.INVOICE, contact.id, today=TODAY, lines=LINES)
        company_id, doc_id = company.id, doc.id
    sink = MailSink()
    with smtp_server(sink) as relay, pytest.raises(NotReadyError) as err:
        _send(engine, company_id, doc_id, relay)
    fields = [f.field for f in err.value.findings]
    assert fields == ["seller.kvk", "buyer.street", "buyer.email"] and sink.messages == []
    assert _doc(engine, company_id, doc_id).number is None


def test_a_second_send_is_a_conflict_and_sends_nothing(engine) -> None:  # type: ignore[no-untyped-def]
    company_id, _, doc_id = _setup(engine)
    sink = MailSink()
    with smtp_server(sink) as relay:
        _send(engine, company_id, doc_id, relay)
        with pytest.raises(ConflictError):
            _send(engine, company_id, doc_id, relay)
    assert len(sink.messages) == 1


def test_resend_keeps_the_number_and_records_the_new_message(engine) -> None:  # type: ignore[no-untyped-def]
    company_id, _, doc_id = _setup(engine)
    sink = MailSink()
    with smtp_server(sink) as relay:
        _send(engine, company_id, doc_id, relay)
        with storage.session_scope(engine) as s:
            mark_bounced(s, company_id, sink.messages[0]["Message-ID"], "550 user unknown")
        with storage.session_scope(engine) as s:
            again = resend_by_mail(s, company_id, doc_id, relay=relay, now=NOW)
    assert again.number == "2026-0001" and len(sink.messages) == 2
    doc = _doc(engine, company_id, doc_id)
    assert (doc.delivery, doc.delivery_error, doc.mail_message_id) == ("mailed", "", sink.messages[1]["Message-ID"])
    with storage.session_scope(engine) as s, pytest.raises(ConflictError):
        resend_by_mail(s, company_id, _setup_draft(s, company_id), relay=relay, now=NOW)


def _setup_draft(s, company_id: int) -> int:  # type: ignore[no-untyped-def]
    contact = create_contact(s, company_id, "Ander")
    return create_draft(s, company_id, DocumentKind.INVOICE, contact.id, today=TODAY, lines=LINES).id


def test_mark_bounced_finds_the_document_by_message_id_within_the_company(engine) -> None:  # type: ignore[no-untyped-def]
    company_id, _, doc_id = _setup(engine)
    sink = MailSink()
    with smtp_server(sink) as relay:
        _send(engine, company_id, doc_id, relay)
    message_id = sink.messages[0]["Message-ID"]
    with storage.session_scope(engine) as s:
        other = create_company(s, "Ander bedrijf", **SELLER).id
    with storage.session_scope(engine) as s, pytest.raises(NotFoundError):
        mark_bounced(s, other, message_id, "550")
    with storage.session_scope(engine) as s, pytest.raises(NotFoundError):
        mark_bounced(s, company_id, "<nope@klerk.test>", "550")
    with storage.session_scope(engine) as s:
        doc = mark_bounced(s, company_id, message_id.strip("<>"), "550 5.1.1\r\nuser unknown " + "x" * 600)
        assert doc.id == doc_id
    doc = _doc(engine, company_id, doc_id)
    assert doc.delivery == "bounced" and doc.delivery_error.startswith("550 5.1.1 user unknown")
    assert len(doc.delivery_error) == 500 and doc.status == "sent"


def test_send_to_chat_finalises_and_renders(engine) -> None:  # type: ignore[no-untyped-def]
    company_id, _, doc_id = _setup(engine, email="")
    with storage.session_scope(engine) as s:
        copy = send_to_chat(s, company_id, doc_id, today=TODAY, now=NOW)
    assert copy.number == "2026-0001" and copy.filename == "2026-0001.pdf" and copy.pdf.startswith(b"%PDF-")
    doc = _doc(engine, company_id, doc_id)
    assert (doc.status, doc.delivery) == ("sent", "chat")
    with storage.session_scope(engine) as s, pytest.raises(ConflictError):
        send_to_chat(s, company_id, doc_id, today=TODAY, now=NOW)


def test_a_credit_note_mail_names_the_invoice(engine) -> None:  # type: ignore[no-untyped-def]
    company_id, _, doc_id = _setup(engine, language="en")
    with storage.session_scope(engine) as s:
        finalise_document(s, company_id, doc_id, today=TODAY, now=NOW)
        note_id = create_credit_note(s, company_id, doc_id, today=TODAY).id
    sink = MailSink()
    with smtp_server(sink) as relay:
        sent = _send(engine, company_id, note_id, relay)
    assert sent.number == "CN-2026-0001"
    assert sink.messages[0]["Subject"] == "Credit note CN-2026-0001 from Studio Vos Ontwerp"
    assert "corrects invoice 2026-0001" in sink.messages[0].get_body(("plain",)).get_content()
    assert _doc(engine, company_id, doc_id).status == "credited"


def test_the_company_s_own_mail_texts_sender_and_reply_to(engine) -> None:  # type: ignore[no-untyped-def]
    company_id, _, doc_id = _setup(engine)
    with storage.session_scope(engine) as s:
        for key, value in {"mail_sender_name": "Eva van Studio Vos", "mail_reply_to": "eva@studiovos.nl",
                           "mail_subject_nl": "Uw {kind} {number}"}.items():
            set_setting(s, company_id, key, value)
        # a text stored before placeholders were checked: an unknown one stays as written
        s.add(CompanySetting(company_id=company_id, key="mail_body_nl", value=
                             "Hoi {name}, {amount} graag voor {due}. {onbekend}"))
    sink = MailSink()
    with smtp_server(sink) as relay:
        _send(engine, company_id, doc_id, relay)
    msg = sink.messages[0]
    assert (msg["From"], msg["Reply-To"]) == (f"Eva van Studio Vos <{SENDER}>", "eva@studiovos.nl")
    assert msg["Subject"] == "Uw factuur 2026-0001"
    assert msg.get_body(("plain",)).get_content().replace("\xa0", " ").strip() == \
        "Hoi Bakkerij de Vries B.V., € 726,00 graag voor 30 december 2026. {onbekend}"


def test_broken_braces_in_an_own_text_are_sent_as_written(engine) -> None:  # type: ignore[no-untyped-def]
    company_id, _, doc_id = _setup(engine, language="en")
    with storage.session_scope(engine) as s:                     # stored as is: the reader copes
        s.add(CompanySetting(company_id=company_id, key="mail_subject_en", value="Invoice {number"))
    sink = MailSink()
    with smtp_server(sink) as relay:
        _send(engine, company_id, doc_id, relay)
    assert sink.messages[0]["Subject"] == "Invoice {number"
    assert "Kind regards,\nStudio Vos Ontwerp" in sink.messages[0].get_body(("plain",)).get_content().replace("\r", "")


# ---- payment links (a company connected to Mollie; the Mollie double is the only fake) ----------

MOLLIE_KEY = "test_SendingTestKey00000000000000aa"


@pytest.fixture
def mollie_provider():  # type: ignore[no-untyped-def]
    from cryptography.fernet import Fernet

    from core.payments.providers import MollieProvider
    from core.secrets import SecretBox
    from klerk.mollie_double import MollieDouble

    double = MollieDouble(clock=lambda: NOW).start()
    double.add_account(MOLLIE_KEY)
    box = SecretBox(Fernet.generate_key())
    yield box, MollieProvider(box, api_endpoint=double.url, public_url="https://klerk.example"), double
    double.stop()


def _connect(engine, company_id: int, box) -> None:  # type: ignore[no-untyped-def]
    from core.payments.accounts import connect_provider

    with storage.session_scope(engine) as s:
        connect_provider(s, box, company_id, MOLLIE_KEY, now=NOW)


def test_with_a_provider_the_link_is_in_the_mail_and_on_the_invoice(engine, mollie_provider) -> None:  # type: ignore[no-untyped-def]
    box, provider, double = mollie_provider
    company_id, _, doc_id = _setup(engine)
    _connect(engine, company_id, box)
    sink = MailSink()
    with smtp_server(sink) as relay, storage.session_scope(engine) as s:
        send_by_mail(s, company_id, doc_id, relay=relay, today=TODAY, now=NOW, provider=provider)
    (link,) = double.links()
    assert link["amount"] == {"value": "726.00", "currency": "EUR"} and "2026-0001" in link["description"]
    doc = _doc(engine, company_id, doc_id)
    assert doc.payment_link == link["_links"]["paymentLink"]["href"]
    body = sink.messages[0].get_body(("plain",)).get_content()
    assert f"Of betaal online: {doc.payment_link}" in body
    import io

    from pypdf import PdfReader

    pdf = PdfReader(io.BytesIO(sink.attachments()["2026-0001.pdf"]))
    pdf_text = "".join(page.extract_text() for page in pdf.pages)
    links = [a.get_object().get("/A", {}).get("/URI") for page in pdf.pages for a in page.get("/Annots") or []]
    assert doc.payment_link in pdf_text.replace("\n", "") or doc.payment_link in links


def test_without_a_provider_the_link_is_queued_not_awaited(engine, mollie_provider) -> None:  # type: ignore[no-untyped-def]
    from core.models import Job
    from core.payments.worker import PaymentServices, run_payment_jobs

    box, provider, double = mollie_provider
    company_id, _, doc_id = _setup(engine)
    _connect(engine, company_id, box)
    sink = MailSink()
    with smtp_server(sink) as relay:
        _send(engine, company_id, doc_id, relay)
    assert double.links() == [] and "online" not in sink.messages[0].get_body(("plain",)).get_content()
    with storage.session_scope(engine) as s:
        assert [j.kind for j in s.exec(select(Job)).all()] == ["payment_link"]
    assert run_payment_jobs(engine, PaymentServices(provider=provider), clock=lambda: NOW) == 1
    assert _doc(engine, company_id, doc_id).payment_link == double.links()[0]["_links"]["paymentLink"]["href"]
    with smtp_server(MailSink()) as relay, storage.session_scope(engine) as s:
        resend_by_mail(s, company_id, doc_id, relay=relay, now=NOW)


def test_a_refused_mail_queues_no_link_and_a_company_without_mollie_gets_none(engine, mollie_provider) -> None:  # type: ignore[no-untyped-def]
    from core.models import Job

    box, provider, double = mollie_provider
    company_id, _, doc_id = _setup(engine)
    _connect(engine, company_id, box)
    with smtp_server(RefusingSink("administratie@bakkerijdevries.nl")) as relay, pytest.raises(MailDeliveryError):
        _send(engine, company_id, doc_id, relay)
    other, _, other_doc = _setup(engine)
    with smtp_server(MailSink()) as relay, storage.session_scope(engine) as s:
        send_by_mail(s, other, other_doc, relay=relay, today=TODAY, now=NOW, provider=provider)
    with storage.session_scope(engine) as s:
        assert s.exec(select(Job)).all() == []
    assert double.links() == [] and _doc(engine, other, other_doc).payment_link == ""
