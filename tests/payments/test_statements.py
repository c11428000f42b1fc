"""Every bank statement sample parses (read in place); damaged or foreign files are refused clearly."""
from __future__ import annotations

from decimal import Decimal

import pytest

from core.payments.statements import StatementError, parse_statement
from tests.conftest import SHARED

BANK = SHARED / "einvoice" / "kit" / "bank"
SAMPLES = sorted(p for p in BANK.glob("*/*") if not p.name.startswith("LICENSE") and p.name != "camt053.v2.wrong.xml")


def test_the_samples_are_there() -> None:
    assert len(SAMPLES) == 18, SAMPLES


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_every_sample_parses(path) -> None:  # type: ignore[no-untyped-def]
    statements = parse_statement(path.read_bytes())
    lines = [line for s in statements for line in s.lines]
    assert statements and lines
    for line in lines:
        assert line.amount > 0 and line.direction in ("credit", "debit") and len(line.fingerprint) == 64
    assert len({line.fingerprint for line in lines}) == len(lines)
    again = [line.fingerprint for s in parse_statement(path.read_bytes()) for line in s.lines]
    assert again == [line.fingerprint for line in lines]          # stable: the import dedupes on it


def test_the_wrong_camt_is_refused_with_a_clear_error() -> None:
    with pytest.raises(StatementError) as exc:
        parse_statement((BANK / "camt053" / "camt053.v2.wrong.xml").read_bytes())
    assert "no statement" in exc.value.translated("en")
    assert "geen afschrift" in exc.value.translated("nl")


@pytest.mark.parametrize("name, version", [("camt053.v2.minimal.xml", "001.02"), ("camt053.v3.xml", "001.03"),
                                           ("camt053.v4.xml", "001.04"), ("camt053.v8.xml", "001.08")])
def test_camt_versions_read_the_same_facts(name: str, version: str) -> None:
    (statement,) = parse_statement((BANK / "camt053" / name).read_bytes())
    (line,) = statement.lines
    assert statement.version == version and statement.account == "NL26VAYB8060476890"
    assert (line.direction, line.amount, line.booking_date.isoformat()) == ("credit", Decimal("8.85"), "2014-12-31")
    assert (line.counterparty_name, line.counterparty_iban) == ("NAME NAME", "NL56AGDH9619008421")
    assert "4654654654654654" in line.remittance


def test_camt_details() -> None:
    multi = parse_statement((BANK / "camt053" / "camt053.v2.multi.statement.xml").read_bytes())
    assert len(multi) == 2
    debit = multi[1].lines[0]
    assert (debit.direction, debit.amount, debit.counterparty_name) == ("debit", Decimal("7.00"), "Company Name 2")
    (five,) = parse_statement((BANK / "camt053" / "camt053.v2.five.decimals.xml").read_bytes())
    assert five.lines[0].amount == Decimal("8.85")
    (v8,) = parse_statement((BANK / "camt053" / "camt053.v8.xml").read_bytes())
    assert (v8.lines[0].end_to_end_id, v8.lines[0].bank_reference) == ("MUELL/FINP/RA12345", "AAAASESS-FP-CN_98765/01")


def test_mt940_dialects() -> None:
    asn = parse_statement((BANK / "mt940" / "asnbank.sta").read_bytes())
    lines = [line for s in asn for line in s.lines]
    assert len(asn) == 31 and len(lines) == 8
    assert (lines[0].direction, lines[0].amount, lines[0].counterparty_name) == ("debit", Decimal("65.00"), "hr gjlm paulissen")
    rabo = [line for s in parse_statement((BANK / "mt940" / "rabobank-iban.sta").read_bytes()) for line in s.lines]
    assert rabo[0].counterparty_name == "CONTRA ACCOUNT HOLDER" and rabo[0].account == "NL71RABO0123456789"
    knab = [line for s in parse_statement((BANK / "mt940" / "knab.sta").read_bytes()) for line in s.lines]
    assert [(x.direction, x.amount) for x in knab] == [("credit", Decimal("500.00")), ("debit", Decimal("7260.00")),
                                                        ("credit", Decimal("500.00"))]
    assert knab[2].counterparty_name == "MMS ONLINE NEDERLAND B.V." and knab[2].bank_reference == "B4G29PGDCK1QFV3E"


@pytest.mark.parametrize("data, words", [
    (b"hello, this is a text file", "not a CAMT.053 or MT940"),
    (b"<Document><Other/></Document>", "not a CAMT.053"),
    (b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.02"><BkToCstmrDbtCdtNtfctn/></Document>',
     "camt.054"),
    (b"<Document><BkToCstmrStmt><Stmt>", "damaged"),
    (b":20:X\n:25:1\n:28C:1\n:60F:C200101EUR1,00\n:61:garbage\n:62F:C200101EUR1,00\n", "MT940"),
])
def test_foreign_or_damaged_files_are_refused(data: bytes, words: str) -> None:
    with pytest.raises(StatementError) as exc:
        parse_statement(data)
    assert words in exc.value.translated("en")


def test_xml_entities_are_not_resolved(tmp_path) -> None:  # type: ignore[no-untyped-def]
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET")
    xml = (f'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file://{secret}">]>'
           '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt><Stmt><Id>1</Id>'
           '<Acct><Id><IBAN>NL91ABNA0417164300</IBAN></Id></Acct><Ntry><Amt Ccy="EUR">1.00</Amt>'
           '<CdtDbtInd>CRDT</CdtDbtInd><BookgDt><Dt>2026-11-30</Dt></BookgDt><AddtlNtryInf>&x;</AddtlNtryInf>'
           '</Ntry></Stmt></BkToCstmrStmt></Document>').encode()
    (statement,) = parse_statement(xml)
    assert "TOPSECRET" not in statement.lines[0].remittance
