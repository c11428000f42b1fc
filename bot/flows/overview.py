"""/facturen, /offertes (/invoices, /quotes): what is open, overdue, paid, with totals; one document
with the actions its state allows (core decides which): the PDF, resend, a payment booked by hand,
credit, duplicate, and for quotes accepted / declined / expired and "Factureren".
"""
from __future__ import annotations

from decimal import Decimal

from bot.flows.documents import KIND, N_, card_text, show_draft
from bot.router import ANYONE, STAFF, Turn, button, command, step
from bot.texts import money
from core.drafts import duplicate_document
from core.errors import ConflictError
from core.invoices import (
    create_credit_note,
    invoice_from_quote,
    set_quote_outcome,
)
from core.overview import (
    DocumentRow,
    DocumentSummary,
    Overview,
    document_summary,
    invoice_overview,
    quote_overview,
)
from core.payments.booking import record_manual_payment
from core.sentence import parse_amount

FLOW = "ov"
MAX_BUTTONS = 20
SECTION = {"overdue": N_("⏰ Overdue: {count} · {amount} outstanding"),
           "open": N_("📬 Open: {count} · {amount} outstanding"),
           "paid": N_("✅ Paid this year: {count} · {amount}"),
           "draft": N_("📝 Drafts: {count}"),
           "quote.draft": N_("📝 Drafts: {count}"),
           "quote.open": N_("📬 Sent, awaiting an answer: {count} · {amount}"),
           "quote.accepted": N_("👍 Accepted, to invoice: {count} · {amount}"),
           "quote.closed": N_("📁 Closed this year: {count}")}
ICON = {"overdue": "⏰", "open": "📬", "paid": "✅", "draft": "📝", "accepted": "👍", "closed": "📁"}
ACTIONS = {"pdf": (N_("📄 PDF"), "ov.pdf"), "accept": (N_("👍 Accepted"), "ov.acc"),
           "decline": (N_("👎 Declined"), "ov.dec"), "expire": (N_("⌛ Expired"), "ov.exp"),
           "invoice": (N_("🧾 Invoice it"), "ov.inv"), "pay": (N_("💶 Register payment"), "ov.pay"),
           "credit": (N_("↩️ Credit"), "ov.cred"), "resend": (N_("📧 Send again"), "send.re"),
           "duplicate": (N_("📑 Duplicate"), "ov.dup")}
READ_ONLY = ("pdf",)


@command("facturen", "invoices", menu=("Facturen: open, te laat, betaald", "Invoices: open, overdue, paid"))
async def invoices(turn: Turn, argument: str = "") -> None:
    turn.finish()
    overview = await turn.db(invoice_overview, turn.company_id, today=turn.services.today())
    await _show(turn, overview, turn.t("📊 Invoices"))


@command("offertes", "quotes", menu=("Offertes", "Quotes"))
async def quotes(turn: Turn, argument: str = "") -> None:
    turn.finish()
    overview = await turn.db(quote_overview, turn.company_id, today=turn.services.today())
    await _show(turn, overview, turn.t("📊 Quotes"))


async def _show(turn: Turn, overview: Overview, title: str) -> None:
    lines, buttons = [title], []
    prefix = "quote." if overview.kind == "quote" else ""
    for section in overview.sections:
        lines.append(turn.t(SECTION[prefix + section.key], count=section.count,
                            amount=money(section.total, turn.language)))
        buttons += [turn.button(_row_label(turn, section.key, row), "ov.doc", row.id) for row in section.rows]
    if not any(s.count for s in overview.sections):
        lines.append(turn.t("Nothing yet. Make one with /factuur or /offerte, or type it in one sentence."))
    await turn.say("\n".join(lines), keyboard=turn.keyboard(*buttons[:MAX_BUTTONS]) if buttons else None)


def _row_label(turn: Turn, key: str, row: DocumentRow) -> str:
    number = row.number or turn.t("draft")
    amount = row.outstanding if key in ("overdue", "open") else row.total_incl
    return f"{ICON.get(key, '')} {number} · {row.contact_name[:24]} · {money(amount, turn.language)}"


# ---- one document ----------------------------------------------------------------------------------

@button("ov.doc", roles=ANYONE)
async def document(turn: Turn, doc_id: str) -> None:
    summary = await turn.db(document_summary, turn.company_id, int(doc_id), today=turn.services.today())
    await show_document(turn, summary)


