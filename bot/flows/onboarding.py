"""Setting up a company, the Exact Go steps as a conversation (flow ``onboarding``).

language → legal name (the company is created here, the person is its owner) → trade name →
street → postcode → city → KvK → btw-id → KOR → IBAN → € 0.01 IBAN check → logo → house colour
(then a preview of an example invoice) → accountant's e-mail → invoice numbers → payment term →
a summary with what to do next.

Every question can be skipped or gone back to; each answer is validated and stored at once by
``core.onboarding``, which also records the step, so an owner who comes back after a week (after a
restart, or after doing something else) continues where she stopped: ``/start`` calls
``resume_onboarding``.
"""
from __future__ import annotations

from dataclasses import replace

from telegram import InlineKeyboardButton, Message

from bot.flows import field_labels as L
from bot.flows.branding import colour_rows, read_upload, send_preview, start_iban_check
from bot.router import Turn, button, file_step, step
from core.models import Role
from core.numbering import format_number
from core.onboarding import (
    DONE,
    Progress,
    answer_logo,
    answer_step,
    current_progress,
    go_back,
    skip_step,
    start_company,
)

FLOW = "onboarding"
TEXT_STEPS = ("name", "trade_name", "street", "postcode", "city", "kvk", "vat_id", "iban", "color",
              "accountant_email", "numbering", "payment_term")
TAP_STEPS = ("language", "kor", "iban_check")

QUESTIONS = {
    "name": L.N_("What is the legal name of your business, as registered at the KvK? "
                 "For a one-man business (eenmanszaak) that is usually your own name."),
    "trade_name": L.N_("Do you have a trade name (handelsnaam) that your customers know you by? "
                       "Type it, or tap Skip."),
    "street": L.N_("Your business address. Street and house number?"),
    "postcode": L.N_("Postcode?"),
    "city": L.N_("City?"),
    "kvk": L.N_("Your KvK number (8 digits)?"),
    "vat_id": L.N_("Your VAT id (btw-id), for example NL000099998B57? You find it in the letter from the "
                   "Belastingdienst."),
    "kor": L.N_("Do you use the small business scheme (KOR)? Then your invoices carry no VAT."),
    "iban": L.N_("On which IBAN do your customers pay you?"),
    "iban_check": L.N_("Shall I check your IBAN with a payment of € 0.01 from that account? It proves the "
                       "account is yours. You can also do it later."),
    "logo": L.N_("Send your logo: as a photo, or as an image file (PNG or JPEG). Or tap Skip."),
    "color": L.N_("Choose your house colour for your invoices, or type one as #rrggbb."),
    "accountant_email": L.N_("What is your accountant's e-mail address? I can send receipts and invoices there."),
}


def _skip_back(turn: Turn, name: str, *, back: bool = True) -> list[InlineKeyboardButton]:
    row = [turn.button(turn.t("Skip"), "onb.skip", name)]
    if back:
        row.insert(0, turn.button("◀ " + turn.t("Back"), "onb.back", name))
    return row


def _question(turn: Turn, progress: Progress) -> tuple[str, list]:  # type: ignore[type-arg]
    name, company = progress.step, progress.company
    if name == "language":
        return (turn.t("Which language shall we speak?"),
                [[turn.button(label, "onb.lang", code) for code, label in L.LANGUAGES.items()],
                 [turn.button(turn.t("Skip"), "onb.skip", name)]])
    if name == "numbering":
        text = turn.t("Your invoices will be numbered {example}, then the next number, and so on "
                      "(pattern {pattern}). Keep this, or type your own pattern?",
                      example=company["example_number"], pattern=company["pattern_invoice"])
        return text, [[turn.button(turn.t("Keep"), "onb.skip", name), turn.button(turn.t("Change"), "onb.chg", name)],
                      [turn.button("◀ " + turn.t("Back"), "onb.back", name)]]
    if name == "payment_term":
        days = company["payment_term_days"]
        text = turn.t("Customers pay within {days} days by default. Keep this, or type another number of days?",
                      days=days)
        terms = [turn.button(turn.t("{days} days", days=d), "onb.term", d) for d in (14, 30) if d != days]
        return text, [[turn.button(turn.t("Keep {days} days", days=days), "onb.skip", name), *terms],
                      [turn.button("◀ " + turn.t("Back"), "onb.back", name)]]
    text = turn.t(QUESTIONS[name])
    current = company.get(name)
    if name in TEXT_STEPS and current:
        text += "\n" + turn.t("(Now: {value})", value=current)
    rows: list = []  # type: ignore[type-arg]
    if name == "kor":
        rows.append([turn.button(turn.t("Yes, I use the KOR"), "onb.kor", 1), turn.button(turn.t("No"), "onb.kor", 0)])
    elif name == "iban_check":
        rows.append([turn.button(turn.t("Check now"), "onb.check")])
    elif name == "color":
        rows.extend(colour_rows(turn, "onb.color", "onb.colorx"))
    rows.append(_skip_back(turn, name, back=name != "name" or turn.company_id is not None))
    return text, rows


