"""Bank statements in the books: sure matches booked once, the rest assigned with one tap, debits
without a receipt listed."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlmodel import select

from core.errors import ConflictError, ValidationError
from core.models import Notification
from core.payments.bank import (assign_transaction, dismiss_transaction, import_statement, missing_receipts,
                                unmatched_credits)
from core.payments.models import BankTransaction, Payment
from tests.conftest import NOW, SHARED, TODAY

D = Decimal
BANK = SHARED / "einvoice" / "kit" / "bank"


def camt(entries: list[tuple[str, str, str, str, str]], *, version: str = "001.08") -> bytes:
    """A CAMT.053 with (CRDT|DBIT, amount, name, iban, remittance) entries, booked on TODAY."""
    body = ""
    for i, (cd, amount, name, iban, text) in enumerate(entries, start=1):
        party = "Dbtr" if cd == "CRDT" else "Cdtr"
        body += f"""<Ntry><Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>{cd}</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
          <BookgDt><Dt>{TODAY.isoformat()}</Dt></BookgDt><AcctSvcrRef>REF-{i:04}</AcctSvcrRef>
          <NtryDtls><TxDtls><RltdPties><{party}><Pty><Nm>{name}</Nm></Pty></{party}>
          <{party}Acct><Id><IBAN>{iban}</IBAN></Id></{party}Acct></RltdPties>
          <RmtInf><Ustrd>{text}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>"""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.{version}"><BkToCstmrStmt>
  <GrpHdr><MsgId>1</MsgId><CreDtTm>2026-11-30T18:00:00</CreDtTm></GrpHdr>
  <Stmt><Id>S1</Id><Acct><Id><IBAN>NL91ABNA0417164300</IBAN></Id></Acct>{body}</Stmt>
</BkToCstmrStmt></Document>""".encode()


def test_import_books_sure_matches_once(session, make_company, make_contact, make_invoice) -> None:  # type: ignore[no-untyped-def]
    company = make_company()
    contact = make_contact(company, iban="NL20INGB0001234567")
    first, second, third = (make_invoice(company, contact, price) for price in ("100", "200", "300"))
    statement = camt([
        ("CRDT", "121.00", "Bakkerij de Vries", "NL20INGB0001234567", f"Factuur {first.number}"),     # sure
        ("CRDT", "50.00", "Bakkerij de Vries", "NL20INGB0001234567", f"deel {second.number.replace('-', '')}"),
        ("CRDT", "363.00", "Onbekend", "NL02ABNA0123456789", "bedankt!"),                           # amount only
        ("DBIT", "12.10", "Koffiebar", "NL39RABO0300065264", "koffie"),
    ])
    result = import_statement(session, company.id, statement, now=NOW)
    assert (result.format, result.new, result.duplicates, result.debits) == ("camt053", 4, 0, 1)
    assert [inv for _, inv in result.booked] == [first.id, second.id]
    assert len(result.to_assign) == 1
    assert (first.status, second.status, second.amount_paid, third.status) == ("paid", "partially_paid", D("50.00"), "sent")
    notes = session.exec(select(Notification).where(Notification.kind == "invoice_paid").order_by(Notification.id)).all()
    assert [(n.payload["number"], n.payload["amount"], n.payload["outstanding"], n.payload["source"]) for n in notes] == [
        (first.number, "121.00", "0.00", "bank"), (second.number, "50.00", "192.00", "bank")]
    assert notes[0].payload["payer_account"] == "NL20…4567"
    again = import_statement(session, company.id, statement, now=NOW + timedelta(days=1))
    assert (again.new, again.duplicates, again.booked) == (0, 4, [])
    assert len(session.exec(select(Notification).where(Notification.kind == "invoice_paid")).all()) == 2
    assert second.amount_paid == D("50.00")


