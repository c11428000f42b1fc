"""/factuur, /offerte (/invoice, /quote): a quote or invoice made step by step, and the draft card
every flow shows (customer, lines, VAT, totals, dates — all computed by core).

Steps of the flow ``doc``: ``customer`` (type a name; suggestions as buttons) → ``new_name`` /
``new_email`` (a new customer in two questions) → ``line`` (quantity, description, price — or a
standard item) with ``line_price`` / ``line_desc`` when something is missing → the card, where
everything can be changed (``edit``, ``line_edit``), previewed, kept as a draft or sent
(``bot.flows.sending``). The draft is stored from the moment the customer is chosen.
"""
from __future__ import annotations

from decimal import Decimal

from telegram import InlineKeyboardMarkup

from bot.router import ANYONE, STAFF, Turn, button, command, step
from bot.texts import day, money
from core.contacts import create_contact, find_contacts, find_items
from core.document import DocumentKind, VatTreatment
from core.document_files import build_files
from core.document_view import format_percent, format_quantity
from core.documents import create_draft
from core.drafts import (
    add_item,
    add_parsed,
    delete_draft,
    edit_draft,
    edit_line,
    fill_from_items,
    match_customer,
    remove_draft_line,
)
from core.errors import ValidationError
from core.overview import DocumentSummary, document_summary
from core.sending import pdf_source
from core.sentence import (
    ParsedSentence,
    parse_amount,
    parse_date,
    parse_sentence,
    parse_term,
)

FLOW = "doc"
MAX_CARD_LINES = 25


def N_(msgid: str) -> str:
    """Marks a msgid that is translated later (``turn.t(LABEL[key])``)."""
    return msgid


EXAMPLE = N_("8 hours advice at 75")
KIND = {"invoice": N_("Invoice"), "quote": N_("Quote"), "credit_note": N_("Credit note")}
STATUS = {"draft": N_("draft"), "sent": N_("sent"), "accepted": N_("accepted"), "declined": N_("declined"),
          "expired": N_("expired"), "invoiced": N_("invoiced"), "partially_paid": N_("partially paid"),
          "paid": N_("paid"), "credited": N_("credited")}
TREATMENT = {"standard": N_("Normal VAT"), "reverse_charge": N_("VAT reverse-charged (EU business)"),
             "intra_eu_goods": N_("Intra-EU supply of goods (0%)"), "export": N_("Export outside the EU (0%)"),
             "kor": N_("Small business scheme (KOR, no VAT)"), "exempt": N_("Exempt from VAT")}
DELIVERY = {"mailed": N_("📧 sent by e-mail"), "chat": N_("📎 PDF sent in the chat"),
            "bounced": N_("⚠️ the e-mail did not arrive: {error}"), "failed": N_("⚠️ sending failed: {error}")}
EDITS = {"intro": "intro", "outro": "outro", "disc": "discount_percent", "deliv": "delivery_date",
         "term": "term_days"}


# ---- the card -----------------------------------------------------------------------------------

