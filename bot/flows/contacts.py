"""/klanten, /contacts, /klant: customers and suppliers (flow ``contacts``).

New contact in a few messages (name → business or consumer → address → country → e-mail → KvK →
btw-id → payment term → VAT treatment → send format → language; ``core.intake`` decides which apply
and stores each answer at once); find one by typing part of the name (results as buttons); show it;
edit any field, its categories and notes; archive it. Owner and staff change contacts; the
accountant looks them up only.
"""
from __future__ import annotations

from bot.flows import field_labels as L
from bot.router import ANYONE, STAFF, Turn, button, command, step
from core.intake import (
    CONTACT_EDITABLE,
    DONE,
    ContactCard,
    NextQuestion,
    answer_contact,
    archive_contact,
    contact_card,
    edit_contact,
    require_editor,
    search_contacts,
    skip_contact_step,
    start_contact,
)
from core.models import ContactKind

FLOW = "contacts"
NEW_WORDS = {"nieuw", "new", "nieuwe", "+"}
SUPPLIER_WORDS = {"leverancier", "supplier"}
TEXT_STEPS = ("street", "postcode", "city", "country", "email", "kvk", "vat_id", "payment_term_days")
TAP_STEPS = ("is_business", "vat_treatment", "send_format", "language")
CHOICE_FIELDS = ("kind", "is_business", "vat_treatment", "send_format", "language")
REQUIRED = ("name",)
QUESTIONS = {
    "is_business": L.N_("Is {name} a business or a consumer?"),
    "street": L.N_("Street and house number?"),
    "postcode": L.N_("Postcode?"),
    "city": L.N_("City?"),
    "country": L.N_("Country? Tap one, or type a two-letter code such as FR."),
    "email": L.N_("To which e-mail address do invoices go?"),
    "kvk": L.N_("KvK number of {name}?"),
    "vat_id": L.N_("VAT id (btw-id) of {name}?"),
    "payment_term_days": L.N_("Payment term: how many days does {name} get to pay? Tap one or type a number."),
    "vat_treatment": L.N_("Which VAT applies to invoices for {name}?"),
    "send_format": L.N_("How shall I send invoices to {name}?"),
    "language": L.N_("In which language do invoices and mails go to {name}?"),
}


@command("klanten", "contacts", roles=ANYONE, menu=("Klanten en leveranciers", "Customers and suppliers"))
async def contacts(turn: Turn, argument: str = "") -> None:
    word = argument.strip().lower()
    if word in NEW_WORDS or word in SUPPLIER_WORDS:
        await _start_new(turn, ContactKind.SUPPLIER if word in SUPPLIER_WORDS else ContactKind.CUSTOMER)
    elif word:
        await _search(turn, argument)
    else:
        await _list(turn)


@command("klant", "contact", roles=ANYONE)
async def find_contact(turn: Turn, argument: str = "") -> None:
    await contacts(turn, argument)


async def _list(turn: Turn) -> None:
    found = await turn.db(search_contacts, turn.company_id, turn.person_id, "", 8)
    turn.goto(FLOW, "find")
    text = (turn.t("Your contacts. Type part of a name to find one.") if found
            else turn.t("You have no contacts yet."))
    await turn.say(text, keyboard=turn.keyboard(*_result_rows(turn, found), *_new_rows(turn)))


def _result_rows(turn: Turn, found: list[tuple[int, str, str]]) -> list:  # type: ignore[type-arg]
    return [[turn.button(f"{name} · {city}" if city else name, "con.show", cid)] for cid, name, city in found]


def _new_rows(turn: Turn) -> list:  # type: ignore[type-arg]
    if turn.role not in STAFF:
        return []
    return [[turn.button("➕ " + turn.t("New customer"), "con.new", "c"),
             turn.button("➕ " + turn.t("New supplier"), "con.new", "s")]]


async def _search(turn: Turn, query: str) -> None:
    found = await turn.db(search_contacts, turn.company_id, turn.person_id, query, 8)
    if len(found) == 1:
        await _show(turn, found[0][0])
        return
    turn.goto(FLOW, "find")
    text = (turn.t("Which one?") if found
            else turn.t("No contact matches “{query}”. Type another part of the name.", query=query[:60]))
    await turn.say(text, keyboard=turn.keyboard(*_result_rows(turn, found), *_new_rows(turn)))


