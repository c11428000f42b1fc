"""The digital shoebox through the real Application: a photo or file sent to the bot goes through
the real ingest worker and reader (OCR for the photo), the card comes back through the outbox, and
the verdicts, /bonnen, the original, /export and /adres work on the database — for both languages,
and read-only for the accountant.
"""
from __future__ import annotations

import asyncio
import csv
import io
import zipfile
from datetime import date
from decimal import Decimal

import pytest
from PIL import Image, ImageDraw, ImageFont
from sqlmodel import select

import ingest.reading
from bot.callbacks import pack
from bot.context import Services
from bot.delivery import deliver_due
from core import outbox, storage
from core.inbox.addresses import company_for_token
from core.inbox.models import InboundMessage, InboxDocument, IngestAddress
from core.inbox.store import FileStore
from core.mail import Relay
from core.models import Job, Role
from ingest.worker import Worker
from tests.bot.seed import seed_company, seed_member
from tests.conftest import NOW
from tests.ingest.mails import ubl_invoice

DOMAIN = "klerk.test"
ALBERT = ["ALBERT HEIJN", "Damstraat 1, 1012 JS Amsterdam", "", "Brood              3,50",
          "Kaas               7,60", "", "TOTAAL            12,10", "PIN               12,10", "",
          "BTW   9%   11,10   1,00", "Datum 28-11-2026  10:15"]


def receipt_png(lines: list[str] = ALBERT) -> bytes:
    font = ImageFont.load_default(size=26)
    image = Image.new("RGB", (640, 40 + len(lines) * 39), "white")
    draw = ImageDraw.Draw(image)
    for i, line in enumerate(lines):
        draw.text((30, 20 + i * 39), line, font=font, fill=(20, 20, 20))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def store(tmp_path) -> FileStore:  # type: ignore[no-untyped-def]
    return FileStore(tmp_path / "documents" / "inbox")


@pytest.fixture
def services(engine, clock, store) -> Services:  # type: ignore[no-untyped-def]
    """The bot's services as ``klerk serve`` makes them: with the inbox store and the ingest domain."""
    return Services(engine=engine, secret=b"test-secret-0123456789", clock=clock, ingest_domain=DOMAIN,
                    extra={"inbox_store": store})


@pytest.fixture
def process(engine, store, bot_app):  # type: ignore[no-untyped-def]
    """Run the real ingest worker (real reader) until idle, then deliver the outbox; returns the jobs done."""
    worker = Worker(engine, store, ingest.reading, ingest_domain=DOMAIN, relay=Relay(host=""), clock=lambda: NOW)

    async def run() -> int:
        done = await asyncio.to_thread(worker.run_until_idle)
        await deliver_due(bot_app)
        return done
    return run


def docs(engine) -> list[InboxDocument]:  # type: ignore[no-untyped-def]
    with storage.session_scope(engine) as s:
        return list(s.exec(select(InboxDocument).order_by(InboxDocument.id)))


def doc(engine, receipt_id: int) -> InboxDocument:  # type: ignore[no-untyped-def]
    with storage.session_scope(engine) as s:
        return s.get(InboxDocument, receipt_id)


def arrivals(engine) -> list[InboundMessage]:  # type: ignore[no-untyped-def]
    with storage.session_scope(engine) as s:
        return list(s.exec(select(InboundMessage).order_by(InboundMessage.id)))


def queued_jobs(engine) -> list[Job]:  # type: ignore[no-untyped-def]
    with storage.session_scope(engine) as s:
        return list(s.exec(select(Job).where(Job.status != "done")))


def plain(text: str) -> str:
    return text.replace("\xa0", " ")


def said(driver, calls) -> str:  # type: ignore[no-untyped-def]
    return plain(driver.texts(calls))


def sent_files(calls) -> list:  # type: ignore[no-untyped-def]
    return [c for c in calls if c.method == "sendDocument"]