def card_text(turn: Turn, s: DocumentSummary) -> str:
    lang, t = turn.language, turn.t
    kind = t(KIND[s.kind])
    title = f"{kind} {s.number}" if s.number else t("{kind} (draft)", kind=kind)
    out = [f"🧾 {title}"]
    if s.status != "draft":
        out.append(t("Status: {status}", status=t(STATUS[s.status])) + (f" · {day(s.issue_date, lang)}"
                                                                          if s.issue_date else ""))
    out.append(f"👤 {s.contact_name}" + (" " + t("(new customer)") if s.new_contact else ""))
    out.append(f"✉️ {s.contact_email}" if s.contact_email else t("✉️ no e-mail address yet"))
    out.append("")
    for i, line in enumerate(s.lines[:MAX_CARD_LINES], start=1):
        qty = format_quantity(line.quantity, lang) + (f" {line.unit}" if line.unit else "")
        out.append(f"{i}. {qty} {line.description} à {money(line.unit_price, lang)} = {money(line.net, lang)}")
    if len(s.lines) > MAX_CARD_LINES:
        out.append(t("… and {count} more lines", count=len(s.lines) - MAX_CARD_LINES))
    if not s.lines:
        out.append(t("(no lines yet)"))
    totals = s.totals
    if totals.allowance_total:
        out.append(t("Discount {percent}: -{amount}", percent=format_percent(s.discount_percent, lang),
                     amount=money(totals.allowance_total, lang)))
    out.append(t("Total excl. VAT: {amount}", amount=money(totals.total_excl, lang)))
    for sub in totals.subtotals:
        if sub.category.value in ("S", "Z"):
            out.append(t("VAT {rate}: {amount}", rate=format_percent(sub.rate, lang), amount=money(sub.vat, lang)))
        else:
            out.append(sub.exemption_text_nl if lang == "nl" else sub.exemption_text_en)
    out.append(t("Total: {amount}", amount=money(totals.total_incl, lang)))
    if s.kind == "invoice" and s.amount_paid:
        out.append(t("Paid {paid} · outstanding {open}", paid=money(s.amount_paid, lang),
                     open=money(s.outstanding, lang)))
    out.append("")
    out += _dates(turn, s)
    if s.reference:
        out.append(t("Refers to {number}", number=s.reference))
    if s.delivery in DELIVERY:
        out.append(t(DELIVERY[s.delivery], error=s.delivery_error or "—"))
    if s.blocking:
        out.append(t("Still needed before sending:"))
        out += [f"• {f.text(lang)}" for f in s.blocking[:4]]
    return "\n".join(out).strip()[:4000]


def _dates(turn: Turn, s: DocumentSummary) -> list[str]:
    lang, t = turn.language, turn.t
    out = []
    if s.kind == "quote" and s.valid_until:
        out.append(t("Valid until {date} ({days} days)", date=day(s.valid_until, lang), days=s.term_days))
    elif s.kind == "invoice" and s.due_date:
        out.append(t("Due {date} ({days} days)", date=day(s.due_date, lang), days=s.term_days))
    if s.overdue:
        out.append(t("⏰ Overdue since {date}", date=day(s.due_date, lang)))
    if s.delivery_date:
        out.append(t("Delivered on {date}", date=day(s.delivery_date, lang)))
    return out


def draft_keyboard(turn: Turn, doc_id: int) -> InlineKeyboardMarkup:
    t, b = turn.t, turn.button
    return turn.keyboard(
        [b(t("📧 Send"), "send.mail", doc_id), b(t("📎 PDF here"), "send.chat", doc_id)],
        [b(t("👁 Preview"), "doc.prev", doc_id), b(t("➕ Line"), "doc.add", doc_id)],
        [b(t("✏️ Change"), "doc.menu", doc_id), b(t("💾 Keep as draft"), "doc.save", doc_id)])


async def show_draft(turn: Turn, doc_id: int) -> None:
    """The draft card; typing a line now adds it. (A document sent in the meantime: its card, no
    draft buttons.)"""
    summary = await turn.db(document_summary, turn.company_id, doc_id, today=turn.services.today())
    if summary.status != "draft":               # an old card of a document sent since
        turn.finish()
        await turn.say(card_text(turn, summary), keyboard=turn.keyboard(
            turn.button(turn.t("🔎 Details"), "ov.doc", doc_id)))
        return
    turn.goto(FLOW, "card", doc=doc_id)
    await turn.say(card_text(turn, summary), keyboard=draft_keyboard(turn, doc_id))


# ---- starting: the customer ----------------------------------------------------------------------

@command("factuur", "invoice", roles=STAFF, menu=("Nieuwe factuur", "New invoice"))
async def new_invoice(turn: Turn, argument: str = "") -> None:
    await start_document(turn, "invoice", argument)


