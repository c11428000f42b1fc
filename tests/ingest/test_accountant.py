"""The accountant: confirmed documents are mailed with a token; "verwerkt" comes back through the
ingest and closes them; bounces of those mails are told apart from invoice bounces."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from core import storage
from core.companies import update_company
from core.inbox.models import AccountantShare, InboxDocument
from core.inbox.preferences import set_inbox_preference
from core.inbox.receipts import confirm_receipt
from core.models import Company
from tests.conftest import NOW
from tests.ingest.conftest import notifications, send
from tests.ingest.mails import fixture_mail, mail, ubl_invoice

ACCOUNTANT = "boekhouder@kantoor.example"


def shares(engine) -> list[AccountantShare]:  # type: ignore[no-untyped-def]
    with storage.session_scope(engine) as s:
        return list(s.exec(select(AccountantShare)))


def doc_status(engine) -> list[str]:  # type: ignore[no-untyped-def]
    with storage.session_scope(engine) as s:
        return [d.status for d in s.exec(select(InboxDocument).order_by(InboxDocument.id))]


@pytest.fixture
def received(engine, inbox, smtp_ingest, make_worker):  # type: ignore[no-untyped-def]
    """One e-invoice in the shoebox of a company with an accountant; returns its id."""
    with storage.session_scope(engine) as s:
        update_company(s, s.get(Company, inbox.company_id), accountant_email=ACCOUNTANT)
    send(smtp_ingest, mail(to=inbox.address, attachments=(("factuur.xml", "application/xml", ubl_invoice()),)),
         to=inbox.address)
    make_worker().run_until_idle()
    with storage.session_scope(engine) as s:
        return s.exec(select(InboxDocument.id)).one()


def confirm_and_share(engine, inbox, received, make_worker, relay):  # type: ignore[no-untyped-def]
    with storage.session_scope(engine) as s:
        confirm_receipt(s, inbox.company_id, received, person_id=inbox.owner_id, now=NOW)
    make_worker(relay).run_until_idle()


def test_a_confirmed_document_is_mailed_to_the_accountant(engine, inbox, received, make_worker, relay_server) -> None:  # type: ignore[no-untyped-def]
    relay, captured = relay_server
    assert shares(engine) == []                                 # default: only confirmed documents go
    confirm_and_share(engine, inbox, received, make_worker, relay)
    [share] = shares(engine)
    [(_, rcpts, msg)] = captured.messages
    assert rcpts == [ACCOUNTANT] and share.status == "sent"
    assert f"[{share.token}]" in msg["Subject"] and "Bon Studio Vos" in msg["Subject"]
    assert msg["Message-ID"] == share.message_id and msg["X-Klerk-Ref"] == share.token
    assert msg["Reply-To"] == inbox.address
    files = {part.get_filename(): part.get_content() for part in msg.iter_attachments()}
    assert files["factuur.xml"] == ubl_invoice() and b"PayableAmount" in files[f"bon-{received}-ubl.xml"]
    body = msg.get_body(("plain",)).get_content()
    assert "Factuurnummer" in body and "2026-0042" in body and "verwerkt" in body
    assert doc_status(engine) == ["shared"]


def test_verwerkt_from_the_accountant_closes_the_document(engine, inbox, received, smtp_ingest, make_worker,  # type: ignore[no-untyped-def]
                                                          relay_server) -> None:
    relay, captured = relay_server
    confirm_and_share(engine, inbox, received, make_worker, relay)
    [share] = shares(engine)
    answer = mail(to=inbox.address, sender=f"Kantoor <{ACCOUNTANT}>", subject="Re: " + captured.messages[0][2]["Subject"],
                  text="Verwerkt, groet.\n\n> Een bon van Studio Vos", headers={"In-Reply-To": share.message_id})
    send(smtp_ingest, answer, to=inbox.address, sender=ACCOUNTANT)
    make_worker(relay).run_until_idle()
    assert doc_status(engine) == ["processed"] and shares(engine)[0].status == "processed"
    [note] = notifications(engine, "receipt_processed")
    assert note.payload["receipt_id"] == received and note.payload["status"] == "processed"
    assert len(captured.messages) == 1                          # no automatic reply to the accountant


def test_forwarded_back_with_the_token_and_attachments_is_not_a_new_receipt(engine, inbox, received, smtp_ingest,  # type: ignore[no-untyped-def]
                                                                              make_worker, relay_server) -> None:
    relay, _captured = relay_server
    confirm_and_share(engine, inbox, received, make_worker, relay)
    [share] = shares(engine)
    back = mail(to=inbox.address, sender=ACCOUNTANT, subject=f"Fwd: Bon [{share.token}] verwerkt", text="Zie onder.",
                attachments=(("factuur.xml", "application/xml", ubl_invoice()),))
    send(smtp_ingest, back, to=inbox.address, sender=ACCOUNTANT)
    make_worker(relay).run_until_idle()
    assert doc_status(engine) == ["processed"]


def test_a_question_from_the_accountant_is_passed_on(engine, inbox, received, smtp_ingest, make_worker,  # type: ignore[no-untyped-def]
                                                      relay_server) -> None:
    relay, _captured = relay_server
    confirm_and_share(engine, inbox, received, make_worker, relay)
    [share] = shares(engine)
    send(smtp_ingest, mail(to=inbox.address, sender=ACCOUNTANT, subject=f"Re: [{share.token}]",
                           text="Is dit zakelijk?\n\nOp 30 nov schreef Klerk:\n> ..."), to=inbox.address, sender=ACCOUNTANT)
    make_worker(relay).run_until_idle()
    assert doc_status(engine) == ["shared"]
    [note] = notifications(engine, "accountant_replied")
    assert note.payload == note.payload | {"receipt_id": received, "excerpt": "Is dit zakelijk?"}


def test_a_token_from_someone_else_changes_nothing(engine, inbox, received, smtp_ingest, make_worker,  # type: ignore[no-untyped-def]
                                                    relay_server) -> None:
    relay, _ = relay_server
    confirm_and_share(engine, inbox, received, make_worker, relay)
    [share] = shares(engine)
    send(smtp_ingest, mail(to=inbox.address, sender="mallory@example.org", subject=f"[{share.token}] verwerkt",
                           text="verwerkt"), to=inbox.address, sender="mallory@example.org")
    make_worker(relay).run_until_idle()
    assert doc_status(engine) == ["shared"] and notifications(engine, "receipt_processed") == []


def test_share_everything_or_nothing(engine, inbox, smtp_ingest, make_worker, relay_server) -> None:  # type: ignore[no-untyped-def]
    relay, captured = relay_server
    with storage.session_scope(engine) as s:
        update_company(s, s.get(Company, inbox.company_id), accountant_email=ACCOUNTANT)
        set_inbox_preference(s, inbox.company_id, share_mode="all")
    send(smtp_ingest, mail(to=inbox.address, attachments=(("a.xml", "application/xml", ubl_invoice("A-1")),)),
         to=inbox.address)
    make_worker(relay).run_until_idle()
    to_accountant = lambda: [m for m in captured.messages if m[1] == [ACCOUNTANT]]
    assert doc_status(engine) == ["shared"] and len(to_accountant()) == 1
    with storage.session_scope(engine) as s:
        set_inbox_preference(s, inbox.company_id, share_mode="off")
    send(smtp_ingest, mail(to=inbox.address, attachments=(("b.xml", "application/xml", ubl_invoice("B-1")),)),
         to=inbox.address)
    make_worker(relay).run_until_idle()
    with storage.session_scope(engine) as s:
        second = s.exec(select(InboxDocument).order_by(InboxDocument.id.desc())).first()
        confirm_receipt(s, inbox.company_id, second.id, person_id=inbox.owner_id, now=NOW)
    make_worker(relay).run_until_idle()
    assert doc_status(engine) == ["shared", "checked"] and len(to_accountant()) == 1


def test_a_bounce_of_the_share_is_no_invoice_bounce(engine, inbox, received, smtp_ingest, make_worker,  # type: ignore[no-untyped-def]
                                                     relay_server) -> None:
    relay, _ = relay_server
    confirm_and_share(engine, inbox, received, make_worker, relay)
    [share] = shares(engine)
    dsn = fixture_mail("dsn-postfix.eml").replace(b"<invoice-2026-0042.7f3a@klerk.test>", share.message_id.encode())
    send(smtp_ingest, dsn, to=inbox.address, sender="")
    make_worker(relay).run_until_idle()
    assert shares(engine)[0].status == "bounced" and notifications(engine, "invoice_bounced") == []
    [note] = notifications(engine, "accountant_share_failed")
    assert note.payload["receipt_id"] == received and "User unknown" in note.payload["reason"]


def test_a_refusal_by_the_relay_is_told_to_the_owner(engine, inbox, received, make_worker, relay_server) -> None:  # type: ignore[no-untyped-def]
    relay, captured = relay_server
    captured.refuse_with = "554 5.7.1 relaying denied"
    confirm_and_share(engine, inbox, received, make_worker, relay)
    assert shares(engine)[0].status == "failed" and doc_status(engine) == ["checked"]
    assert notifications(engine, "accountant_share_failed")[0].payload["recipient"] == ACCOUNTANT


def test_the_message_id_is_made_once_for_retries(engine, inbox, received, make_worker, relay_server) -> None:  # type: ignore[no-untyped-def]
    relay, captured = relay_server
    captured.refuse_with = "451 4.3.0 later"
    confirm_and_share(engine, inbox, received, make_worker, relay)
    [first] = shares(engine)
    captured.refuse_with = None
    make_worker(relay, clock=lambda: NOW + timedelta(minutes=10)).run_until_idle()
    [again] = shares(engine)
    assert (again.token, again.message_id, again.status) == (first.token, first.message_id, "sent")
    assert captured.messages[0][2]["Message-ID"] == first.message_id
