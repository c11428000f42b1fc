"""/artikelen and /items: standard items with their price and VAT rate (flow ``items``).

New item: name → price excl. VAT → VAT rate → unit → description (each stored at once by
``core.intake``; a price like ``12,5,0`` is refused and asked again). List, find by typing part of
the name, show, edit any field, archive. Owner and staff change items; the accountant looks only.
"""
from __future__ import annotations

from bot.flows import field_labels as L
from bot.router import ANYONE, STAFF, Turn, button, command, step
from bot.texts import money
from core.intake import (
    DONE,
    ITEM_EDITABLE,
    ItemCard,
    NextQuestion,
    answer_item,
    archive_item,
    edit_item,
    item_card,
    require_editor,
    search_items,
    skip_item_step,
    start_item,
)

FLOW = "items"
NEW_WORDS = {"nieuw", "new", "nieuwe", "+"}
RATES = ("21", "9", "0")
UNITS = (L.N_("hour"), L.N_("piece"), L.N_("day"), L.N_("month"))
QUESTIONS = {
    "unit_price": L.N_("Price of {name} per unit, excluding VAT? For example 75 or 12,50."),
    "vat_rate": L.N_("Which VAT rate? Tap one or type a percentage."),
    "unit": L.N_("Per what unit? Tap one, type your own (e.g. m²), or Skip."),
    "description": L.N_("A description for on the invoice? Type it, or tap Skip."),
}


@command("artikelen", "items", roles=ANYONE, menu=("Artikelen en prijzen", "Items and prices"))
async def items(turn: Turn, argument: str = "") -> None:
    word = argument.strip().lower()
    if word in NEW_WORDS:
        await _start_new(turn)
        return
    await _list(turn, word)


async def _list(turn: Turn, query: str = "") -> None:
    found = await turn.db(search_items, turn.company_id, turn.person_id, query, 12)
    if query and len(found) == 1:
        await _show(turn, found[0][0])
        return
    turn.goto(FLOW, "find")
    if found:
        text = turn.t("Your items. Type part of a name to find one.") if not query else turn.t("Which one?")
    elif query:
        text = turn.t("No item matches “{query}”. Type another part of the name.", query=query[:60])
    else:
        text = turn.t("You have no standard items yet.")
    rows = [[turn.button(name, "item.show", iid)] for iid, name in found]
    if turn.role in STAFF:
        rows.append([turn.button("➕ " + turn.t("New item"), "item.new")])
    await turn.say(text, keyboard=turn.keyboard(*rows))


@step(FLOW, "find")
async def typed_query(turn: Turn, text: str) -> None:
    await _list(turn, text)


@button("item.list", roles=ANYONE)
async def list_again(turn: Turn) -> None:
    await _list(turn)


def _card_text(turn: Turn, card: ItemCard) -> str:
    v = card.values
    lines = [f"📦 {v['name']}",
             f"• {turn.t(L.ITEM['unit_price'])}: {money(v['unit_price'], turn.language)}"
             + (f" / {v['unit']}" if v["unit"] else ""),
             f"• {turn.t(L.ITEM['vat_rate'])}: {v['vat_rate'].normalize():f} %",
             f"• {turn.t(L.ITEM['description'])}: {L.shown(v['description'], turn.language, turn.t)}"]
    return "\n".join(lines)


async def _show(turn: Turn, item_id: int, intro: str = "") -> None:
    card = await turn.db(item_card, turn.company_id, turn.person_id, item_id)
    turn.finish()
    rows: list = []  # type: ignore[type-arg]
    if turn.role in STAFF:
        buttons = [turn.button("✏️ " + turn.t(L.ITEM[f]), "item.e", card.id, f) for f in ITEM_EDITABLE]
        rows = [buttons[i:i + 2] for i in range(0, len(buttons), 2)]
        rows.append([turn.button(turn.t("Archive"), "item.arch", card.id)])
    rows.append([turn.button("◀ " + turn.t("All items"), "item.list")])
    text = _card_text(turn, card)
    await turn.say(f"{intro}\n\n{text}" if intro else text, keyboard=turn.keyboard(*rows))


@button("item.show", roles=ANYONE)
async def show(turn: Turn, item_id: str) -> None:
    await _show(turn, int(item_id))