async def show_document(turn: Turn, summary: DocumentSummary) -> None:
    if summary.status == "draft" and turn.role in STAFF:
        await show_draft(turn, summary.id)
        return
    allowed = [a for a in summary.actions if a in ACTIONS and (turn.role in STAFF or a in READ_ONLY)]
    buttons = [turn.button(turn.t(ACTIONS[a][0]), ACTIONS[a][1], summary.id) for a in allowed]
    rows = [buttons[i:i + 2] for i in range(0, len(buttons), 2)]
    await turn.say(card_text(turn, summary), keyboard=turn.keyboard(*rows) if rows else None)


async def _outcome(turn: Turn, doc_id: str, action: str) -> None:
    await turn.db(set_quote_outcome, turn.company_id, int(doc_id), action, now=turn.services.now())
    await document(turn, doc_id)


@button("ov.acc", roles=STAFF)
async def accepted(turn: Turn, doc_id: str) -> None:
    await _outcome(turn, doc_id, "accept")


@button("ov.dec", roles=STAFF)
async def declined(turn: Turn, doc_id: str) -> None:
    await _outcome(turn, doc_id, "decline")


@button("ov.exp", roles=STAFF)
async def expired(turn: Turn, doc_id: str) -> None:
    await _outcome(turn, doc_id, "expire")


@button("ov.inv", roles=STAFF)
async def invoice_quote(turn: Turn, doc_id: str) -> None:
    """Accepted quote → invoice draft with everything of the quote → the card, ready to send."""
    services = turn.services
    invoice = await turn.db(lambda s: invoice_from_quote(s, turn.company_id, int(doc_id), today=services.today(),
                                                         now=services.now()).id)
    await turn.say(turn.t("The quote is now invoiced. Here is the invoice draft:"))
    await show_draft(turn, invoice)


@button("ov.cred", roles=STAFF)
async def credit(turn: Turn, doc_id: str) -> None:
    note = await turn.db(lambda s: create_credit_note(s, turn.company_id, int(doc_id),
                                                      today=turn.services.today()).id)
    await turn.say(turn.t("A credit note for the whole invoice. Change it if only part is credited:"))
    await show_draft(turn, note)


@button("ov.dup", roles=STAFF)
async def duplicate(turn: Turn, doc_id: str) -> None:
    copy = await turn.db(lambda s: duplicate_document(s, turn.company_id, int(doc_id),
                                                      today=turn.services.today()).id)
    await turn.say(turn.t("A copy as a new draft:"))
    await show_draft(turn, copy)


# ---- a payment booked by hand ------------------------------------------------------------------------

@button("ov.pay", roles=STAFF)
async def pay(turn: Turn, doc_id: str) -> None:
    summary = await turn.db(document_summary, turn.company_id, int(doc_id), today=turn.services.today())
    turn.goto(FLOW, "pay", doc=summary.id)
    full = money(summary.outstanding, turn.language)
    await turn.say(turn.t("How much did you receive for {kind} {number}? Outstanding: {amount}.",
                          kind=turn.t(KIND[summary.kind]).lower(), number=summary.number, amount=full),
                   keyboard=turn.keyboard(turn.button(turn.t("All of it: {amount}", amount=full), "ov.paid",
                                                      summary.id, str(summary.outstanding))))


@button("ov.paid", roles=STAFF)
async def paid_in_full(turn: Turn, doc_id: str, amount: str) -> None:
    await _book(turn, int(doc_id), amount)


@step(FLOW, "pay")
async def amount_typed(turn: Turn, text: str) -> None:
    await _book(turn, turn.data["doc"], str(parse_amount(text, language=turn.language)))


async def _book(turn: Turn, doc_id: int, amount: str) -> None:
    def book(session):  # type: ignore[no-untyped-def]
        booking = record_manual_payment(session, turn.company_id, doc_id, Decimal(amount),
                                        received_on=turn.services.today(), now=turn.services.now())
        if booking.unapplied:          # roll back: no payment row, no notification
            raise ConflictError(f"invoice {doc_id} takes no payment")
        return document_summary(session, turn.company_id, doc_id, today=turn.services.today())
    summary = await turn.db(book)
    turn.finish()
    booked = money(Decimal(amount), turn.language)
    if summary.status == "paid":
        await turn.say(turn.t("Booked {amount}. {number} is paid. 🎉", amount=booked, number=summary.number))
    else:
        await turn.say(turn.t("Booked {amount}. Still outstanding on {number}: {open}.", amount=booked,
                              number=summary.number, open=money(summary.outstanding, turn.language)))
