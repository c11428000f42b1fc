"""/instellingen and /settings: a menu of everything about the company (flow ``settings``).

Sections: company details · bank, VAT and payment · e-mail · logo and colour · numbering ·
reminders · texts on documents · terms and conditions · receipts (what goes to the accountant,
replies to senders) · team. A section lists its values; tapping a
field asks for the new value, which ``core.company_settings.editing.change_setting`` validates (a
``ValidationError`` is answered and the question stays open). Owner and staff edit; the accountant
sees the values without buttons (and the edit buttons refuse her).
"""
from __future__ import annotations

from telegram import Message

from bot.flows import field_labels as L
from bot.flows.branding import colour_rows, read_upload, send_preview, start_iban_check
from bot.router import ANYONE, Turn, button, command, file_step, step
from core.company_files import remove_logo, remove_terms_pdf, store_logo, store_terms_pdf
from core.company_settings import MAIL_PLACEHOLDERS, REMINDER_PLACEHOLDERS
from core.company_settings.editing import FIELDS, SettingsView, change_setting, settings_view
from core.numbering import format_number

FLOW = "settings"

SECTIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "company": (L.N_("Company details"), ("name", "trade_name", "street", "postcode", "city", "country", "kvk",
                                          "vat_id", "email", "phone", "website", "accountant_email", "language")),
    "money": (L.N_("Bank, VAT and payment"), ("iban", "bic", "payment_term_days", "quote_valid_days")),
    "mail": (L.N_("E-mail"), ("mail_sender_name", "mail_reply_to", "mail_subject_nl", "mail_subject_en",
                              "mail_body_nl", "mail_body_en")),
    "brand": (L.N_("Logo and colour"), ()),
    "numbers": (L.N_("Numbering"), ("pattern_invoice", "pattern_quote", "pattern_credit_note")),
    "remind": (L.N_("Reminders"), ("reminder_days", "reminder_text_1_nl", "reminder_text_1_en", "reminder_text_2_nl",
                                   "reminder_text_2_en", "reminder_text_3_nl", "reminder_text_3_en")),
    "texts": (L.N_("Texts on invoices and quotes"), ("invoice_intro", "invoice_outro", "quote_intro", "quote_outro")),
    "terms": (L.N_("Terms and conditions"), ()),
    "receipts": (L.N_("Receipts"), ()),
}
SECTION_OF = {code: section for section, (_, codes) in SECTIONS.items() for code in codes} | {
    "kor": "money", "color": "brand", "payment_mail": "mail", "receipt_sharing": "receipts",
    "receipt_replies": "receipts"}
HINTS = {
    "pattern_invoice": L.N_("{year} becomes the year and {seq} the sequence number; {seq4} pads it with zeros."),
    "reminder_days": L.N_("Three numbers of days after the due date, for example 3,14,28."),
    "mail_reply_to": L.N_("Replies of your customers go to this address."),
    "country": L.N_("A two-letter code, such as NL or BE."),
}
HINTS["pattern_quote"] = HINTS["pattern_credit_note"] = HINTS["pattern_invoice"]
PLACEHOLDERS = {"mail_subject_": MAIL_PLACEHOLDERS, "mail_body_": MAIL_PLACEHOLDERS,
                "reminder_text_": REMINDER_PLACEHOLDERS}


@command("instellingen", "settings", roles=ANYONE, menu=("Instellingen van je bedrijf", "Company settings"))
async def settings_menu(turn: Turn, argument: str = "") -> None:
    view = await turn.db(settings_view, turn.company_id, turn.person_id)
    turn.goto(FLOW, "menu")
    rows = [turn.button(turn.t(label), "set.m", code) for code, (label, _) in SECTIONS.items()]
    grid = [rows[i:i + 2] for i in range(0, len(rows), 2)]
    grid.append([turn.button(turn.t("Team"), "set.team")])
    if view.can_edit and not view.setup_done:
        grid.append([turn.button(turn.t("Continue the set-up"), "set.onb")])
    text = turn.t("Settings of {company}. What do you want to see or change?", company=view.company_name)
    if not view.can_edit:
        text += "\n" + turn.t("You can look, but not change anything.")
    await turn.say(text, keyboard=turn.keyboard(*grid))


def _value_line(turn: Turn, view: SettingsView, code: str) -> str:
    value = view.values.get(code, "")
    if code.startswith("pattern_") and value:
        value = f"{value} → {format_number(value, year=turn.services.today().year, seq=1)}"
    elif code == "language":
        value = L.LANGUAGES.get(value, value)
    elif code == "iban" and value:
        value += " " + (turn.t("(checked)") if view.iban_verified else turn.t("(not checked yet)"))
    return f"• {turn.t(L.COMPANY[code])}: {L.shown(value, turn.language, turn.t).replace(chr(10), ' ')[:80]}"


@button("set.m", roles=ANYONE)
async def open_section(turn: Turn, section: str) -> None:
    await show_section(turn, section)