@step(FLOW, "find")
async def typed_query(turn: Turn, text: str) -> None:
    await _search(turn, text)


@button("con.list", roles=ANYONE)
async def list_again(turn: Turn) -> None:
    await _list(turn)


# ---- the card ---------------------------------------------------------------------------------------

def _card_text(turn: Turn, card: ContactCard) -> str:
    v, t = card.values, turn.t
    kind = L.choice_label("kind", v["kind"], t)
    business = L.choice_label("is_business", v["is_business"], t)
    address = ", ".join(p for p in (v["street"], f"{v['postcode']} {v['city']}".strip(), v["country"]) if p)
    term = (t("{days} days", days=v["payment_term_days"]) if v["payment_term_days"] is not None
            else t("company default ({days} days)", days=card.company_term_days))
    rows = [("contact_person", v["contact_person"]), ("Address", address), ("email", v["email"]),
            ("extra_emails", v["extra_emails"]), ("phone", v["phone"]), ("kvk", v["kvk"]), ("vat_id", v["vat_id"]),
            ("iban", v["iban"]), ("payment_term_days", term),
            ("vat_treatment", L.choice_label("vat_treatment", v["vat_treatment"], t)),
            ("send_format", L.choice_label("send_format", v["send_format"], t)),
            ("language", L.choice_label("language", v["language"], t)),
            ("categories", v["categories"]), ("notes", v["notes"])]
    lines = [f"👤 {v['name']} ({kind}, {business})"]
    lines += [f"• {t(L.CONTACT.get(key, key))}: {L.shown(value, turn.language, t)}" for key, value in rows]
    return "\n".join(lines)


async def _show(turn: Turn, contact_id: int, intro: str = "") -> None:
    card = await turn.db(contact_card, turn.company_id, turn.person_id, contact_id)
    turn.finish()
    rows: list = []  # type: ignore[type-arg]
    if turn.role in STAFF:
        rows = [[turn.button("✏️ " + turn.t("Edit"), "con.edit", card.id),
                 turn.button(turn.t("Categories"), "con.e", card.id, "categories"),
                 turn.button(turn.t("Notes"), "con.e", card.id, "notes")],
                [turn.button(turn.t("Archive"), "con.arch", card.id)]]
    rows.append([turn.button("◀ " + turn.t("All contacts"), "con.list")])
    text = _card_text(turn, card)
    await turn.say(f"{intro}\n\n{text}" if intro else text, keyboard=turn.keyboard(*rows))


@button("con.show", roles=ANYONE)
async def show(turn: Turn, contact_id: str) -> None:
    await _show(turn, int(contact_id))


@button("con.arch")
async def archive(turn: Turn, contact_id: str) -> None:
    name = await turn.db(archive_contact, turn.company_id, turn.person_id, int(contact_id))
    turn.finish()
    await turn.say(turn.t("✅ {name} is archived: it no longer shows up in searches.", name=name))


# ---- editing ----------------------------------------------------------------------------------------

@button("con.edit")
async def edit_menu(turn: Turn, contact_id: str) -> None:
    buttons = [turn.button(turn.t(L.CONTACT[f]), "con.e", contact_id, f) for f in CONTACT_EDITABLE]
    await turn.say(turn.t("What do you want to change?"), keyboard=turn.keyboard(
        *[buttons[i:i + 2] for i in range(0, len(buttons), 2)],
        turn.button("◀ " + turn.t("Back"), "con.show", contact_id)))


def _choice_row(turn: Turn, contact_id: int | str, field: str, action: str) -> list:  # type: ignore[type-arg]
    return [turn.button(turn.t(label), action, contact_id, field, value) for value, label in L.CHOICES[field].items()]


@button("con.e")
async def ask_field(turn: Turn, contact_id: str, field: str) -> None:
    card = await turn.db(contact_card, turn.company_id, turn.person_id, int(contact_id))
    label = turn.t(L.CONTACT.get(field, field))
    back = turn.button("◀ " + turn.t("Back"), "con.show", card.id)
    if field in CHOICE_FIELDS:
        row = _choice_row(turn, card.id, field, "con.v")
        await turn.say(label + "?", keyboard=turn.keyboard(*[[b] for b in row], back))
        return
    turn.goto(FLOW, "edit", contact_id=card.id, field=field)
    current = L.shown(card.values.get(field), turn.language, turn.t)
    text = turn.t("{label}\nNow: {value}\nType the new value.", label=label, value=current)
    row = [] if field in REQUIRED else [turn.button(turn.t("Clear"), "con.v", card.id, field, "")]
    await turn.say(text, keyboard=turn.keyboard(row + [back]))


