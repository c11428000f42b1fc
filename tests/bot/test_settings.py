"""/instellingen and /settings through the real Application: every section, validation that keeps
the question open, logo and colour with the preview, the terms-and-conditions PDF, the key/value
settings other parts read, and the accountant who may look but not change. Replies and database.
"""
from __future__ import annotations

import io

import pypdf
from sqlmodel import select

from bot.callbacks import pack
from core import storage
from core.companies import add_member, create_company, get_or_create_person
from core.company_settings import get_setting, reminder_days
from core.inbox.models import ShareMode
from core.inbox.preferences import replies_to_senders, sharing_mode
from core.models import Company, Role
from tests.bot.test_onboarding import chat_step, logo_png
from tests.conftest import SELLER


def make_company(engine, owner_tg: int = 5001, *, language: str = "nl") -> int:  # type: ignore[no-untyped-def]
    with storage.session_scope(engine) as s:
        owner = get_or_create_person(s, telegram_user_id=owner_tg, name="Eva", lang=language)
        return create_company(s, "Studio Vos", owner=owner, **SELLER).id


def join(engine, company_id: int, telegram_user_id: int, role: Role, name: str = "Bob") -> None:  # type: ignore[no-untyped-def]
    with storage.session_scope(engine) as s:
        person = get_or_create_person(s, telegram_user_id=telegram_user_id, name=name)
        add_member(s, company_id, person.id, role)


def company(engine, company_id: int) -> Company:  # type: ignore[no-untyped-def]
    with storage.session_scope(engine) as s:
        return s.get(Company, company_id)


def setting(engine, company_id: int, key: str) -> str | None:  # type: ignore[no-untyped-def]
    with storage.session_scope(engine) as s:
        return get_setting(s, company_id, key)