def test_unmatched_credit_is_assigned_with_one_tap(session, make_company, make_contact, make_invoice) -> None:  # type: ignore[no-untyped-def]
    company = make_company()
    contact = make_contact(company)
    small, big = make_invoice(company, contact, "100"), make_invoice(company, contact, "300")
    import_statement(session, company.id, camt([("CRDT", "363.00", "Bakkerij", "NL02ABNA0123456789", "ok")]), now=NOW)
    (suggestion,) = unmatched_credits(session, company.id)
    assert [(c.invoice_id, c.confidence, c.reasons) for c in suggestion.candidates] == [
        (big.id, D("0.40"), ("amount", "name")), (small.id, D("0.10"), ("name",))]
    txn = suggestion.transaction
    booking = assign_transaction(session, company.id, txn.id, big.id, now=NOW)
    assert (booking.delta, big.status, txn.status, txn.document_id) == (D("363.00"), "paid", "booked", big.id)
    assert unmatched_credits(session, company.id) == []
    with pytest.raises(ConflictError):
        assign_transaction(session, company.id, txn.id, small.id, now=NOW)            # already booked
    note = session.exec(select(Notification).where(Notification.kind == "invoice_paid")).one()
    assert note.payload["invoice_id"] == big.id and note.payload["payer_name"] == "Bakkerij"


def test_assignment_is_scoped_to_the_company(session, make_company, make_contact, make_invoice) -> None:  # type: ignore[no-untyped-def]
    ours, theirs = make_company(), make_company("Ander Bureau")
    their_invoice = make_invoice(theirs, make_contact(theirs))
    import_statement(session, ours.id, camt([("CRDT", "121.00", "X", "NL02ABNA0123456789", "x")]), now=NOW)
    txn = session.exec(select(BankTransaction)).one()
    from core.errors import NotFoundError
    with pytest.raises(NotFoundError):
        assign_transaction(session, ours.id, txn.id, their_invoice.id, now=NOW)
    with pytest.raises(NotFoundError):
        assign_transaction(session, theirs.id, txn.id, their_invoice.id, now=NOW)
    assert their_invoice.status == "sent" and session.exec(select(Payment)).all() == []


def test_debits_without_a_receipt(session, make_company) -> None:  # type: ignore[no-untyped-def]
    company = make_company()
    result = import_statement(session, company.id, (BANK / "mt940" / "knab.sta").read_bytes(), now=NOW)
    assert (result.format, result.new, result.debits, len(result.to_assign)) == ("mt940", 3, 1, 2)
    (debit,) = missing_receipts(session, company.id)
    assert (debit.direction, debit.amount, debit.counterparty_name) == ("debit", D("7260.00"), "PICQER")
    # the receipts module will answer "has a receipt" later; any callable will do
    assert missing_receipts(session, company.id, has_receipt=lambda s, t: t.amount > 1000) == []
    dismiss_transaction(session, company.id, debit.id)
    assert missing_receipts(session, company.id) == []
    with pytest.raises(ConflictError):
        assign_transaction(session, company.id, debit.id, 1, now=NOW)


def test_every_sample_imports_and_reimports_as_duplicates(session, make_company) -> None:  # type: ignore[no-untyped-def]
    company = make_company()
    samples = sorted(p for p in BANK.glob("*/*") if not p.name.startswith("LICENSE") and "wrong" not in p.name)
    total = 0
    for path in samples:
        result = import_statement(session, company.id, path.read_bytes(), now=NOW)
        total += result.new
    assert total > 40
    for path in samples:
        assert import_statement(session, company.id, path.read_bytes(), now=NOW).new == 0
    with pytest.raises(ValidationError):
        import_statement(session, company.id, (BANK / "camt053" / "camt053.v2.wrong.xml").read_bytes(), now=NOW)
    assert len(session.exec(select(BankTransaction)).all()) == total


def test_statement_of_another_account_is_flagged(session, make_company) -> None:  # type: ignore[no-untyped-def]
    company = make_company()
    result = import_statement(session, company.id, (BANK / "camt053" / "camt053.v3.xml").read_bytes(), now=NOW)
    assert result.other_accounts == ["NL26VAYB8060476890"]
