"""An invoice or quote in one sentence ("factuur Acme 8 uur advies à 75, btw verlegd, 14 dagen"),
typed when no other flow is active, or after /zin.

``core.sentence`` reads the sentence; what it could not place is asked for here, one question at a
time (flow ``sentence``: ``customer`` when the name fits several or none, ``desc`` and ``price``
for a line without them, ``lines`` when there are none), never guessed. Then a card shows what
the document will be — computed by core from a preview that stores nothing — with buttons to send,
change or cancel. Only then are the draft (and a new customer) created.
"""
from __future__ import annotations

from dataclasses import replace

from bot.flows.documents import EXAMPLE, N_, card_text, show_draft, start_document
from bot.flows.sending import send_document
from bot.router import STAFF, Turn, button, command, default_text, step
from bot.texts import money
from core.document_view import format_quantity
from core.drafts import (
    draft_from_sentence,
    fill_from_items,
    match_customer,
    preview_sentence,
)
from core.errors import AccessDeniedError, ValidationError
from core.sentence import ParsedSentence, parse_amount, parse_sentence

FLOW = "sentence"
SENTENCE_EXAMPLE = N_("invoice Acme 8 hours advice at 75, 14 days")


@default_text
async def typed(turn: Turn, text: str) -> None:
    if turn.company_id is None:
        await turn.say(turn.t("First tell me about your company: /start"))
        return
    parsed = parse_sentence(text, language_hint=turn.language)
    if parsed.kind is None:
        await turn.say(turn.t("I did not understand that. Type an invoice in one sentence, e.g. “{example}”, "
                              "or see /help.", example=turn.t(SENTENCE_EXAMPLE)))
        return
    if turn.role not in STAFF:
        raise AccessDeniedError("sentence")
    await begin(turn, parsed)


@command("zin", "sentence", roles=STAFF, menu=("Factuur of offerte in één zin", "Invoice or quote in one sentence"))
async def sentence_command(turn: Turn, argument: str = "") -> None:
    if not argument:
        turn.finish()
        turn.goto(FLOW, "ask")
        await turn.say(turn.t("Type the invoice or quote in one sentence, e.g. “{example}”.", example=turn.t(SENTENCE_EXAMPLE)))
        return
    await sentence_typed(turn, argument)


@step(FLOW, "ask")
@step(FLOW, "card")
async def sentence_typed(turn: Turn, text: str) -> None:
    parsed = parse_sentence(text, language_hint=turn.language)
    if parsed.kind is None:
        raise ValidationError("sentence", "Start with factuur, offerte, invoice or quote, e.g. “{example}”.",
                              example=turn.t(SENTENCE_EXAMPLE))
    await begin(turn, parsed)


async def begin(turn: Turn, parsed: ParsedSentence) -> None:
    if not parsed.customer and not parsed.lines:
        await start_document(turn, parsed.kind or "invoice")      # just "factuur": the guided flow
        return
    turn.finish()
    turn.goto(FLOW, "resolve", parsed=parsed.to_dict())
    await advance(turn)


def _store(turn: Turn, parsed: ParsedSentence) -> None:
    turn.data["parsed"] = parsed.to_dict()


async def advance(turn: Turn) -> None:
    """Ask the next open question, or show the card."""
    parsed = ParsedSentence.from_dict(turn.data["parsed"])
    if "contact" not in turn.data and not turn.data.get("new"):
        if not parsed.customer:
            turn.goto(FLOW, "customer")
            await turn.say(turn.t("For which customer? Type (part of) the name."))
            return
        match = await turn.db(match_customer, turn.company_id, parsed.customer)
        if match.contact_id is not None:
            turn.data["contact"] = match.contact_id
        elif match.candidates:
            turn.goto(FLOW, "customer")
            await turn.say(turn.t("Which “{name}” do you mean? Or type another name.", name=parsed.customer),
                           keyboard=turn.keyboard(*[turn.button(name, "sen.cust", cid) for cid, name in match.candidates],
                                                  turn.button(turn.t("➕ New customer “{name}”", name=parsed.customer[:40]),
                                                              "sen.new")))
            return
        else:
            turn.data["new"] = True
    if parsed.missing_prices:
        parsed = await turn.db(fill_from_items, turn.company_id, parsed)
        _store(turn, parsed)
    if parsed.missing_descriptions:
        index = parsed.missing_descriptions[0]
        turn.goto(FLOW, "desc", index=index)
        await turn.say(turn.t("What is line {number} for? ({line})", number=index + 1,
                              line=_line(turn, parsed, index)) + _unplaced(turn, parsed))
        return
    if parsed.missing_prices:
        index = parsed.missing_prices[0]
        turn.goto(FLOW, "price", index=index)
        await turn.say(turn.t("What is the price per unit (excl. VAT) of “{description}”?",
                              description=parsed.lines[index].description) + _unplaced(turn, parsed),
                       keyboard=turn.keyboard(turn.button(turn.t("✖ Leave this line out"), "sen.skip", index)))
        return
    if not parsed.lines:
        turn.goto(FLOW, "lines")
        await turn.say(turn.t("What goes on it? E.g. “{example}”.", example=turn.t(EXAMPLE)) + _unplaced(turn, parsed))
        return
    await _card(turn, parsed)