async def show_section(turn: Turn, section: str, intro: str = "") -> None:
    if section not in SECTIONS:
        await settings_menu(turn)
        return
    view = await turn.db(settings_view, turn.company_id, turn.person_id)
    turn.goto(FLOW, "menu")
    title, codes = SECTIONS[section]
    lines = ([intro, ""] if intro else []) + ["⚙️ " + turn.t(title)]
    lines += [_value_line(turn, view, code) for code in codes]
    rows: list = []  # type: ignore[type-arg]
    if view.can_edit:
        buttons = [turn.button(turn.t(L.COMPANY[code]), "set.f", code) for code in codes]
        rows = [buttons[i:i + 2] for i in range(0, len(buttons), 2)]
    extra_lines, extra_rows = _special(turn, section, view)
    lines += extra_lines
    rows += extra_rows if view.can_edit else []
    rows.append([turn.button("◀ " + turn.t("Settings"), "set.menu")])
    await turn.say("\n".join(lines), keyboard=turn.keyboard(*rows))


def _special(turn: Turn, section: str, view: SettingsView) -> tuple[list[str], list]:  # type: ignore[type-arg]
    yes_no = {True: turn.t("yes"), False: turn.t("no")}
    if section == "money":
        rows = [[turn.button(turn.t("KOR off") if view.kor else turn.t("KOR on"), "set.kor", 0 if view.kor else 1)]]
        if view.values["iban"] and not view.iban_verified:
            rows.append([turn.button(turn.t("Check my IBAN (€ 0.01)"), "set.iban")])
        return [f"• {turn.t(L.COMPANY['kor'])}: {yes_no[view.kor]}"], rows
    if section == "brand":
        rows = [[turn.button(turn.t("Send a new logo"), "set.logo")]]
        if view.has_logo:
            rows[0].append(turn.button(turn.t("Remove the logo"), "set.nologo"))
        rows += colour_rows(turn, "set.color", "set.colorx")
        rows.append([turn.button(turn.t("Show an example invoice"), "set.prev")])
        return [f"• {turn.t(L.COMPANY['logo'])}: {yes_no[view.has_logo]}",
                f"• {turn.t(L.COMPANY['color'])}: {view.values['color']}"], rows
    if section == "mail":
        on = view.values.get("payment_mail") == "on"
        rows = [[turn.button(turn.t("🔕 No payment mails") if on else turn.t("📬 Mail me every payment"),
                             "set.pmail", "off" if on else "on")]]
        line = f"• {turn.t(L.COMPANY['payment_mail'])}: {yes_no[on]}"
        if on and not view.values.get("email"):
            line += " " + turn.t("(your company has no e-mail address yet)")
        return [line], rows
    if section == "receipts":
        return _receipt_settings(turn, view)
    if section == "terms":
        rows = [[turn.button(turn.t("Send a PDF"), "set.terms")]]
        if view.terms_filename:
            rows[0].append(turn.button(turn.t("Remove"), "set.noterms"))
        name = view.terms_filename or turn.t("none")
        return [turn.t("Your terms and conditions: {name}. They are added after every invoice and quote.",
                       name=name)], rows
    return [], []


def _receipt_settings(turn: Turn, view: SettingsView) -> tuple[list[str], list]:  # type: ignore[type-arg]
    mode = view.values.get("receipt_sharing") or "confirmed"
    replies = view.values.get("receipt_replies") or "on"
    said = L.SETTING_CHOICES
    lines = [f"• {turn.t(L.COMPANY['receipt_sharing'])}: {turn.t(said['receipt_sharing'][mode])}",
             f"• {turn.t(L.COMPANY['receipt_replies'])}: {turn.t(said['receipt_replies'][replies])}"]
    if mode != "off" and not view.values.get("accountant_email"):
        lines.append(turn.t("Your accountant's e-mail address is not set yet (Company details): nothing is sent."))
    rows = [[turn.button(turn.t(label), "set.v", "receipt_sharing", value)
             for value, label in said["receipt_sharing"].items() if value != mode],
            [turn.button(turn.t("🔕 No replies to senders") if replies == "on" else turn.t("✉️ Reply to senders"),
                         "set.v", "receipt_replies", "off" if replies == "on" else "on")]]
    return lines, rows


@button("set.menu", roles=ANYONE)
async def back_to_menu(turn: Turn) -> None:
    await settings_menu(turn)


@button("set.f")
async def ask_value(turn: Turn, code: str) -> None:
    view = await turn.db(settings_view, turn.company_id, turn.person_id)
    if code not in FIELDS:
        await settings_menu(turn)
        return
    turn.goto(FLOW, "value", field=code)
    current = L.shown(view.values.get(code, ""), turn.language, turn.t)
    text = turn.t("{label}\nNow: {value}\nType the new value.", label=turn.t(L.COMPANY[code]), value=current)
    if code in HINTS:
        text += "\n" + turn.t(HINTS[code], year="{year}", seq="{seq}", seq4="{seq:04}")
    placeholders = next((names for prefix, names in PLACEHOLDERS.items() if code.startswith(prefix)), None)
    if placeholders:
        text += "\n" + turn.t("You can use: {placeholders}. Empty means: the standard text.",
                              placeholders=" ".join("{" + p + "}" for p in placeholders))
    row = []
    if code == "language":
        row = [turn.button(label, "set.v", code, lang) for lang, label in L.LANGUAGES.items()]
    elif not FIELDS[code].required:
        row = [turn.button(turn.t("Clear"), "set.v", code, "")]
    back = turn.button("◀ " + turn.t("Back"), "set.m", SECTION_OF.get(code, "company"))
    await turn.say(text, keyboard=turn.keyboard(row + [back]))