@command("offerte", "quote", roles=STAFF, menu=("Nieuwe offerte", "New quote"))
async def new_quote(turn: Turn, argument: str = "") -> None:
    await start_document(turn, "quote", argument)


async def start_document(turn: Turn, kind: str, query: str = "") -> None:
    turn.finish()
    turn.goto(FLOW, "customer", kind=kind)
    if query:
        await customer_typed(turn, query)
        return
    contacts = await turn.db(lambda s: [(c.id, c.name) for c in find_contacts(s, turn.company_id, limit=6)])
    await turn.say(turn.t("New {kind}. For which customer? Type (part of) the name.", kind=turn.t(KIND[kind]).lower()),
                   keyboard=turn.keyboard(*[turn.button(name, "doc.cust", cid) for cid, name in contacts],
                                          turn.button(turn.t("➕ New customer"), "doc.new")))


@step(FLOW, "customer")
async def customer_typed(turn: Turn, text: str) -> None:
    match = await turn.db(match_customer, turn.company_id, text)
    if not match.query:
        raise ValidationError("name", "The name is required")
    turn.data["query"] = match.query
    if match.contact_id is not None:
        await choose_customer(turn, match.contact_id)
        return
    new = turn.button(turn.t("➕ New customer “{name}”", name=match.query[:40]), "doc.new")
    if match.candidates:
        await turn.say(turn.t("Which one do you mean?"), keyboard=turn.keyboard(
            *[turn.button(name, "doc.cust", cid) for cid, name in match.candidates], new))
        return
    await turn.say(turn.t("I do not know “{name}” yet. Add it as a new customer, or type another name. "
                          "(/klanten has the full form.)", name=match.query), keyboard=turn.keyboard(new))


async def _closed(turn: Turn) -> bool:
    """A customer button from a question that is no longer open changes nothing."""
    if turn.flow == FLOW and turn.step == "customer":
        return False
    await turn.say(turn.t("That question is closed. Start again with /factuur or /offerte."))
    return True


@button("doc.cust", roles=STAFF)
async def customer_tapped(turn: Turn, contact_id: str) -> None:
    if await _closed(turn):
        return
    await choose_customer(turn, int(contact_id))


async def choose_customer(turn: Turn, contact_id: int) -> None:
    doc_id = turn.data.get("doc")
    if doc_id:                                  # changing the customer of a draft
        await turn.db(edit_draft, turn.company_id, doc_id, contact_id=contact_id)
        await show_draft(turn, doc_id)
        return
    kind = DocumentKind(turn.data.get("kind", "invoice"))

    def create(session):  # type: ignore[no-untyped-def]
        doc = create_draft(session, turn.company_id, kind, contact_id, today=turn.services.today())
        return doc.id, doc.intro
    doc_id, intro = await turn.db(create)
    turn.goto(FLOW, "line", doc=doc_id)
    text = turn.t("Intro text: “{intro}”", intro=intro) if intro else turn.t("No intro text.")
    await turn.say(text + "\n" + turn.t("Now the first line: quantity, description and price, e.g. “{example}”, "
                                        "or the name of a standard item.", example=turn.t(EXAMPLE)),
                   keyboard=turn.keyboard(turn.button(turn.t("📝 Change intro"), "doc.e", doc_id, "intro")))


@button("doc.new", roles=STAFF)
async def new_customer(turn: Turn) -> None:
    if await _closed(turn):
        return
    if turn.data.get("query"):
        turn.goto(FLOW, "new_email", name=turn.data["query"])
        await turn.say(turn.t("E-mail address of {name}? (Type - if you do not know it yet.)", name=turn.data["query"]))
        return
    turn.goto(FLOW, "new_name")
    await turn.say(turn.t("What is the name of the new customer?"))


@step(FLOW, "new_name")
async def new_name_typed(turn: Turn, text: str) -> None:
    if not text.strip():
        raise ValidationError("name", "The name is required")
    if len(text) > 200:
        raise ValidationError("name", "Too long (at most {limit} characters)", limit=200)
    turn.goto(FLOW, "new_email", name=text.strip())
    await turn.say(turn.t("E-mail address of {name}? (Type - if you do not know it yet.)", name=text.strip()))