async def _card(turn: Turn, parsed: ParsedSentence) -> None:
    summary = await turn.db(preview_sentence, turn.company_id, parsed, contact_id=turn.data.get("contact"),
                            today=turn.services.today())
    if summary.new_contact:
        summary = replace(summary, contact_name=parsed.customer)
    turn.goto(FLOW, "card")
    text = card_text(turn, summary)
    if parsed.prices_include_vat:
        text += "\n" + turn.t("The prices you typed include VAT; the lines show them without.")
    await turn.say(text + _unplaced(turn, parsed), keyboard=turn.keyboard(
        [turn.button(turn.t("📧 Send"), "sen.send", "m"), turn.button(turn.t("📎 PDF here"), "sen.send", "c")],
        [turn.button(turn.t("✏️ Change"), "sen.edit"), turn.button(turn.t("✖ Cancel"), "sen.stop")]))


def _line(turn: Turn, parsed: ParsedSentence, index: int) -> str:
    line = parsed.lines[index]
    qty = format_quantity(line.quantity, turn.language) + (f" {line.unit}" if line.unit else "")
    return qty + (f" à {money(line.unit_price, turn.language)}" if line.unit_price is not None else "")


def _unplaced(turn: Turn, parsed: ParsedSentence) -> str:
    if not parsed.unplaced:
        return ""
    return "\n" + turn.t("⚠️ I could not place this, so it is not used: {items}. Change the document if it "
                         "should be on it.", items="; ".join(f"“{u[:60]}”" for u in parsed.unplaced[:5]))


def _parsed(turn: Turn) -> ParsedSentence:
    return ParsedSentence.from_dict(turn.data["parsed"])


async def _closed(turn: Turn) -> bool:
    if turn.flow == FLOW and "parsed" in turn.data:
        return False
    await turn.say(turn.t("That question is closed. Type the sentence again."))
    return True


# ---- answers ------------------------------------------------------------------------------------

@button("sen.cust", roles=STAFF)
async def customer_tapped(turn: Turn, contact_id: str) -> None:
    if await _closed(turn):
        return
    turn.data["contact"] = int(contact_id)
    turn.data.pop("new", None)
    await advance(turn)


@button("sen.new", roles=STAFF)
async def new_customer_tapped(turn: Turn) -> None:
    if await _closed(turn):
        return
    turn.data["new"] = True
    await advance(turn)


@step(FLOW, "customer")
async def customer_typed(turn: Turn, text: str) -> None:
    if not text.strip():
        raise ValidationError("name", "The name is required")
    if len(text) > 200:
        raise ValidationError("name", "Too long (at most {limit} characters)", limit=200)
    _store(turn, replace(_parsed(turn), customer=" ".join(text.split())))
    turn.data.pop("contact", None)
    turn.data.pop("new", None)
    await advance(turn)


@step(FLOW, "price")
async def price_typed(turn: Turn, text: str) -> None:
    amount = parse_amount(text, language=turn.language, field="unit_price")
    _store(turn, _parsed(turn).with_line(turn.data["index"], unit_price=amount))
    await advance(turn)


@step(FLOW, "desc")
async def description_typed(turn: Turn, text: str) -> None:
    if len(text) > 2000:
        raise ValidationError("description", "Too long (at most {limit} characters)", limit=2000)
    _store(turn, _parsed(turn).with_line(turn.data["index"], description=text))
    await advance(turn)


@step(FLOW, "lines")
async def lines_typed(turn: Turn, text: str) -> None:
    parsed, extra = _parsed(turn), parse_sentence(text, language_hint=_parsed(turn).language)
    if not extra.lines:
        raise ValidationError("lines", "I could not read: {items}. Type a line like “{example}”.",
                              items=text[:100], example=turn.t(EXAMPLE))
    _store(turn, replace(parsed, lines=parsed.lines + extra.lines, unplaced=parsed.unplaced + extra.unplaced))
    await advance(turn)


@button("sen.skip", roles=STAFF)
async def skip_tapped(turn: Turn, index: str) -> None:
    if await _closed(turn) or int(index) >= len(_parsed(turn).lines):
        return
    _store(turn, _parsed(turn).without_line(int(index)))
    await advance(turn)


# ---- the card -----------------------------------------------------------------------------------

@button("sen.send", roles=STAFF)
async def send_tapped(turn: Turn, via: str) -> None:
    if await _closed(turn) or turn.step != "card":
        return
    if turn.data.get("new") and via == "m" and "email" not in turn.data:
        turn.goto(FLOW, "email", via=via)
        await turn.say(turn.t("“{name}” is a new customer. What is their e-mail address? (The full form is in "
                              "/klanten.)", name=_parsed(turn).customer))
        return
    await _create_and_send(turn, via)


@step(FLOW, "email")
async def email_typed(turn: Turn, text: str) -> None:
    turn.data["email"] = text.strip()
    await _create_and_send(turn, turn.data.get("via", "m"))


async def _create(turn: Turn) -> int:
    parsed, contact, email = _parsed(turn), turn.data.get("contact"), turn.data.get("email", "")
    return await turn.db(lambda s: draft_from_sentence(s, turn.company_id, parsed, contact_id=contact,
                                                       today=turn.services.today(), email=email).id)


async def _create_and_send(turn: Turn, via: str) -> None:
    doc_id = await _create(turn)
    turn.finish()
    await send_document(turn, doc_id, "c" if via == "c" else "m")


@button("sen.edit", roles=STAFF)
async def edit_tapped(turn: Turn) -> None:
    if await _closed(turn):
        return
    await show_draft(turn, await _create(turn))


@button("sen.stop", roles=STAFF)
async def cancel_tapped(turn: Turn) -> None:
    turn.finish()
    await turn.say(turn.t("Cancelled. Nothing was saved."))