async def _save(turn: Turn, code: str, value: object) -> None:
    shown = await turn.db(change_setting, turn.company_id, turn.person_id, code, value, now=turn.services.now())
    choices = L.SETTING_CHOICES.get(code, {})
    said = turn.t(choices[shown]) if shown in choices else L.shown(shown, turn.language, turn.t)[:200]
    intro = turn.t("✅ Saved: {label} is now {value}.", label=turn.t(L.COMPANY[code]), value=said)
    if code == "color":
        await send_preview(turn)
    await show_section(turn, SECTION_OF.get(code, "brand"), intro=intro)


@step(FLOW, "value")
async def type_value(turn: Turn, text: str) -> None:
    await _save(turn, turn.data.get("field", ""), text)


@button("set.v")
async def tap_value(turn: Turn, code: str, value: str = "") -> None:
    await _save(turn, code, value)


@button("set.kor")
async def toggle_kor(turn: Turn, on: str) -> None:
    await _save(turn, "kor", on == "1")


@button("set.pmail")
async def toggle_payment_mail(turn: Turn, value: str) -> None:
    await _save(turn, "payment_mail", value)


@button("set.iban")
async def check_iban(turn: Turn) -> None:
    await start_iban_check(turn)


# ---- logo, colour and preview -------------------------------------------------------------------

@button("set.logo")
async def ask_logo(turn: Turn) -> None:
    turn.goto(FLOW, "logo")
    await turn.say(turn.t("Send your logo: as a photo, or as an image file (PNG or JPEG)."),
                   keyboard=turn.keyboard(turn.button("◀ " + turn.t("Back"), "set.m", "brand")))


@step(FLOW, "logo")
async def logo_text(turn: Turn, text: str) -> None:
    await turn.say(turn.t("I am waiting for an image: send your logo as a photo or as a PNG or JPEG file. "
                          "/cancel stops."))


@file_step(FLOW, "logo")
async def logo_file(turn: Turn, message: Message) -> None:
    data, _name = await read_upload(message)
    await turn.db(store_logo, turn.company_id, turn.person_id, data)
    await send_preview(turn)
    await show_section(turn, "brand", intro=turn.t("✅ Logo saved."))


@button("set.nologo")
async def drop_logo(turn: Turn) -> None:
    await turn.db(remove_logo, turn.company_id, turn.person_id)
    await show_section(turn, "brand", intro=turn.t("✅ The logo is removed."))


@button("set.color")
async def choose_colour(turn: Turn, code: str) -> None:
    await turn.db(change_setting, turn.company_id, turn.person_id, "color", "#" + code)
    await send_preview(turn)
    await show_section(turn, "brand", intro=turn.t("✅ Saved: {label} is now {value}.",
                                                   label=turn.t(L.COMPANY["color"]), value="#" + code))


@button("set.colorx")
async def other_colour(turn: Turn) -> None:
    turn.goto(FLOW, "value", field="color")
    await turn.say(turn.t("Type your colour as #rrggbb, for example {example}.", example="#3a7d44"))


@button("set.prev", roles=ANYONE)
async def preview(turn: Turn) -> None:
    await send_preview(turn)


# ---- terms and conditions -----------------------------------------------------------------------

@button("set.terms")
async def ask_terms(turn: Turn) -> None:
    turn.goto(FLOW, "terms")
    await turn.say(turn.t("Send your terms and conditions as a PDF document. I add them after every invoice "
                          "and quote."), keyboard=turn.keyboard(turn.button("◀ " + turn.t("Back"), "set.m", "terms")))


@step(FLOW, "terms")
async def terms_text(turn: Turn, text: str) -> None:
    await turn.say(turn.t("I am waiting for a PDF document with your terms and conditions. /cancel stops."))


@file_step(FLOW, "terms")
async def terms_file(turn: Turn, message: Message) -> None:
    data, name = await read_upload(message)
    pages = await turn.db(store_terms_pdf, turn.company_id, turn.person_id, data, name)
    await show_section(turn, "terms", intro=turn.t("✅ Your terms and conditions are saved ({pages} pages).",
                                                   pages=pages))


@button("set.noterms")
async def drop_terms(turn: Turn) -> None:
    await turn.db(remove_terms_pdf, turn.company_id, turn.person_id)
    await show_section(turn, "terms", intro=turn.t("✅ Your terms and conditions are removed."))


# ---- elsewhere ----------------------------------------------------------------------------------

@button("set.team", roles=ANYONE)
async def team(turn: Turn) -> None:
    from bot.flows.team import show_team

    await show_team(turn)


@button("set.onb")
async def continue_setup(turn: Turn) -> None:
    from bot.flows.onboarding import resume_onboarding

    await resume_onboarding(turn)