@pytest.mark.ocr
async def test_a_photo_is_read_checked_edited_listed_fetched_and_exported(chat, engine, store, process) -> None:  # type: ignore[no-untyped-def]
    seed_company(engine)
    eva = chat(5001)
    png = receipt_png()

    replies = await eva.send_photo(png)
    assert said(eva, replies) == "Ontvangen, ik lees hem…"
    [arrival] = arrivals(engine)
    assert (arrival.source, arrival.filename, arrival.mime, arrival.content) == (
        "upload", "foto-2026-11-30.jpg", "image/jpeg", png)
    assert [j.kind for j in queued_jobs(engine)] == ["inbox_message"]

    assert await process() == 1
    [receipt] = docs(engine)
    assert (receipt.vendor, receipt.total, receipt.doc_date, receipt.status) == (
        "ALBERT HEIJN", Decimal("12.10"), date(2026, 11, 28), "received")
    card = eva.request.calls[-1]
    assert card.method == "sendMessage" and card.chat_id == 5001
    assert plain(card.text) == "Ontvangen: ALBERT HEIJN — € 12,10 incl. € 1,00 btw (9 %) — 28-11-2026"
    assert [label for label, _ in card.buttons] == ["✅ Klopt", "✏️ Wijzig", "🏠 Privé", "🗑 Geen bon"]

    # ✏️ wijzig: the total, first typed wrong (the step stays), then right
    assert "Wat wil je wijzigen?" in said(eva, await eva.tap("Wijzig"))
    assert "12,50" in said(eva, await eva.tap("Bedrag"))
    replies = await eva.send("12,5,0")
    assert said(eva, replies) == "⚠️ Dit is geen getal: 12,5,0"
    assert doc(engine, receipt.id).total == Decimal("12.10")
    replies = await eva.send("12,50")
    assert said(eva, replies).startswith("✏️ Opgeslagen: ALBERT HEIJN — € 12,50 incl. € 1,00 btw (9 %)")
    assert doc(engine, receipt.id).total == Decimal("12.50")
    # and the date: an impossible one twice, then a real one
    await eva.tap("Wijzig")
    await eva.tap("Datum")
    assert said(eva, await eva.send("31-02")) == "⚠️ Geen datum (dd-mm-jjjj): 31-02"
    assert "Geen datum" in said(eva, await eva.send("31-02-2026"))
    assert doc(engine, receipt.id).doc_date == date(2026, 11, 28)
    assert "27-11-2026" in said(eva, await eva.send("27-11-2026"))
    assert doc(engine, receipt.id).doc_date == date(2026, 11, 27)

    # ✅ klopt
    assert said(eva, await eva.tap("Klopt")).startswith("✅ Gecontroleerd: ALBERT HEIJN — € 12,50")
    checked = doc(engine, receipt.id)
    assert (checked.status, checked.checked_at is not None, checked.confidence["total"]) == ("checked", True, 1.0)

    # the same photo again: told it is a duplicate, and set aside on request
    await eva.send_photo(png)
    assert await process() == 1
    first, copy = docs(engine)
    assert (copy.duplicate_of, copy.duplicate_reason) == (first.id, "same_file")
    assert f"Deze bon had je al gestuurd (hetzelfde bestand, #{first.id})" in plain(eva.request.calls[-1].text)
    assert said(eva, await eva.tap("Deze kopie weg")).startswith("🗑 Geen bon")
    assert doc(engine, copy.id).status == "not_receipt"

    # /bonnen with filters
    listing = said(eva, await eva.send("/bonnen"))
    assert "ALBERT HEIJN — € 12,50" in listing and "gecontroleerd" in listing
    assert "ontvangen → gecontroleerd → gedeeld met boekhouder → verwerkt" in listing
    assert "ALBERT HEIJN" in said(eva, await eva.send("/bonnen 2026-Q4 albert"))
    assert "Hier is nog niets" in said(eva, await eva.send("/bonnen 2026-Q3"))
    assert "Hier is nog niets" in said(eva, await eva.send("/bonnen jumbo"))

    # details and the original, byte for byte
    await eva.send("/bonnen albert")
    details = said(eva, await eva.tap("27-11 ALBERT"))
    assert "Status: gecontroleerd" in details and "Bestand: foto-2026-11-30.jpg" in details
    [sent] = sent_files(await eva.tap("Origineel"))
    assert sent.files["document"] == png and store.read(first.path) == png

    # /export: the ZIP with the original, the CSV row and a UBL file
    [export] = sent_files(await eva.send("/export 2026-Q4"))
    assert "1 bonnen" in plain(export.text)
    with zipfile.ZipFile(io.BytesIO(export.files["document"])) as zf:
        names = zf.namelist()
        rows = list(csv.reader(io.StringIO(zf.read("bonnen-2026-Q4.csv").decode("utf-8-sig")), delimiter=";"))
        assert zf.read(next(n for n in names if n.startswith("originelen/"))) == png
    assert any(n.startswith("ubl/") for n in names)
    assert len(rows) == 2 and rows[1][1:3] == ["2026-11-27", "ALBERT HEIJN"] and "12,50" in rows[1]