def a_pdf(pages: int = 2) -> bytes:
    writer = pypdf.PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(595, 842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


async def test_company_details_are_edited_and_validated(chat, engine) -> None:  # type: ignore[no-untyped-def]
    company_id = make_company(engine)
    eva = chat(5001)
    replies = await eva.send("/instellingen")
    assert "Instellingen van Studio Vos Ontwerp" in eva.texts(replies)
    labels = [label for label, _ in eva.buttons()]
    assert {"Bedrijfsgegevens", "E-mail", "Herinneringen", "Algemene voorwaarden", "Team"} <= set(labels)
    assert "KvK-nummer: 12345678" in eva.texts(await eva.tap("Bedrijfsgegevens"))
    assert "Nu: 12345678" in eva.texts(await eva.tap("KvK-nummer"))
    assert "8 cijfers" in eva.texts(await eva.send("1234 567🙂"))
    assert chat_step(engine, 5001) == ("settings", "value")
    replies = await eva.send("8765.4321")
    assert "Opgeslagen: KvK-nummer is nu 87654321" in eva.texts(replies)
    await eva.tap("Plaats")
    assert "Te lang" in eva.texts(await eva.send("A" * 150))
    assert "Plaats: Amsterdam" in eva.texts(await eva.tap("Terug"))
    await eva.tap("Officiële naam")
    assert "Leegmaken" not in [label for label, _ in eva.buttons()]       # the name cannot be emptied
    assert "Opgeslagen" in eva.texts(await eva.send("Studio Vos B.V."))
    await eva.tap("Website")
    assert "Website is nu —" in eva.texts(await eva.tap("Leegmaken"))
    row = company(engine, company_id)
    assert (row.kvk, row.city, row.name, row.website) == ("87654321", "Amsterdam", "Studio Vos B.V.", "")


async def test_mail_and_reminder_settings_in_english(chat, engine) -> None:  # type: ignore[no-untyped-def]
    company_id = make_company(engine, 5002, language="en")
    eva = chat(5002, language="en")
    await eva.send("/settings")
    await eva.tap("E-mail")
    await eva.tap("Sender name")
    assert "Sender name is now Studio Vos" in eva.texts(await eva.send("Studio Vos"))
    await eva.tap("Reply-to address")
    assert "Not an e-mail address" in eva.texts(await eva.send("eva at studiovos"))
    await eva.send("eva@studiovos.nl")
    await eva.tap("Mail text (Dutch)")
    assert "Unknown placeholder {outstanding}" in eva.texts(await eva.send("Nog open: {outstanding}"))
    await eva.send("Beste klant,\n\nIn de bijlage vind je de factuur.\n\nGroet, Eva")
    await eva.tap("Settings")
    await eva.tap("Reminders")
    await eva.tap("Reminder days")
    assert "three numbers" in eva.texts(await eva.send("3,14"))
    assert "must increase" in eva.texts(await eva.send("14,3,28"))
    assert "5,10,20" in eva.texts(await eva.send("5 10 20"))
    prompt = eva.texts(await eva.tap("Reminder 1 (English)"))
    assert "{outstanding}" in prompt and "{deadline}" in prompt           # the placeholders are explained
    assert "Unknown placeholder {amount}" in eva.texts(await eva.send("Please pay {amount}."))
    assert "brace" in eva.texts(await eva.send("Please pay before {due_date"))
    await eva.send("Friendly reminder: invoice {number} is still open.")
    assert setting(engine, company_id, "mail_sender_name") == "Studio Vos"
    assert setting(engine, company_id, "mail_reply_to") == "eva@studiovos.nl"
    assert setting(engine, company_id, "mail_body_nl").startswith("Beste klant,\n\nIn de bijlage")
    assert setting(engine, company_id, "reminder_text_1_en") == "Friendly reminder: invoice {number} is still open."
    with storage.session_scope(engine) as s:
        assert reminder_days(s, company_id) == (5, 10, 20)
    await eva.tap("Reminder 1 (English)")
    await eva.tap("Clear")
    assert setting(engine, company_id, "reminder_text_1_en") is None     # back to the standard text


async def test_numbering_kor_terms_and_texts(chat, engine) -> None:  # type: ignore[no-untyped-def]
    company_id = make_company(engine)
    eva = chat(5001)
    await eva.send("/instellingen")
    assert "{year}-{seq:04} → 2026-0001" in eva.texts(await eva.tap("Nummering"))
    await eva.tap("Offertenummers")
    assert "⚠️" in eva.texts(await eva.send("OFF-{maand}"))
    assert "Offertenummers is nu Q{yy}-{seq:02}" in eva.texts(await eva.send("Q{yy}-{seq:02}"))
    await eva.tap("Instellingen")
    replies = await eva.tap("Bank, btw en betalen")
    assert "Kleineondernemersregeling (KOR): nee" in eva.texts(replies)
    assert "Kleineondernemersregeling (KOR): ja" in eva.texts(await eva.tap("KOR aan"))
    await eva.tap("Betalingstermijn (dagen)")
    assert "geen aantal dagen" in eva.texts(await eva.send("12,5,0"))
    assert "tussen 0 en 365" in eva.texts(await eva.send("400"))
    await eva.send("21")
    await eva.tap("Instellingen")
    await eva.tap("Teksten op facturen")
    await eva.tap("Factuur: slottekst")
    assert "hooguit 2000" in eva.texts(await eva.send("Dank! " * 400))
    await eva.send("Bedankt voor de prettige samenwerking!")
    row = company(engine, company_id)
    assert (row.pattern_quote, row.kor, row.payment_term_days) == ("Q{yy}-{seq:02}", True, 21)
    assert row.invoice_outro == "Bedankt voor de prettige samenwerking!"


async def test_logo_colour_and_preview(chat, engine) -> None:  # type: ignore[no-untyped-def]
    company_id = make_company(engine)
    eva = chat(5001)
    await eva.send("/instellingen")
    assert "Logo: nee" in eva.texts(await eva.tap("Logo en kleur"))
    await eva.tap("Stuur een nieuw logo")
    assert "Dat is een pdf" in eva.texts(await eva.send_document(a_pdf(), "logo.pdf", "application/pdf"))
    assert "Ik wacht op een afbeelding" in eva.texts(await eva.send("logo"))
    replies = await eva.send_photo(logo_png())
    assert [c.method for c in replies][:2] == ["sendChatAction", "sendPhoto"]
    assert "Logo opgeslagen" in eva.texts(replies) and "Logo: ja" in eva.texts(replies)
    replies = await eva.tap("Bordeauxrood")
    assert any(c.method == "sendPhoto" for c in replies) and "#8e1b3a" in eva.texts(replies)
    await eva.tap("Andere")
    assert "#rrggbb" in eva.texts(await eva.send("rood"))
    await eva.send("#AA3300")
    row = company(engine, company_id)
    assert (row.logo, row.logo_mime, row.color) == (logo_png(), "image/png", "#aa3300")
    assert "verwijderd" in eva.texts(await eva.tap("Logo verwijderen"))
    assert company(engine, company_id).logo is None


async def test_terms_and_conditions_pdf(chat, engine) -> None:  # type: ignore[no-untyped-def]
    company_id = make_company(engine)
    eva = chat(5001)
    await eva.send("/instellingen")
    assert "geen" in eva.texts(await eva.tap("Algemene voorwaarden"))
    await eva.tap("Stuur een pdf")
    assert "Dat is geen pdf" in eva.texts(await eva.send_document(b"PK\x03\x04 docx", "av.docx",
                                                                   "application/vnd.openxmlformats"))
    assert "Dat is geen pdf" in eva.texts(await eva.send_photo(logo_png()))
    assert "geen leesbare pdf" in eva.texts(await eva.send_document(b"%PDF-1.4 broken", "av.pdf", "application/pdf"))
    assert company(engine, company_id).terms_pdf is None
    replies = await eva.send_document(a_pdf(3), "voorwaarden 2026.pdf", "application/pdf")
    assert "opgeslagen (3 pagina's)" in eva.texts(replies) and "voorwaarden 2026.pdf" in eva.texts(replies)
    row = company(engine, company_id)
    assert row.terms_pdf == a_pdf(3) and row.terms_filename == "voorwaarden 2026.pdf"
    await eva.tap("Verwijderen")
    assert company(engine, company_id).terms_pdf is None


async def test_the_accountant_sees_the_settings_but_changes_nothing(chat, engine, services) -> None:  # type: ignore[no-untyped-def]
    company_id = make_company(engine)
    join(engine, company_id, 6001, Role.ACCOUNTANT)
    bob = chat(6001, first_name="Bob")
    assert "Je kunt kijken, maar niets veranderen" in bob.texts(await bob.send("/instellingen"))
    replies = await bob.tap("Bedrijfsgegevens")
    assert "KvK-nummer: 12345678" in bob.texts(replies)
    assert [label for label, _ in bob.buttons()] == ["◀ Instellingen"]
    for data in (pack(services.secret, 6001, "set.f", "kvk"), pack(services.secret, 6001, "set.v", "kvk", ""),
                 pack(services.secret, 6001, "set.kor", 1), pack(services.secret, 6001, "set.terms")):
        assert "mag je niet" in bob.texts(await bob.press(data))
    row = company(engine, company_id)
    assert (row.kvk, row.kor) == ("12345678", False)


async def test_staff_may_change_settings(chat, engine) -> None:  # type: ignore[no-untyped-def]
    company_id = make_company(engine)
    join(engine, company_id, 6002, Role.STAFF, name="Carol")
    carol = chat(6002, first_name="Carol")
    await carol.send("/instellingen")
    await carol.tap("Bedrijfsgegevens")
    await carol.tap("Telefoon")
    await carol.send("+31 20 123 4567")
    assert company(engine, company_id).phone == "+31 20 123 4567"
    await carol.tap("Instellingen")
    team = carol.texts(await carol.tap("Team"))                  # the team from the settings menu
    assert "Eva: eigenaar" in team and "Carol: medewerker (jij)" in team and "Alleen de eigenaar" in team


async def test_settings_offer_to_continue_an_unfinished_set_up(chat, engine) -> None:  # type: ignore[no-untyped-def]
    eva = chat(5003)
    await eva.send("/start")
    await eva.tap("Nederlands")
    await eva.send("Studio Vos")
    await eva.send("/instellingen")
    assert "Verder met instellen" in [label for label, _ in eva.buttons()]
    assert "We waren gebleven bij: Handelsnaam" in eva.texts(await eva.tap("Verder met instellen"))
    with storage.session_scope(engine) as s:
        assert s.exec(select(Company)).one().name == "Studio Vos"


async def test_payment_mail_is_toggled_in_the_mail_section(chat, engine) -> None:  # type: ignore[no-untyped-def]
    company_id = make_company(engine)
    eva = chat(5001)
    await eva.send("/instellingen")
    assert "Mail mij bij elke betaling: nee" in eva.texts(await eva.tap("E-mail"))
    assert "Mail mij bij elke betaling is nu ja" in eva.texts(await eva.tap("📬 Mail mij bij elke betaling"))
    assert setting(engine, company_id, "payment_mail") == "on"
    assert "is nu nee" in eva.texts(await eva.tap("Geen mail bij betalingen"))
    assert setting(engine, company_id, "payment_mail") == "off"


async def test_what_goes_to_the_accountant_and_replies_to_senders_are_chosen_under_receipts(  # type: ignore[no-untyped-def]
        chat, engine, services) -> None:
    company_id = make_company(engine)
    eva = chat(5001)
    await eva.send("/instellingen")
    shown = eva.texts(await eva.tap("Bonnen"))
    assert "Bonnen naar je boekhouder: alleen die ik goedkeur ✅" in shown
    assert "Antwoord aan wie een bon doorstuurt: ja" in shown
    assert "alle, zodra ze binnenkomen" in [label for label, _ in eva.buttons()]
    assert "is nu alle, zodra ze binnenkomen" in eva.texts(await eva.tap("alle, zodra ze binnenkomen"))
    assert "is nu nee" in eva.texts(await eva.tap("Geen antwoord aan afzenders"))
    with storage.session_scope(engine) as s:
        assert (sharing_mode(s, company_id), replies_to_senders(s, company_id)) == (ShareMode.ALL, False)
    assert "Kies uit: confirmed, all, off" in eva.texts(
        await eva.press(pack(services.secret, 5001, "set.v", "receipt_sharing", "iedereen")))   # forged
    assert setting(engine, company_id, "receipt_sharing") == "all"
    await eva.tap("Instellingen")
    await eva.tap("Bedrijfsgegevens")
    await eva.tap("boekhouder")
    await eva.tap("Leegmaken")
    shown = eva.texts(await eva.send("/instellingen")) + eva.texts(await eva.tap("Bonnen"))
    assert "staat er nog niet in (Bedrijfsgegevens): er gaat nog niets heen" in shown

    join(engine, company_id, 6001, Role.ACCOUNTANT)
    bob = chat(6001, first_name="Bob")
    await bob.send("/instellingen")
    assert "Bonnen naar je boekhouder: alle, zodra ze binnenkomen" in bob.texts(await bob.tap("Bonnen"))
    assert [label for label, _ in bob.buttons()] == ["◀ Instellingen"]
    assert "mag je niet" in bob.texts(await bob.press(pack(services.secret, 6001, "set.v", "receipt_sharing", "off")))
    assert setting(engine, company_id, "receipt_sharing") == "all"