async def ask(turn: Turn, progress: Progress, *, intro: str = "") -> None:
    """Ask the question of ``progress.step`` (or show the summary when everything is done)."""
    if progress.step == DONE:
        await _summary(turn, progress, intro=intro)
        return
    if progress.step == "iban_check" and turn.services.extra.get("payments") is None:
        if intro:
            await turn.say(intro)
        await start_iban_check(turn)            # says it can be done later; nothing is checked
        await ask(turn, await turn.db(skip_step, turn.company_id, turn.person_id, "iban_check",
                                      today=turn.services.today()))
        return
    turn.goto(FLOW, progress.step)
    text, rows = _question(turn, progress)
    await turn.say(f"{intro}\n\n{text}" if intro else text, keyboard=turn.keyboard(*rows))


async def begin_onboarding(turn: Turn) -> None:
    """A person without a company typed /start."""
    if turn.flow == FLOW and turn.step == "name":
        await _ask_name(turn, intro=turn.t("Welcome back! We were at the name of your business."))
        return
    turn.goto(FLOW, "language")
    await turn.say(turn.t("Welcome to Klerk! In a few short questions I set up your administration with you. "
                          "You can skip every question and change everything later with /instellingen.")
                   + "\n\n" + turn.t("Which language shall we speak?"),
                   keyboard=turn.keyboard([turn.button(label, "onb.lang", code) for code, label in L.LANGUAGES.items()],
                                          turn.button(turn.t("Skip"), "onb.skip", "language")))


async def _ask_name(turn: Turn, *, intro: str = "") -> None:
    turn.goto(FLOW, "name")
    text = turn.t(QUESTIONS["name"])
    await turn.say(f"{intro}\n\n{text}" if intro else text, keyboard=turn.keyboard(
        [turn.button("◀ " + turn.t("Back"), "onb.back", "name"), turn.button(turn.t("Skip"), "onb.skip", "name")]))


async def resume_onboarding(turn: Turn) -> None:
    """A member of a company typed /start: continue the set-up where it stopped, or welcome back."""
    progress, role = await turn.db(current_progress, turn.company_id, turn.person_id, today=turn.services.today())
    company = progress.company["trade_name"] or progress.company["name"]
    if role is not Role.OWNER:
        await turn.say(turn.t("Welcome back! You work in {company} as {role}. /help shows what you can do.",
                              company=company, role=turn.t(role.value)))
        return
    if progress.step == DONE:
        turn.finish()
        await turn.say(turn.t("Welcome back at {company}! Everything is set up. /help shows what you can do; "
                              "/instellingen changes your details.", company=company))
        return
    label = turn.t(L.COMPANY.get(progress.step, progress.step))
    await ask(turn, progress, intro=turn.t("Welcome back! We stopped at: {step}. Let's continue where you left off.",
                                           step=label))


async def _created(turn: Turn, progress: Progress) -> None:
    turn.switch_company(progress.company_id, Role.OWNER)
    await ask(turn, progress, intro=turn.t("✅ {name} is created, with you as its owner.",
                                           name=progress.company["name"]))


# ---- answers --------------------------------------------------------------------------------------

async def on_text(turn: Turn, text: str) -> None:
    if turn.company_id is None:
        if turn.step != "name":
            await begin_onboarding(turn)
            return
        await _created(turn, await turn.db(start_company, turn.person_id, text, language=turn.language,
                                           today=turn.services.today()))
        return
    answered = turn.step
    progress = await turn.db(answer_step, turn.company_id, turn.person_id, answered, text,
                             today=turn.services.today())
    await _after(turn, answered, progress)


for _name in TEXT_STEPS:
    step(FLOW, _name)(on_text)


async def _after(turn: Turn, answered: str, progress: Progress) -> None:
    if answered == "color":
        await send_preview(turn)
    await ask(turn, progress, intro=turn.t("✅ Saved."))


async def please_tap(turn: Turn, text: str) -> None:
    intro = turn.t("Please tap one of the buttons.")
    if turn.company_id is None:
        await ask(turn, Progress(step="language", company={}, missing=()), intro=intro)
        return
    progress, _role = await turn.db(current_progress, turn.company_id, turn.person_id, today=turn.services.today())
    await ask(turn, replace(progress, step=turn.step), intro=intro)


for _name in TAP_STEPS:
    step(FLOW, _name)(please_tap)


@step(FLOW, "logo")
async def logo_text(turn: Turn, text: str) -> None:
    await turn.say(turn.t("I am waiting for an image: send your logo as a photo or as a PNG or JPEG file, "
                          "or tap Skip."), keyboard=turn.keyboard(_skip_back(turn, "logo")))


@file_step(FLOW, "logo")
async def logo_file(turn: Turn, message: Message) -> None:
    data, _name = await read_upload(message)
    progress = await turn.db(answer_logo, turn.company_id, turn.person_id, data, today=turn.services.today())
    await ask(turn, progress, intro=turn.t("✅ Logo saved. Now the colour; then I show you an example invoice."))