async def test_an_e_invoice_in_english_private_and_not_a_receipt(chat, engine, process) -> None:  # type: ignore[no-untyped-def]
    seed_company(engine, language="en")
    eva = chat(5001, language="en")
    replies = await eva.send_document(ubl_invoice(), "factuur.xml", "application/xml")
    assert said(eva, replies) == "Received, I am reading it…"
    assert await process() == 1
    [receipt] = docs(engine)
    card = eva.request.calls[-1]
    assert plain(card.text) == ("Received: Studio Vos — €1,193.62 incl. €200.50 VAT (21%) + €3.17 VAT (9%)"
                         " — 30-11-2026")
    assert [label for label, _ in card.buttons] == ["✅ Correct", "✏️ Edit", "🏠 Private", "🗑 Not a receipt"]
    assert said(eva, await eva.tap("Private")).startswith("🏠 Private: Studio Vos")
    assert doc(engine, receipt.id).status == "private"
    assert "Nothing here yet" in said(eva, await eva.send("/receipts"))      # private is not in the shoebox
    assert "No receipts in 2026-Q4" in said(eva, await eva.send("/export 2026-Q4"))

    # the VAT edited on a private receipt, then geen bon
    await eva.press(pack(b"test-secret-0123456789", eva.chat_id, "rc.fx", receipt.id, "vat"))
    assert said(eva, await eva.send("21 2,10,0")) == "⚠️ Not a number: 2,10,0"
    assert said(eva, await eva.send("lots")).startswith("⚠️ Type the VAT as rate and amount")
    replies = await eva.send("21% 200,50; 9% 3,17")
    assert said(eva, replies).startswith("✏️ Saved:")
    assert doc(engine, receipt.id).vat == [{"rate": "21", "amount": "200.50"}, {"rate": "9", "amount": "3.17"}]
    await eva.press(pack(b"test-secret-0123456789", eva.chat_id, "rc.nb", receipt.id))
    assert doc(engine, receipt.id).status == "not_receipt"


async def test_the_accountant_can_list_and_fetch_but_not_confirm(chat, engine, store, process) -> None:  # type: ignore[no-untyped-def]
    company_id = seed_company(engine)
    seed_member(engine, company_id, 6001, Role.ACCOUNTANT)
    eva, anna = chat(5001), chat(6001, first_name="Anna")
    content = ubl_invoice()
    await eva.send_document(content, "factuur.xml", "application/xml")
    await process()
    [receipt] = docs(engine)

    listing = said(anna, await anna.send("/bonnen"))
    assert "Studio Vos" in listing and "ontvangen" in listing
    details = await anna.tap("30-11 Studio Vos")
    assert [label for label, _ in details[-1].buttons] == ["📎 Origineel"]          # no verdicts
    [sent] = sent_files(await anna.tap("Origineel"))
    assert sent.files["document"] == content
    [export] = sent_files(await anna.send("/export 2026-Q4"))
    assert export.files["document"][:2] == b"PK"

    # a ✅ button for her chat (as if kept from earlier) is refused and nothing changes
    replies = await anna.press(pack(b"test-secret-0123456789", anna.chat_id, "rc.ok", receipt.id))
    assert said(anna, replies) == "Dat mag je niet doen in dit bedrijf. Er is niets veranderd."
    replies = await anna.press(pack(b"test-secret-0123456789", anna.chat_id, "rc.fx", receipt.id, "total"))
    assert said(anna, replies) == "Dat mag je niet doen in dit bedrijf. Er is niets veranderd."
    assert "Geen getal" not in said(anna, await anna.send("1,00"))       # she is in no edit step
    after = doc(engine, receipt.id)
    assert (after.status, after.checked_at, after.total) == ("received", None, receipt.total)
    # nor can she add receipts
    replies = await anna.send_document(b"%PDF-1.4 x", "bon.pdf", "application/pdf")
    assert said(anna, replies) == "Dat mag je niet doen in dit bedrijf. Er is niets veranderd."
    assert len(arrivals(engine)) == 1


