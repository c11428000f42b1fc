"""Bank statements: CAMT.053 (ISO 20022 XML, any version) and MT940 (SWIFT text). Pure.

CAMT.053 is read namespace-agnostically (v2, v3, v4, v8... differ in namespace and in a few
wrappers such as ``Dbtr/Pty/Nm`` and ``Sts/Cd``). Only booked entries are kept. An entry that
batches several transactions with their own amounts becomes one line per transaction.
MT940 goes through the mt-940 library; ASN Bank's dialect (an IBAN in the customer reference)
uses the library's ASN statement tag.

Each line gets a ``fingerprint``: the bank's own reference when it gives one, else a hash of the
line's content, plus an occurrence counter for identical lines in one file. Importing the same
statement twice therefore yields the same fingerprints (stored under a unique constraint).
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal, InvalidOperation

from core.errors import ValidationError
from core.identifiers import clean_iban
from core.money import round_money

MAX_BYTES = 20 * 1024 * 1024
IBAN_TOKEN = re.compile(r"\b([A-Z]{2}\d{2}[A-Z0-9]{10,30})\b")


class StatementError(ValidationError):
    """A file we cannot read as a bank statement (safe to show: says what is wrong)."""

    def __init__(self, message: str, **params: object) -> None:
        super().__init__("statement", message, **params)


@dataclass(frozen=True)
class StatementLine:
    account: str
    booking_date: date
    direction: str                 # credit | debit
    amount: Decimal                # positive
    currency: str = "EUR"
    value_date: date | None = None
    counterparty_name: str = ""
    counterparty_iban: str = ""
    remittance: str = ""
    end_to_end_id: str = ""
    bank_reference: str = ""
    reversal: bool = False
    fingerprint: str = ""


@dataclass(frozen=True)
class Statement:
    format: str                    # camt053 | mt940
    version: str                   # e.g. "001.08"; "" for MT940
    account: str
    statement_id: str
    lines: tuple[StatementLine, ...]


def parse_statement(data: bytes) -> list[Statement]:
    """Read a CAMT.053 or MT940 file; raises ``StatementError`` with the reason when it is neither."""
    if len(data) > MAX_BYTES:
        raise StatementError("The file is larger than {size} MB", size=MAX_BYTES // (1024 * 1024))
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:200]
    if head.startswith(b"<"):
        statements = parse_camt053(data)
    elif b":20:" in data[:4096] or b":25:" in data[:4096]:
        statements = parse_mt940(data)
    else:
        raise StatementError("This is not a CAMT.053 or MT940 bank statement")
    return [replace(s, lines=_fingerprinted(s.lines)) for s in statements]


# ---- CAMT.053 -------------------------------------------------------------------------------

def _strip_namespaces(root) -> str:  # type: ignore[no-untyped-def]
    from lxml import etree

    namespace = etree.QName(root).namespace or ""
    for el in root.iter():
        if isinstance(el.tag, str):
            el.tag = etree.QName(el).localname
    return namespace


def _text(el, path: str) -> str:  # type: ignore[no-untyped-def]
    found = el.find(path) if el is not None else None
    return (found.text or "").strip() if found is not None and found.text else ""


def _first(el, *paths: str) -> str:  # type: ignore[no-untyped-def]
    for path in paths:
        value = _text(el, path)
        if value:
            return value
    return ""


def _date(value: str) -> date | None:
    try:
        return date.fromisoformat(value[:10]) if value else None
    except ValueError:
        return None


def _amount(value: str) -> Decimal:
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise StatementError("Not an amount in the statement: {value}", value=value[:30]) from None
    if not amount.is_finite() or amount < 0:
        raise StatementError("Not an amount in the statement: {value}", value=value[:30])
    return round_money(amount)


def parse_camt053(data: bytes) -> list[Statement]:
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                             remove_comments=True, remove_pis=True)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise StatementError("The XML file is damaged: {error}", error=str(exc)[:120]) from None
    namespace = _strip_namespaces(root)
    match = re.search(r"camt\.(\d{3})\.(\d{3}\.\d{2})", namespace)
    if match and match.group(1) != "053":
        raise StatementError("This is a camt.{kind} file, not a CAMT.053 bank statement", kind=match.group(1))
    body = root.find("BkToCstmrStmt") if root.tag == "Document" else (root if root.tag == "BkToCstmrStmt" else None)
    if body is None:
        raise StatementError("This XML file is not a CAMT.053 bank statement")
    statements = body.findall("Stmt")
    if not statements:
        raise StatementError("The CAMT.053 file contains no statement (no Stmt element)")
    version = match.group(2) if match else ""
    return [_camt_statement(stmt, version) for stmt in statements]


def _camt_statement(stmt, version: str) -> Statement:  # type: ignore[no-untyped-def]
    account = _first(stmt, "Acct/Id/IBAN", "Acct/Id/Othr/Id").replace(" ", "").upper()
    currency = _text(stmt, "Acct/Ccy") or "EUR"
    lines: list[StatementLine] = []
    for entry in stmt.findall("Ntry"):
        status = _first(entry, "Sts/Cd", "Sts")
        if status and status != "BOOK":
            continue
        lines.extend(_camt_entry(entry, account, currency))
    return Statement("camt053", version, account, _text(stmt, "Id"), tuple(lines))


def _camt_entry(entry, account: str, currency: str) -> list[StatementLine]:  # type: ignore[no-untyped-def]
    amount_el = entry.find("Amt")
    if amount_el is None:
        raise StatementError("An entry (Ntry) has no amount")
    direction = {"CRDT": "credit", "DBIT": "debit"}.get(_text(entry, "CdtDbtInd"))
    if direction is None:
        raise StatementError("An entry (Ntry) is neither credit nor debit")
    booking = _date(_first(entry, "BookgDt/Dt", "BookgDt/DtTm")) or _date(_first(entry, "ValDt/Dt", "ValDt/DtTm"))
    if booking is None:
        raise StatementError("An entry (Ntry) has no booking date")
    base = StatementLine(
        account=account, booking_date=booking, direction=direction, amount=_amount(amount_el.text or ""),
        currency=amount_el.get("Ccy") or currency, value_date=_date(_first(entry, "ValDt/Dt", "ValDt/DtTm")),
        bank_reference=_text(entry, "AcctSvcrRef"), reversal=_text(entry, "RvslInd").lower() == "true")
    details = entry.findall("NtryDtls/TxDtls")
    extra = _text(entry, "AddtlNtryInf")
    if not details:
        return [replace(base, remittance=extra[:1000])]
    amounts = [_first(tx, "AmtDtls/TxAmt/Amt", "Amt") for tx in details]
    split = len(details) > 1 and all(amounts)
    lines = []
    for tx, tx_amount in zip(details, amounts) if split else [(details[0], "")]:
        line = _camt_details(base, tx, extra)
        if split:
            line = replace(line, amount=_amount(tx_amount))
        lines.append(line)
    return lines


def _camt_details(base: StatementLine, tx, extra: str) -> StatementLine:  # type: ignore[no-untyped-def]
    party = "Dbtr" if base.direction == "credit" else "Cdtr"      # the other side of the transfer
    name = _first(tx, f"RltdPties/{party}/Nm", f"RltdPties/{party}/Pty/Nm", f"RltdPties/Ultmt{party}/Nm",
                  f"RltdPties/Ultmt{party}/Pty/Nm")
    iban = _first(tx, f"RltdPties/{party}Acct/Id/IBAN", f"RltdPties/{party}Acct/Id/Othr/Id")
    texts = [el.text.strip() for el in tx.findall("RmtInf/Ustrd") if el.text and el.text.strip()]
    texts += [el.text.strip() for el in tx.findall("RmtInf/Strd/CdtrRefInf/Ref") if el.text and el.text.strip()]
    texts += [el.text.strip() for el in tx.findall("RmtInf/Strd/AddtlRmtInf") if el.text and el.text.strip()]
    texts += [t for t in (_text(tx, "AddtlTxInf"), extra) if t]
    e2e = _text(tx, "Refs/EndToEndId")
    return replace(base, counterparty_name=name[:200], counterparty_iban=_iban_or_empty(iban),
                   remittance=" ".join(texts)[:1000], end_to_end_id="" if e2e == "NOTPROVIDED" else e2e[:100],
                   bank_reference=(_text(tx, "Refs/AcctSvcrRef") or base.bank_reference)[:100])


# ---- MT940 ----------------------------------------------------------------------------------

def parse_mt940(data: bytes) -> list[Statement]:
    import mt940
    from mt940.tags import StatementASNB

    text = _decode(data)
    variants: list[dict | None] = [None, {61: StatementASNB()}]
    if "ASNB" in text[:300]:
        variants.reverse()
    error = ""
    for tags in variants:
        try:
            parsed = mt940.parse_statements(text, options=mt940.Options.all(), tags=tags)
            break
        except (RuntimeError, ValueError, KeyError, IndexError) as exc:
            error = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
    else:
        raise StatementError("The MT940 file cannot be read: {error}", error=error)
    statements = [_mt940_statement(t) for t in parsed]
    if not any(s.lines for s in statements) and not any(s.account for s in statements):
        raise StatementError("The MT940 file contains no statement")
    return statements


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def _mt940_statement(transactions) -> Statement:  # type: ignore[no-untyped-def]
    account = str(transactions.data.get("account_identification") or "").strip()
    own = account.replace(" ", "").upper()
    lines = []
    for tr in transactions:
        d = tr.data
        amount = Decimal(str(d["amount"].amount))
        booking = d.get("entry_date") or d["date"]
        raw = str(d.get("transaction_details") or "")
        details = " ".join(raw.split())
        extra = str(d.get("extra_details") or "").strip()
        customer_ref = str(d.get("customer_reference") or "").strip()
        iban = next((i for i in (_iban_or_empty(x) for x in (extra, customer_ref)) if i and i != own), "")
        iban = iban or _iban_in(details, own)
        lines.append(StatementLine(
            account=own, booking_date=date(booking.year, booking.month, booking.day),
            value_date=date(d["date"].year, d["date"].month, d["date"].day),
            direction="credit" if amount > 0 else "debit", amount=round_money(abs(amount)),
            currency=str(d.get("currency") or "EUR"), counterparty_name=_mt940_name(raw, extra)[:200],
            counterparty_iban=iban, remittance=details[:1000],
            end_to_end_id="" if customer_ref.upper() in ("", "NONREF", "EREF") or _looks_like_iban(customer_ref)
            else customer_ref[:100],
            bank_reference=str(d.get("bank_reference") or "").strip()[:100],
            reversal=str(d.get("status") or "").startswith("R")))
    return Statement("mt940", "", own, str(transactions.data.get("transaction_reference") or ""), tuple(lines))


def _mt940_name(raw: str, extra: str) -> str:
    """The counterparty's name: structured ``/NAME/`` (lines wrap mid-word), ``NAAM:``, or the
    supplementary details of the :61: line (Rabobank, ASN)."""
    match = re.search(r"/NAME/([^/]+)", raw.replace("\r", "").replace("\n", ""))
    match = match or re.search(r"NAAM:\s*([^/\n]+)", raw)
    if match:
        return match.group(1).strip()
    return "" if not extra or _looks_like_iban(extra) else extra


# ---- shared ---------------------------------------------------------------------------------

def _looks_like_iban(value: str) -> bool:
    return bool(IBAN_TOKEN.fullmatch((value or "").replace(" ", "").upper()))


def _iban_or_empty(value: str) -> str:
    value = (value or "").replace(" ", "").upper()
    if not IBAN_TOKEN.fullmatch(value):
        return ""
    try:
        return clean_iban(value)
    except ValidationError:
        return ""


def _iban_in(text: str, own: str) -> str:
    for token in IBAN_TOKEN.findall(text.upper()):
        iban = _iban_or_empty(token)
        if iban and iban != own:
            return iban
    return ""


def _fingerprinted(lines: tuple[StatementLine, ...]) -> tuple[StatementLine, ...]:
    seen: dict[str, int] = {}
    out = []
    for line in lines:
        if line.bank_reference:
            key = "|".join(("ref", line.account, line.bank_reference, line.direction, str(line.amount),
                            line.booking_date.isoformat(), line.end_to_end_id))
        else:
            key = "|".join(("content", line.account, line.booking_date.isoformat(), line.direction,
                            str(line.amount), line.currency, line.counterparty_iban, line.end_to_end_id,
                            " ".join(line.remittance.upper().split())))
        digest = hashlib.sha256(key.encode()).hexdigest()
        seen[digest] = seen.get(digest, 0) + 1
        fingerprint = hashlib.sha256(f"{digest}#{seen[digest]}".encode()).hexdigest()
        out.append(replace(line, fingerprint=fingerprint))
    return tuple(out)


STATEMENT_SUFFIXES = (".xml", ".sta", ".940", ".mt940", ".swi", ".txt", ".camt", ".053")


def looks_like_statement(filename: str, content: bytes) -> bool:
    """A cheap look (no parsing) whether an uploaded file is a bank statement: CAMT.053 XML (the
    ``camt.053`` namespace or a ``BkToCstmrStmt`` element near the top) or MT940 text (the ``:20:``
    and ``:25:`` or ``:61:`` tags). The file name only rules out what clearly is something else."""
    name = (filename or "").lower()
    if name.endswith((".pdf", ".jpg", ".jpeg", ".png", ".heic", ".gif", ".webp", ".doc", ".docx", ".xlsx")):
        return False
    if not content or len(content) > MAX_BYTES:
        return False
    head = content.lstrip(b"\xef\xbb\xbf \t\r\n")[:4096]
    if head.startswith(b"<"):
        return b"camt.053" in head or b"BkToCstmrStmt" in head
    if name and not name.endswith(STATEMENT_SUFFIXES) and "." in name.rsplit("/", 1)[-1]:
        return False
    return b":20:" in head and (b":25:" in head or b":61:" in content[:16384])