@button("onb.lang", roles=None)
async def choose_language(turn: Turn, code: str) -> None:
    turn.language = "en" if code == "en" else "nl"
    if turn.company_id is None:
        await _ask_name(turn, intro=turn.t("Fine, we speak English."))   # nl: "Prima, we praten Nederlands."
        return
    await _after(turn, "language", await turn.db(answer_step, turn.company_id, turn.person_id, "language",
                                                 turn.language, today=turn.services.today()))


@button("onb.skip", roles=None)
async def skip(turn: Turn, name: str) -> None:
    if turn.company_id is None:
        if name == "language":
            await _ask_name(turn)
            return
        await _created(turn, await turn.db(start_company, turn.person_id, "", language=turn.language,
                                           today=turn.services.today()))
        return
    progress = await turn.db(skip_step, turn.company_id, turn.person_id, name, today=turn.services.today())
    if name == "color":
        await send_preview(turn)
    await ask(turn, progress)


@button("onb.back", roles=None)
async def back(turn: Turn, name: str) -> None:
    if turn.company_id is None:
        if name == "name":
            await begin_onboarding(turn)
        else:
            await _ask_name(turn)
        return
    await ask(turn, await turn.db(go_back, turn.company_id, turn.person_id, name, today=turn.services.today()))


@button("onb.kor", roles=None)
async def choose_kor(turn: Turn, value: str) -> None:
    await _after(turn, "kor", await turn.db(answer_step, turn.company_id, turn.person_id, "kor", value,
                                            today=turn.services.today()))


@button("onb.check", roles=None)
async def check_iban(turn: Turn) -> None:
    await start_iban_check(turn)
    await ask(turn, await turn.db(skip_step, turn.company_id, turn.person_id, "iban_check",
                                  today=turn.services.today()))


@button("onb.color", roles=None)
async def choose_colour(turn: Turn, code: str) -> None:
    await _after(turn, "color", await turn.db(answer_step, turn.company_id, turn.person_id, "color", "#" + code,
                                              today=turn.services.today()))


@button("onb.colorx", roles=None)
async def other_colour(turn: Turn) -> None:
    turn.goto(FLOW, "color")
    await turn.say(turn.t("Type your colour as #rrggbb, for example {example}.", example="#3a7d44"))


@button("onb.chg", roles=None)
async def change(turn: Turn, name: str) -> None:
    turn.goto(FLOW, name)
    if name == "numbering":
        example = "F{year}-{seq:03}"
        await turn.say(turn.t("Type the pattern: {year} becomes the year, {seq} the sequence number and {seq4} the "
                              "sequence number with leading zeros. Example: {example} gives {result}.",
                              year="{year}", seq="{seq}", seq4="{seq:04}", example=example,
                              result=format_number(example, year=turn.services.today().year, seq=1)))
    else:
        await turn.say(turn.t("Type the number of days."))


@button("onb.term", roles=None)
async def choose_term(turn: Turn, days: str) -> None:
    await _after(turn, "payment_term", await turn.db(answer_step, turn.company_id, turn.person_id, "payment_term",
                                                     days, today=turn.services.today()))


# ---- the end ---------------------------------------------------------------------------------------

async def _summary(turn: Turn, progress: Progress, *, intro: str = "") -> None:
    c = progress.company
    yes_no = {True: turn.t("yes"), False: turn.t("no")}
    address = ", ".join(p for p in (c["street"], f"{c['postcode']} {c['city']}".strip()) if p) or "—"
    iban = c["iban"] or "—"
    if c["iban"]:
        iban += " " + (turn.t("(checked)") if c["iban_verified"] else turn.t("(not checked yet)"))
    rows = [
        (L.COMPANY["name"], c["name"]), (L.COMPANY["trade_name"], c["trade_name"] or "—"),
        (L.N_("Address"), address), (L.COMPANY["kvk"], c["kvk"] or "—"), (L.COMPANY["vat_id"], c["vat_id"] or "—"),
        (L.COMPANY["kor"], yes_no[c["kor"]]), (L.COMPANY["iban"], iban), (L.COMPANY["logo"], yes_no[c["has_logo"]]),
        (L.COMPANY["color"], c["color"]), (L.COMPANY["accountant_email"], c["accountant_email"] or "—"),
        (L.COMPANY["numbering"], c["example_number"]),
        (L.COMPANY["payment_term"], turn.t("{days} days", days=c["payment_term_days"])),
    ]
    lines = [f"{intro}\n" if intro else "", turn.t("🎉 Your company is set up. This is what I know:")]
    lines += [f"• {turn.t(label)}: {value}" for label, value in rows]
    if progress.missing:
        lines.append("\n" + turn.t("Your invoices still need: {fields}. Add them with /instellingen.",
                                   fields=", ".join(turn.t(L.COMPANY[f]) for f in progress.missing)))
    lines.append("\n" + turn.t(
        "What next?\n• type an invoice in one sentence, e.g. “factuur Acme 8 uur advies à 75”\n"
        "• /klanten: add your customers\n• /artikelen: your standard items and prices\n"
        "• /team: invite your accountant or staff\n• /instellingen: change anything you entered"))
    turn.finish()
    await turn.say("\n".join(line for line in lines if line))