@button("item.arch")
async def archive(turn: Turn, item_id: str) -> None:
    name = await turn.db(archive_item, turn.company_id, turn.person_id, int(item_id))
    turn.finish()
    await turn.say(turn.t("✅ {name} is archived: it no longer shows up in lists.", name=name))


# ---- editing ----------------------------------------------------------------------------------------

def _choices(turn: Turn, item_id: int, field: str, action: str) -> list:  # type: ignore[type-arg]
    if field == "vat_rate":
        return [turn.button(f"{rate} %", action, item_id, field, rate) for rate in RATES]
    if field == "unit":
        return [turn.button(turn.t(unit), action, item_id, field, turn.t(unit)) for unit in UNITS]
    return []


@button("item.e")
async def ask_field(turn: Turn, item_id: str, field: str) -> None:
    card = await turn.db(item_card, turn.company_id, turn.person_id, int(item_id))
    turn.goto(FLOW, "edit", item_id=card.id, field=field)
    value = card.values.get(field)
    current = money(value, turn.language) if field == "unit_price" else L.shown(value, turn.language, turn.t)
    text = turn.t("{label}\nNow: {value}\nType the new value.", label=turn.t(L.ITEM.get(field, field)), value=current)
    row = _choices(turn, card.id, field, "item.v")
    if field in ("unit", "description"):
        row.append(turn.button(turn.t("Clear"), "item.v", card.id, field, ""))
    await turn.say(text, keyboard=turn.keyboard(row, turn.button("◀ " + turn.t("Back"), "item.show", card.id)))


@step(FLOW, "edit")
async def typed_value(turn: Turn, text: str) -> None:
    await _save(turn, int(turn.data["item_id"]), turn.data["field"], text)


@button("item.v")
async def tapped_value(turn: Turn, item_id: str, field: str, value: str = "") -> None:
    await _save(turn, int(item_id), field, value)


async def _save(turn: Turn, item_id: int, field: str, value: str) -> None:
    await turn.db(edit_item, turn.company_id, turn.person_id, item_id, field, value)
    await _show(turn, item_id, intro=turn.t("✅ Saved."))


# ---- a new item -------------------------------------------------------------------------------------

async def _start_new(turn: Turn) -> None:
    await turn.db(require_editor, turn.company_id, turn.person_id)
    turn.goto(FLOW, "name")
    await turn.say(turn.t("Name of the new item? For example “Advice” or “Logo design”."))


@button("item.new")
async def new(turn: Turn) -> None:
    await _start_new(turn)


@step(FLOW, "name")
async def typed_name(turn: Turn, text: str) -> None:
    await _ask(turn, await turn.db(start_item, turn.company_id, turn.person_id, text))


async def _ask(turn: Turn, question: NextQuestion, intro: str = "") -> None:
    if question.step == DONE:
        await _show(turn, question.id, intro=turn.t("✅ Done. This is the item:"))
        return
    turn.goto(FLOW, question.step, item_id=question.id)
    text = turn.t(QUESTIONS[question.step], name=question.name)
    rows = [_choices(turn, question.id, question.step, "item.a")]
    if question.step != "unit_price":
        rows.append([turn.button(turn.t("Skip"), "item.skip", question.id, question.step)])
    await turn.say(f"{intro}\n\n{text}" if intro else text, keyboard=turn.keyboard(*[r for r in rows if r]))


async def typed_answer(turn: Turn, text: str) -> None:
    await _answer(turn, int(turn.data["item_id"]), turn.step, text)


for _name in QUESTIONS:
    step(FLOW, _name)(typed_answer)


async def _answer(turn: Turn, item_id: int, name: str, value: str) -> None:
    await _ask(turn, await turn.db(answer_item, turn.company_id, turn.person_id, item_id, name, value),
               intro=turn.t("✅ Saved."))


@button("item.a")
async def tapped_answer(turn: Turn, item_id: str, name: str, value: str) -> None:
    await _answer(turn, int(item_id), name, value)


@button("item.skip")
async def skip(turn: Turn, item_id: str, name: str) -> None:
    await _ask(turn, await turn.db(skip_item_step, turn.company_id, turn.person_id, int(item_id), name))
