"""The set-up conversation through the real Application, in Dutch and English: every step, skipping,
going back, bad input, a restart halfway (a new Application on the same database) and the € 0.01
IBAN check with and without a payment service. Asserts on the replies and on the database.
"""
from __future__ import annotations

import ast
import io
from datetime import timedelta
from pathlib import Path

from PIL import Image
from sqlmodel import select

from bot.app import build_application
from bot.callbacks import pack
from core import storage
from core.company_settings import get_setting
from core.i18n import translations
from core.models import ChatState, Company, Membership, Person, Role
from tests.bot.harness import ChatDriver, RecordingRequest
from tests.conftest import NOW

REPO = Path(__file__).resolve().parents[2]


def logo_png(colour: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    image = Image.new("RGB", (240, 120), (255, 255, 255))
    for x in range(20, 220):
        for y in range(20, 100):
            image.putpixel((x, y), colour)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def company_of(engine, telegram_user_id: int) -> Company | None:  # type: ignore[no-untyped-def]
    with storage.session_scope(engine) as s:
        person = s.exec(select(Person).where(Person.telegram_user_id == telegram_user_id)).first()
        if person is None:
            return None
        membership = s.exec(select(Membership).where(Membership.person_id == person.id)).first()
        return s.get(Company, membership.company_id) if membership else None


def chat_step(engine, chat_id: int) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    with storage.session_scope(engine) as s:
        state = s.get(ChatState, (chat_id, chat_id))
        return (state.flow, state.step) if state else ("", "")


def progress_of(engine, company_id: int) -> str | None:  # type: ignore[no-untyped-def]
    with storage.session_scope(engine) as s:
        return get_setting(s, company_id, "onboarding_step")


async def test_complete_onboarding_in_dutch(chat, engine) -> None:  # type: ignore[no-untyped-def]
    eva = chat(5001)
    assert "Welkom bij Klerk" in eva.texts(await eva.send("/start"))
    assert "officiële naam" in eva.texts(await eva.tap("Nederlands"))
    assert "Studio Vos is aangemaakt" in eva.texts(await eva.send("Studio Vos"))
    with storage.session_scope(engine) as s:
        roles = [m.role for m in s.exec(select(Membership))]
    assert roles == [Role.OWNER]                          # created at the first step with a name
    await eva.send("Studio Vos Ontwerp")
    await eva.send("Keizersgracht 123")
    await eva.send("1015cj")
    assert "KvK-nummer" in eva.texts(await eva.send("Amsterdam"))
    assert "btw-id" in eva.texts(await eva.send("12345678"))
    assert "KOR" in eva.texts(await eva.send("NL000099998B57"))
    assert "IBAN" in eva.texts(await eva.tap("Nee"))
    replies = await eva.send("NL91 ABNA 0417 1643 00")
    assert "later via /instellingen" in eva.texts(replies)              # no payment service: later
    assert "logo" in eva.texts(replies)
    assert "huiskleur" in eva.texts(await eva.send_photo(logo_png()))
    replies = await eva.tap("Petrol")
    methods = [c.method for c in replies]
    assert methods[:2] == ["sendChatAction", "sendPhoto"]
    assert replies[0].params["action"] == "upload_photo"
    photo = replies[1].files["photo"]
    assert photo[:8] == b"\x89PNG\r\n\x1a\n" and len(photo) > 20_000
    assert "boekhouder" in eva.texts(replies)
    assert "2026-0001" in eva.texts(await eva.send("boekhouder@example.nl"))
    assert "30 dagen" in eva.texts(await eva.tap("Zo laten"))
    summary = eva.texts(await eva.tap("14 dagen"))
    assert "Je bedrijf is ingesteld" in summary and "Studio Vos Ontwerp" in summary
    assert "/klanten" in summary and "ontbreekt" not in summary

    company = company_of(engine, 5001)
    assert (company.name, company.trade_name, company.street, company.postcode, company.city) == (
        "Studio Vos", "Studio Vos Ontwerp", "Keizersgracht 123", "1015 CJ", "Amsterdam")
    assert (company.kvk, company.vat_id, company.kor) == ("12345678", "NL000099998B57", False)
    assert company.iban == "NL91ABNA0417164300" and company.iban_verified_at is None
    assert company.logo == logo_png() and company.logo_mime == "image/png"
    assert (company.color, company.accountant_email) == ("#00796b", "boekhouder@example.nl")
    assert (company.pattern_invoice, company.payment_term_days, company.language) == ("{year}-{seq:04}", 14, "nl")
    assert progress_of(engine, company.id) == "done"
    assert chat_step(engine, 5001) == ("", "")


async def test_complete_onboarding_in_english_with_own_choices(chat, engine) -> None:  # type: ignore[no-untyped-def]
    eva = chat(5002, language="en")
    await eva.send("/start")
    assert "legal name" in eva.texts(await eva.tap("English"))
    assert "is created" in eva.texts(await eva.send("Vos & Zn"))
    await eva.tap("Skip")                                            # trade name
    await eva.send("Dorpsstraat 1")
    await eva.send("3512 AB")
    await eva.send("Utrecht")
    await eva.send("8765 4321")
    await eva.send("nl853746333b01")
    assert "IBAN" in eva.texts(await eva.tap("Yes, I use the KOR"))
    await eva.send("NL91ABNA0417164300")
    # the logo as an image file instead of a photo
    assert "house colour" in eva.texts(await eva.send_document(logo_png((0, 0, 200)), "logo.png", "image/png"))
    assert "#rrggbb" in eva.texts(await eva.tap("Other"))
    assert "#rrggbb" in eva.texts(await eva.send("blue"))           # refused, stays
    replies = await eva.send("#3A7D44")
    assert any(c.method == "sendPhoto" for c in replies)
    assert "invoices will look" in eva.texts(replies)
    await eva.tap("Skip")                                            # accountant
    assert "Type the pattern" in eva.texts(await eva.tap("Change"))
    assert "⚠️" in eva.texts(await eva.send("F{jaar}-{seq}"))
    assert "30 days" in eva.texts(await eva.send("F{year}-{seq:03}"))
    assert "⚠️" in eva.texts(await eva.send("12,5,0"))
    summary = eva.texts(await eva.send("21"))
    assert "Your company is set up" in summary and "F2026-001" in summary and "21 days" in summary

    company = company_of(engine, 5002)
    assert (company.name, company.trade_name, company.kvk, company.vat_id) == ("Vos & Zn", "", "87654321",
                                                                                "NL853746333B01")
    assert company.kor is True and company.color == "#3a7d44" and company.logo == logo_png((0, 0, 200))
    assert (company.pattern_invoice, company.payment_term_days, company.language) == ("F{year}-{seq:03}", 21, "en")
    with storage.session_scope(engine) as s:
        assert s.exec(select(Person).where(Person.telegram_user_id == 5002)).one().language == "en"


async def test_skipping_every_step(chat, engine) -> None:  # type: ignore[no-untyped-def]
    eva = chat(5003, first_name="Eva de Boer")
    await eva.send("/start")
    await eva.tap("Overslaan")                                   # language: stays Dutch
    assert "Eva de Boer is aangemaakt" in eva.texts(await eva.tap("Overslaan"))   # her own name
    for _ in range(7):                                           # trade name .. KOR
        await eva.tap("Overslaan")
    replies = await eva.tap("Overslaan")                         # IBAN: no IBAN, so no check step
    assert "€ 0,01" not in eva.texts(replies) and "logo" in eva.texts(replies)
    await eva.tap("Overslaan")                                   # logo
    assert any(c.method == "sendPhoto" for c in await eva.tap("Overslaan")) # colour: preview anyway
    await eva.tap("Overslaan")                                   # accountant
    await eva.tap("Zo laten")                                    # numbers
    summary = eva.texts(await eva.tap("30 dagen laten"))
    assert "Op je facturen ontbreekt nog: Straat en huisnummer, Postcode, Plaats, KvK-nummer, Btw-id, IBAN" in summary
    company = company_of(engine, 5003)
    assert (company.name, company.kvk, company.iban, company.logo, company.color) == ("Eva de Boer", "", "", None,
                                                                                     "#1f4e79")
    assert progress_of(engine, company.id) == "done"
    assert "Alles is ingesteld" in eva.texts(await eva.send("/start"))


async def test_resume_after_a_restart_a_week_later(chat, engine, services, clock) -> None:  # type: ignore[no-untyped-def]
    eva = chat(5004)
    await eva.send("/start")
    await eva.tap("Nederlands")
    await eva.send("Studio Vos")
    await eva.tap("Overslaan")
    await eva.send("Keizersgracht 123")
    await eva.send("1015 CJ")
    assert "KvK" in eva.texts(await eva.send("Amsterdam"))

    clock.now = NOW + timedelta(days=7)
    request = RecordingRequest()
    app = build_application(services, token="123:TEST", request=request, deliver_notifications=False)
    async with app:                                   # a new process: nothing in memory
        again = ChatDriver(app, request, 5004)
        replies = await again.send("/start")
        assert "Welkom terug! We waren gebleven bij: KvK-nummer" in again.texts(replies)
        assert "btw-id" in again.texts(await again.send("12345678"))
        # she does something else in between; /start still finds the step in the database
        await again.send("/cancel")
        assert chat_step(engine, 5004) == ("", "")
        assert "We waren gebleven bij: Btw-id" in again.texts(await again.send("/start"))
        await again.send("NL000099998B57")
    company = company_of(engine, 5004)
    assert (company.kvk, company.vat_id, company.city) == ("12345678", "NL000099998B57", "Amsterdam")
    assert progress_of(engine, company.id) == "kor" and chat_step(engine, 5004) == ("onboarding", "kor")


async def test_resume_in_a_new_application_without_start(chat, engine, services) -> None:  # type: ignore[no-untyped-def]
    eva = chat(5005, language="en")
    await eva.send("/start")
    await eva.tap("English")
    await eva.send("Studio Vos")
    request = RecordingRequest()
    app = build_application(services, token="123:TEST", request=request, deliver_notifications=False)
    async with app:
        again = ChatDriver(app, request, 5005, language="en")
        assert "Street and house number" in again.texts(await again.send("Vos Design"))
    assert company_of(engine, 5005).trade_name == "Vos Design"


async def test_bad_input_is_answered_and_the_step_stays(chat, engine) -> None:  # type: ignore[no-untyped-def]
    eva = chat(5006)
    await eva.send("/start")
    await eva.tap("Nederlands")
    assert "Te lang" in eva.texts(await eva.send("x" * 300))       # a name over 200 characters
    assert company_of(engine, 5006) is None
    await eva.send("Studio Vos")
    await eva.tap("Overslaan")
    assert "te lang" in eva.texts(await eva.send("k" * 5000)).lower()  # over the chat limit
    await eva.send("Keizersgracht 123")
    assert "postcode" in eva.texts(await eva.send("12345")).lower()
    assert chat_step(engine, 5006) == ("onboarding", "postcode")
    await eva.send("1015 CJ")
    await eva.send("Amsterdam")
    assert "8 cijfers" in eva.texts(await eva.send("1234567🙂"))
    assert "8 cijfers" in eva.texts(await eva.send("KvK 12345678 graag"))
    await eva.send("12345678")
    assert "btw-id" in eva.texts(await eva.send("NL123")).lower()
    await eva.tap("Overslaan")
    assert "Tik op een van de knoppen" in eva.texts(await eva.send("ja hoor"))   # KOR wants a tap
    await eva.tap("Nee")
    assert "IBAN" in eva.texts(await eva.send("NL00 BANK 0000 0000 00"))
    await eva.send("NL91ABNA0417164300")
    # the logo step: a PDF, text, and bytes that only look like an image
    assert "Dat is een pdf" in eva.texts(await eva.send_document(b"%PDF-1.7 fake", "logo.pdf", "application/pdf"))
    assert "Dat is een pdf" in eva.texts(await eva.send_document(b"%PDF-1.7 fake", "logo.png", "image/png"))
    assert "Ik wacht op een afbeelding" in eva.texts(await eva.send("hier is mijn logo"))
    assert "beschadigd" in eva.texts(await eva.send_photo(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40))
    calls_before = len(eva.request.calls)
    huge = await eva._process({"message": eva._message(document={
        "file_id": "big", "file_unique_id": "big", "file_name": "logo.png", "mime_type": "image/png",
        "file_size": 25 * 1024 * 1024})})                      # over the Bot API's download limit
    assert "te groot" in eva.texts(huge)
    assert "getFile" not in [c.method for c in eva.request.calls[calls_before:]]
    assert chat_step(engine, 5006) == ("onboarding", "logo")
    company = company_of(engine, 5006)
    assert (company.street, company.postcode, company.kvk, company.vat_id, company.logo) == (
        "Keizersgracht 123", "1015 CJ", "12345678", "", None)
    assert progress_of(engine, company.id) == "logo"


async def test_going_back_shows_the_answer_and_changes_it(chat, engine) -> None:  # type: ignore[no-untyped-def]
    eva = chat(5007)
    await eva.send("/start")
    await eva.tap("Nederlands")
    await eva.send("Studio Vos")
    await eva.tap("Overslaan")
    await eva.send("Keizersgracht 123")
    await eva.send("1015 CJ")
    await eva.send("Amsterdam")
    assert "(Nu: Amsterdam)" in eva.texts(await eva.tap("Terug"))
    assert "KvK" in eva.texts(await eva.send("Haarlem"))
    assert company_of(engine, 5007).city == "Haarlem"


class FakePayments:
    """The payment provider edge (another engineer's ``core/payments``), injected through Services."""

    def __init__(self) -> None:
        self.checks: list[int] = []

    def start_iban_check(self, company_id: int) -> str:
        self.checks.append(company_id)
        return f"https://pay.example/iban-check/{company_id}"


async def test_iban_check_offered_when_payments_are_there(chat, engine, services) -> None:  # type: ignore[no-untyped-def]
    payments = FakePayments()
    services.extra["payments"] = payments
    eva = chat(5008)
    await eva.send("/start")
    await eva.tap("Nederlands")
    await eva.send("Studio Vos")
    for _ in range(7):
        await eva.tap("Overslaan")
    replies = await eva.send("NL91ABNA0417164300")
    assert "€ 0,01" in eva.texts(replies) and "Nu controleren" in [label for label, _ in eva.buttons()]
    replies = await eva.tap("Nu controleren")
    link = next(c for c in replies if "Betaal € 0,01" in c.text)
    markup = link.params["reply_markup"]
    assert "https://pay.example/iban-check/" in str(markup)
    assert "logo" in eva.texts(replies)
    company = company_of(engine, 5008)
    assert payments.checks == [company.id] and company.iban_verified_at is None


async def test_onboarding_buttons_refuse_someone_who_is_not_the_owner(chat, engine, services) -> None:  # type: ignore[no-untyped-def]
    eva = chat(5009)
    await eva.send("/start")
    await eva.tap("Nederlands")
    await eva.send("Studio Vos")
    company = company_of(engine, 5009)
    from core.companies import add_member, get_or_create_person

    with storage.session_scope(engine) as s:
        bob = get_or_create_person(s, telegram_user_id=6009, name="Bob")
        add_member(s, company.id, bob.id, Role.STAFF)
    bob_chat = chat(6009, first_name="Bob")
    assert "Je werkt in Studio Vos als medewerker" in bob_chat.texts(await bob_chat.send("/start"))
    signed = pack(services.secret, 6009, "onb.skip", "trade_name")
    assert "mag je niet" in bob_chat.texts(await bob_chat.press(signed))
    assert progress_of(engine, company.id) == "trade_name"


def _msgids(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        index = 1 if name == "ValidationError" else 0
        if name in ("t", "N_", "ValidationError") and len(node.args) > index \
                and isinstance(node.args[index], ast.Constant) and isinstance(node.args[index].value, str):
            found.append(node.args[index].value)
    return found


def test_every_text_of_these_flows_has_a_dutch_translation() -> None:
    files = [REPO / "bot" / "flows" / f"{n}.py" for n in ("onboarding", "settings", "contacts", "items", "team",
                                                          "branding", "field_labels")]
    files += [REPO / "core" / f for f in ("onboarding.py", "intake.py", "team.py", "company_files.py",
                                          "company_settings/__init__.py", "company_settings/editing.py")]
    catalogue = translations("nl")._catalog
    ids = [m for f in files for m in _msgids(f)]
    assert len(ids) > 200
    missing = sorted({m for m in ids if m not in catalogue})
    assert missing == []