@step(FLOW, "edit")
async def typed_value(turn: Turn, text: str) -> None:
    await _save(turn, int(turn.data["contact_id"]), turn.data["field"], text)


@button("con.v")
async def tapped_value(turn: Turn, contact_id: str, field: str, value: str = "") -> None:
    await _save(turn, int(contact_id), field, value)


async def _save(turn: Turn, contact_id: int, field: str, value: str) -> None:
    await turn.db(edit_contact, turn.company_id, turn.person_id, contact_id, field, value)
    await _show(turn, contact_id, intro=turn.t("✅ Saved."))


# ---- a new contact, step by step -----------------------------------------------------------------------

async def _start_new(turn: Turn, kind: ContactKind) -> None:
    await turn.db(require_editor, turn.company_id, turn.person_id)
    turn.goto(FLOW, "name", kind=kind.value)
    await turn.say(turn.t("Name of the new supplier?") if kind is ContactKind.SUPPLIER
                   else turn.t("Name of the new customer?"))


@button("con.new")
async def new(turn: Turn, kind: str) -> None:
    await _start_new(turn, ContactKind.SUPPLIER if kind == "s" else ContactKind.CUSTOMER)


@step(FLOW, "name")
async def typed_name(turn: Turn, text: str) -> None:
    question = await turn.db(start_contact, turn.company_id, turn.person_id, text,
                             turn.data.get("kind", ContactKind.CUSTOMER.value))
    await _ask(turn, question, intro=turn.t("✅ {name} is saved. A few questions more; tap Skip for what "
                                            "you don't know.", name=question.name))


async def _ask(turn: Turn, question: NextQuestion, intro: str = "") -> None:
    if question.step == DONE:
        await _show(turn, question.id, intro=turn.t("✅ Done. This is the contact:"))
        return
    name, contact_id = question.step, question.id
    turn.goto(FLOW, name, contact_id=contact_id, contact_name=question.name)
    text = turn.t(QUESTIONS[name], name=question.name)
    rows: list = []  # type: ignore[type-arg]
    if name in ("is_business", "send_format", "language"):
        rows.append(_choice_row(turn, contact_id, name, "con.a"))
    elif name == "vat_treatment":
        rows.extend([[b] for b in _choice_row(turn, contact_id, name, "con.a")])
    elif name == "country":
        rows.append([turn.button(code, "con.a", contact_id, name, code) for code in ("NL", "BE", "DE")])
    elif name == "payment_term_days":
        rows.append([turn.button(turn.t("Company default"), "con.a", contact_id, name, ""),
                     *[turn.button(turn.t("{days} days", days=d), "con.a", contact_id, name, d) for d in (14, 30)]])
    rows.append([turn.button(turn.t("Skip"), "con.skip", contact_id, name)])
    await turn.say(f"{intro}\n\n{text}" if intro else text, keyboard=turn.keyboard(*rows))


async def typed_answer(turn: Turn, text: str) -> None:
    await _answer(turn, int(turn.data["contact_id"]), turn.step, text)


for _name in TEXT_STEPS:
    step(FLOW, _name)(typed_answer)


async def please_tap(turn: Turn, text: str) -> None:
    question = NextQuestion(int(turn.data["contact_id"]), turn.step, turn.data.get("contact_name", ""))
    await _ask(turn, question, intro=turn.t("Please tap one of the buttons."))


for _name in TAP_STEPS:
    step(FLOW, _name)(please_tap)


async def _answer(turn: Turn, contact_id: int, name: str, value: str) -> None:
    await _ask(turn, await turn.db(answer_contact, turn.company_id, turn.person_id, contact_id, name, value))


@button("con.a")
async def tapped_answer(turn: Turn, contact_id: str, name: str, value: str = "") -> None:
    await _answer(turn, int(contact_id), name, value)


@button("con.skip")
async def skip(turn: Turn, contact_id: str, name: str) -> None:
    await _ask(turn, await turn.db(skip_contact_step, turn.company_id, turn.person_id, int(contact_id), name))