@step(FLOW, "new_email")
async def new_email_typed(turn: Turn, text: str) -> None:
    email = "" if text.strip() in ("-", "") else text.strip()
    contact = await turn.db(lambda s: create_contact(s, turn.company_id, turn.data["name"], email=email,
                                                     language=turn.language).id)
    await turn.say(turn.t("Customer {name} added. (Address and other details: /klanten.)", name=turn.data["name"]))
    await choose_customer(turn, contact)


# ---- lines ---------------------------------------------------------------------------------------

@step(FLOW, "line")
@step(FLOW, "card")
async def line_typed(turn: Turn, text: str) -> None:
    if text.lower() in ("klaar", "done", "ok"):
        await show_draft(turn, turn.data["doc"])
        return
    parsed = parse_sentence(text, language_hint=turn.language)
    if parsed.unplaced:
        raise ValidationError("lines", "I could not read: {items}. Type a line like “{example}”.",
                              items=", ".join(parsed.unplaced)[:300], example=turn.t(EXAMPLE))
    if not parsed.lines and parsed.discount_percent is None and not parsed.vat_treatment and parsed.term_days is None:
        raise ValidationError("lines", "I could not read: {items}. Type a line like “{example}”.",
                              items=text[:100], example=turn.t(EXAMPLE))
    await add_lines(turn, await turn.db(fill_from_items, turn.company_id, parsed))


async def add_lines(turn: Turn, parsed: ParsedSentence) -> None:
    """Add the typed lines, asking first for a missing description or price."""
    doc_id = turn.data["doc"]
    if parsed.missing_descriptions:
        turn.goto(FLOW, "line_desc", doc=doc_id, pending=parsed.to_dict(), index=parsed.missing_descriptions[0])
        await turn.say(turn.t("What is this line for? (the description)"))
        return
    if parsed.missing_prices:
        index = parsed.missing_prices[0]
        line = parsed.lines[index]
        turn.goto(FLOW, "line_price", doc=doc_id, pending=parsed.to_dict(), index=index)
        items = await turn.db(lambda s: [(i.id, i.name, i.unit_price) for i in
                                         find_items(s, turn.company_id, line.description, limit=5)])
        keyboard = turn.keyboard(*[turn.button(f"{name} · {money(price, turn.language)}", "doc.item", doc_id, item,
                                               line.quantity) for item, name, price in items]) if items else None
        await turn.say(turn.t("What is the price per unit (excl. VAT) of “{description}”?",
                              description=line.description) +
                       ("\n" + turn.t("Or choose a standard item:") if items else ""), keyboard=keyboard)
        return
    await turn.db(add_parsed, turn.company_id, doc_id, parsed, today=turn.services.today())
    await _line_added(turn, doc_id)


async def _line_added(turn: Turn, doc_id: int) -> None:
    summary = await turn.db(document_summary, turn.company_id, doc_id, today=turn.services.today())
    turn.goto(FLOW, "line", doc=doc_id)
    last = summary.lines[-1] if summary.lines else None
    added = (turn.t("Added: {description} = {amount}.", description=last.description,
                    amount=money(last.net, turn.language)) if last else "")
    await turn.say(added + " " + turn.t("Total now {amount} (lines: {count}). Type the next line, or:",
                                        amount=money(summary.totals.total_incl, turn.language),
                                        count=len(summary.lines)),
                   keyboard=turn.keyboard([turn.button(turn.t("✅ Done"), "doc.show", doc_id),
                                           turn.button(turn.t("％ Discount"), "doc.e", doc_id, "disc")]))


@step(FLOW, "line_price")
async def price_typed(turn: Turn, text: str) -> None:
    amount = parse_amount(text, language=turn.language, field="unit_price")
    parsed = ParsedSentence.from_dict(turn.data["pending"]).with_line(turn.data["index"], unit_price=amount)
    await add_lines(turn, parsed)