async def test_the_receipt_address_is_shown_and_rotated_by_the_owner(chat, engine) -> None:  # type: ignore[no-untyped-def]
    company_id = seed_company(engine)
    seed_member(engine, company_id, 6001, Role.ACCOUNTANT)
    eva, anna = chat(5001), chat(6001, first_name="Anna")
    replies = await eva.send("/adres")
    text = said(eva, replies)
    [old] = [w for w in text.split() if w.startswith("bon-")]
    assert old.endswith("@" + DOMAIN) and "Je bonnenadres" in text
    old_token = old[4:].split("@")[0]

    assert said(anna, await anna.send("/adres")).count(old) == 1 and anna.buttons() == []
    await anna.press(pack(b"test-secret-0123456789", anna.chat_id, "adr.yes"))
    with storage.session_scope(engine) as s:
        assert company_for_token(s, old_token) == company_id             # the accountant cannot rotate

    assert "werkt dan meteen niet meer" in said(eva, await eva.tap("Nieuw adres"))
    assert "blijft hetzelfde" in said(eva, await eva.tap("Nee"))
    with storage.session_scope(engine) as s:
        assert company_for_token(s, old_token) == company_id
    await eva.send("/adres")
    await eva.tap("Nieuw adres")
    yes = dict(eva.buttons())["🔄 Ja, nieuw adres"]
    text = said(eva, await eva.press(yes))
    [new] = [w for w in text.split() if w.startswith("bon-")]
    assert new != old and "Het oude werkt niet meer" in text
    assert "Dat kan niet meer" in said(eva, await eva.press(yes))      # the old button again: the new address stays
    with storage.session_scope(engine) as s:
        assert company_for_token(s, old_token) is None
        assert company_for_token(s, new[4:].split("@")[0]) == company_id
        assert len(list(s.exec(select(IngestAddress).where(IngestAddress.company_id == company_id)))) == 2


async def test_a_40_mb_document_is_refused_before_downloading(chat, engine) -> None:  # type: ignore[no-untyped-def]
    seed_company(engine)
    eva = chat(5001)
    replies = await eva.send_document(b"\0" * (40 * 1024 * 1024), "scan.pdf", "application/pdf")
    assert "te groot" in said(eva, replies) and "40 MB" in said(eva, replies) and "25 MB" in said(eva, replies)
    assert not [c for c in eva.request.calls if c.method == "getFile"]
    assert arrivals(engine) == [] and queued_jobs(engine) == []


async def test_the_other_inbox_notifications_in_both_languages(chat, engine, bot_app) -> None:  # type: ignore[no-untyped-def]
    company_id = seed_company(engine)
    seed_member(engine, company_id, 5002, Role.STAFF, language="en")
    eva, bob = chat(5001), chat(5002, language="en")
    facts = {"receipt_id": 41, "status": "received", "vendor": "Shell", "total": "60.00", "currency": "EUR",
             "vat": [{"rate": "21", "amount": "10.41"}], "date": "2026-11-02", "low_confidence": ["total", "vendor"],
             "duplicate_of": None}
    with storage.session_scope(engine) as s:
        for kind, payload in (
                ("receipt_received", facts),
                ("receipt_rejected", {"receipt_id": None, "filename": "bon.docx",
                                      "reason": "office documents are not read: send a PDF"}),
                ("receipt_processed", facts | {"status": "processed"}),
                ("accountant_replied", {"receipt_id": 41, "vendor": "Shell", "excerpt": "Is dit zakelijk?"}),
                ("accountant_share_failed", facts | {"recipient": "boek@houder.nl", "reason": "550 no such user"})):
            outbox.notify(s, company_id, kind, payload, now=NOW)
    assert await deliver_due(bot_app) == 5
    nl = [c for c in bot_app.bot_data["request"].calls if c.chat_id == eva.chat_id and c.method == "sendMessage"]
    en = [c for c in bot_app.bot_data["request"].calls if c.chat_id == bob.chat_id and c.method == "sendMessage"]
    assert plain(nl[0].text) == ("Ontvangen: Shell — € 60,00 incl. € 10,41 btw (21 %) — 02-11-2026\n"
                          "❓ Ik weet het niet zeker van: bedrag, leverancier. Klopt dat?")
    assert [b for b, _ in nl[0].buttons][:2] == ["✏️ Bedrag klopt niet", "✏️ Leverancier klopt niet"]
    assert plain(en[0].text).startswith("Received: Shell — €60.00 incl. €10.41 VAT (21%) — 02-11-2026\n❓ I am not sure")
    assert plain(nl[1].text).startswith("⚠️ Ik kon bon.docx niet lezen: Office-documenten lezen we niet: stuur een pdf.")
    assert "Nothing was added to your shoebox" in plain(en[1].text)
    assert plain(nl[2].text).startswith("📗 Je boekhouder heeft verwerkt: Shell") and plain(en[2].text).startswith("📗 Your accountant")
    assert plain(nl[3].text) == "💬 Je boekhouder antwoordde over Shell:\nIs dit zakelijk?"
    assert "boek@houder.nl" in plain(nl[4].text) and "550 no such user" in plain(en[4].text)