@step(FLOW, "line_desc")
async def description_typed(turn: Turn, text: str) -> None:
    if len(text) > 2000:
        raise ValidationError("description", "Too long (at most {limit} characters)", limit=2000)
    parsed = ParsedSentence.from_dict(turn.data["pending"]).with_line(turn.data["index"], description=text)
    await add_lines(turn, parsed)


@button("doc.item", roles=STAFF)
async def item_tapped(turn: Turn, doc_id: str, item_id: str, quantity: str = "1") -> None:
    await turn.db(add_item, turn.company_id, int(doc_id), int(item_id), quantity=Decimal(quantity))
    await _line_added(turn, int(doc_id))


@button("doc.add", roles=STAFF)
async def add_tapped(turn: Turn, doc_id: str) -> None:
    turn.goto(FLOW, "line", doc=int(doc_id))
    await turn.say(turn.t("Type the line: quantity, description and price, e.g. “{example}”.", example=turn.t(EXAMPLE)))


@button("doc.show", roles=STAFF)
async def show_tapped(turn: Turn, doc_id: str) -> None:
    await show_draft(turn, int(doc_id))


@button("doc.save", roles=STAFF)
async def save_tapped(turn: Turn, doc_id: str) -> None:
    turn.finish()
    await turn.say(turn.t("Kept as a draft. You find it under /facturen or /offertes."))


@button("doc.del", roles=STAFF)
async def delete_tapped(turn: Turn, doc_id: str) -> None:
    await turn.db(delete_draft, turn.company_id, int(doc_id))
    turn.finish()
    await turn.say(turn.t("The draft is deleted."))


# ---- changing anything ---------------------------------------------------------------------------

@button("doc.menu", roles=STAFF)
async def menu_tapped(turn: Turn, doc_id: str) -> None:
    d, t, b = int(doc_id), turn.t, turn.button
    await turn.say(t("What do you want to change?"), keyboard=turn.keyboard(
        [b(t("Lines"), "doc.lines", d), b(t("Customer"), "doc.e", d, "cust")],
        [b(t("Intro text"), "doc.e", d, "intro"), b(t("Closing text"), "doc.e", d, "outro")],
        [b(t("Discount"), "doc.e", d, "disc"), b(t("VAT"), "doc.e", d, "vat")],
        [b(t("Delivery date"), "doc.e", d, "deliv"), b(t("Term"), "doc.e", d, "term")],
        [b(t("🗑 Delete draft"), "doc.del", d), b(t("↩ Back"), "doc.show", d)]))


PROMPTS = {"intro": N_("Type the new intro text (- for none)."),
           "outro": N_("Type the new closing text (- for none)."),
           "disc": N_("Discount on the whole document in percent, e.g. 10 (0 for none)."),
           "deliv": N_("Delivery date, e.g. 15-12-2026 (- for none)."),
           "term": N_("Payment term or validity in days, e.g. 14.")}


@button("doc.e", roles=STAFF)
async def edit_tapped(turn: Turn, doc_id: str, key: str) -> None:
    d = int(doc_id)
    if key == "vat":
        await turn.say(turn.t("Which VAT treatment?"), keyboard=turn.keyboard(
            *[turn.button(turn.t(TREATMENT[v.value]), "doc.vat", d, v.value) for v in VatTreatment]))
        return
    if key == "cust":
        turn.goto(FLOW, "customer", doc=d)
        await turn.say(turn.t("Which customer? Type (part of) the name."))
        return
    if key not in PROMPTS:
        raise ValidationError("field", "Unknown field")
    turn.goto(FLOW, "edit", doc=d, field=key)
    await turn.say(turn.t(PROMPTS[key]))


@step(FLOW, "edit")
async def edit_typed(turn: Turn, text: str) -> None:
    key, value = turn.data["field"], text.strip()
    if key in ("intro", "outro", "deliv") and value == "-":
        value = ""
    elif key == "disc":
        value = value.rstrip("%").strip()
    elif key == "deliv":
        value = parse_date(value, today=turn.services.today()).isoformat()
    elif key == "term":
        value = str(parse_term(value))
    await turn.db(edit_draft, turn.company_id, turn.data["doc"], **{EDITS[key]: value})
    await show_draft(turn, turn.data["doc"])


@button("doc.vat", roles=STAFF)
async def vat_tapped(turn: Turn, doc_id: str, treatment: str) -> None:
    await turn.db(edit_draft, turn.company_id, int(doc_id), vat_treatment=treatment)
    await show_draft(turn, int(doc_id))


@button("doc.lines", roles=STAFF)
async def lines_tapped(turn: Turn, doc_id: str) -> None:
    d = int(doc_id)
    summary = await turn.db(document_summary, turn.company_id, d, today=turn.services.today())
    rows = [[turn.button(f"✏️ {i}", "doc.el", d, line.id), turn.button(f"🗑 {i}", "doc.rm", d, line.id)]
            for i, line in enumerate(summary.lines[:20], start=1)]
    listing = "\n".join(f"{i}. {line.description} = {money(line.net, turn.language)}"
                        for i, line in enumerate(summary.lines[:20], start=1))
    await turn.say(turn.t("Which line? ✏️ changes it, 🗑 removes it.") + "\n" + listing, keyboard=turn.keyboard(
        *rows, [turn.button(turn.t("➕ Line"), "doc.add", d), turn.button(turn.t("↩ Back"), "doc.show", d)]))


@button("doc.el", roles=STAFF)
async def line_edit_tapped(turn: Turn, doc_id: str, line_id: str) -> None:
    turn.goto(FLOW, "line_edit", doc=int(doc_id), line=int(line_id))
    await turn.say(turn.t("Type the line as it should be, e.g. “{example}”.", example=turn.t(EXAMPLE)))


@step(FLOW, "line_edit")
async def line_edit_typed(turn: Turn, text: str) -> None:
    parsed = parse_sentence(text, language_hint=turn.language)
    if parsed.unplaced or len(parsed.lines) != 1 or parsed.missing_prices or parsed.missing_descriptions:
        raise ValidationError("lines", "I could not read: {items}. Type a line like “{example}”.",
                              items=", ".join(parsed.unplaced) or text[:100], example=turn.t(EXAMPLE))
    await turn.db(edit_line, turn.company_id, turn.data["doc"], turn.data["line"], parsed,
                  today=turn.services.today())
    await show_draft(turn, turn.data["doc"])


@button("doc.rm", roles=STAFF)
async def line_remove_tapped(turn: Turn, doc_id: str, line_id: str) -> None:
    await turn.db(remove_draft_line, turn.company_id, int(doc_id), int(line_id))
    await lines_tapped(turn, doc_id)


# ---- preview -------------------------------------------------------------------------------------

@button("doc.prev", roles=ANYONE)
async def preview_tapped(turn: Turn, doc_id: str) -> None:
    """Page 1 as an image and the PDF, rendered off the event loop."""
    d = int(doc_id)
    await turn.typing("upload_photo")
    _doc, data, _terms = await turn.db(pdf_source, turn.company_id, d)
    files = await turn.services.run(build_files, data)
    await turn.bot.send_photo(turn.chat_id, files.png, caption=turn.t("Preview, page 1"))
    await turn.typing("upload_document")
    caption = turn.t("Preview (not sent; the number is given when you send it).") if data.is_draft \
        else turn.t("{kind} {number}", kind=turn.t(KIND[data.kind.value]), number=data.number)
    keyboard = draft_keyboard(turn, d) if data.is_draft and turn.role in STAFF else None
    await turn.bot.send_document(turn.chat_id, files.pdf, filename=f"{files.name}.pdf", caption=caption,
                                 reply_markup=keyboard)
