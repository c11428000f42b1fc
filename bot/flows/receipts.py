"""The digital shoebox in the chat: the cards the ingest sends (through the outbox), the verdicts
(✅ klopt, ✏️ wijzig, privé, geen bon), /bonnen with filters and pages, the original, /export per
period and /adres with its rotation. Rules (which status may become which, who may change what)
live in ``core.inbox``; this module parses, calls one service and answers.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from bot.delivery import Rendered, renderer
from bot.router import ANYONE, STAFF, Turn, button, command, step
from bot.texts import t as translate_for
from core.document_view import format_money, format_quantity
from core.inbox.addresses import address_of, ingest_address, rotate_ingest_address
from core.inbox.chat import (
    PAGE_SIZE,
    allowed_verdicts,
    current_quarter,
    parse_shoebox_filter,
    parse_vat_text,
    receipt_card,
    shoebox_page,
)
from core.inbox.export import export_period
from core.inbox.facts import status_label
from core.inbox.periods import parse_period
from core.inbox.receipts import (
    confirm_receipt,
    edit_receipt,
    mark_not_receipt,
    mark_private,
    receipt_original,
)
from core.inbox.replies import reason_text
from core.inbox.store import FileStore
from core.models import Role

FLOW = "rc"
OWNER = (Role.OWNER,)


def N_(message: str) -> str:
    return message


FIELDS = {"vendor": N_("supplier"), "total": N_("amount"), "date": N_("date"), "vat": N_("VAT"),
          "net": N_("amount excl. VAT"), "invoice_number": N_("invoice number")}
EDIT_CHOICES = ("vendor", "total", "date", "vat", "invoice_number")
ASK = {"vendor": N_("Type the supplier's name."),
       "total": N_("Type the total including VAT, e.g. 12,50."),
       "date": N_("Type the date of the receipt, e.g. 28-11-2026."),
       "vat": N_("Type the VAT as rate and amount, e.g. 9% 1,00 (several: 21% 2,10; 9% 0,50; none: 0)."),
       "net": N_("Type the amount excluding VAT, e.g. 11,10."),
       "invoice_number": N_("Type the invoice number.")}
VERDICTS = {"confirm": (N_("✅ Correct"), "rc.ok"), "edit": (N_("✏️ Edit"), "rc.ed"),
            "private": (N_("🏠 Private"), "rc.pv"), "not_receipt": (N_("🗑 Not a receipt"), "rc.nb")}
DUPLICATE = {"same_file": N_("the same file"), "same_fields": N_("same supplier, date and amount")}


# ---- wording of one document ----------------------------------------------------------------------

def _day(iso: str | None) -> str:
    return f"{iso[8:10]}-{iso[5:7]}-{iso[0:4]}" if iso else "—"


def summary(f: dict[str, Any], language: str) -> str:
    """``Albert Heijn — € 12,10 incl. € 1,00 btw (9 %) — 28-11-2026``."""
    def tr(message: str, **kw: Any) -> str:
        return translate_for(language, message, **kw)
    currency = f.get("currency") or "EUR"
    amount = (format_money(Decimal(f["total"]), language, currency) if f.get("total") is not None
              else tr("amount unknown"))
    vat = [tr("{amount} VAT ({rate}%)", amount=format_money(Decimal(v["amount"]), language, currency),
              rate=format_quantity(Decimal(v["rate"]), language)) for v in f.get("vat") or []]
    if vat:
        amount += " " + tr("incl. {vat}", vat=" + ".join(vat))
    return " — ".join([f.get("vendor") or tr("unknown supplier"), amount, _day(f.get("date"))])


def _rows(buttons: list, per_row: int = 2) -> list[list]:
    return [buttons[i:i + per_row] for i in range(0, len(buttons), per_row)]


def card(f: dict[str, Any], language: str, *, head: str, staff: bool = True) -> Rendered:
    """A document with the buttons its status allows (buttons as ``(label, action, args)``)."""
    def tr(message: str, **kw: Any) -> str:
        return translate_for(language, message, **kw)
    rid = int(f["receipt_id"])
    lines = [tr(head, summary=summary(f, language))]
    buttons: list[tuple[str, str, tuple]] = []
    if f.get("duplicate_of"):
        lines.append(tr("This receipt you had already sent ({reason}, #{id}). I keep it aside from the export.",
                        reason=tr(DUPLICATE.get(f.get("duplicate_reason") or "", N_("the same file"))),
                        id=f["duplicate_of"]))
        buttons.append((tr("🔎 The earlier one"), "rc.doc", (int(f["duplicate_of"]),)))
        if staff and "not_receipt" in allowed_verdicts(f["status"]):
            buttons.append((tr("🗑 Remove this copy"), "rc.nb", (rid,)))
        return Rendered("\n".join(lines), _rows(buttons))
    verdicts = allowed_verdicts(f["status"]) if staff else ()
    low = [name for name in f.get("low_confidence") or [] if name in FIELDS]
    if low and "edit" in verdicts:
        lines.append(tr("❓ I am not sure about: {fields}. Is that right?",
                        fields=", ".join(tr(FIELDS[name]) for name in low)))
        buttons += [(tr("✏️ {field} is wrong", field=tr(FIELDS[name]).capitalize()), "rc.fx", (rid, name))
                    for name in low]
    buttons += [(tr(VERDICTS[v][0]), VERDICTS[v][1], (rid,)) for v in verdicts]
    return Rendered("\n".join(lines), _rows(buttons))


def _markup(turn: Turn, rendered: Rendered, extra: list[tuple[str, str, tuple]] = ()):  # type: ignore[no-untyped-def]
    rows = [[turn.button(label, action, *args) for label, action, args in row] for row in rendered.buttons]
    rows += [[turn.button(label, action, *args) for label, action, args in extra]] if extra else []
    return turn.keyboard(*rows) if rows else None


# ---- what the ingest and the accountant's mails send (outbox) --------------------------------------

@renderer("receipt_received")
def received(payload: dict, language: str) -> Rendered:
    return card(payload, language, head=N_("Received: {summary}"))


@renderer("receipt_rejected")
def rejected(payload: dict, language: str) -> Rendered:
    reason = reason_text(" ".join(str(payload.get("reason") or "could not be read").split())[:300], language)
    name = payload.get("filename") or translate_for(language, "your document")
    return Rendered(translate_for(language, "⚠️ I could not read {name}: {reason}. Nothing was added to your "
                                            "shoebox. Send a sharper photo, the PDF or the e-invoice (XML).",
                                  name=name, reason=reason), [])


@renderer("receipt_processed")
def processed(payload: dict, language: str) -> Rendered:
    return Rendered(translate_for(language, "📗 Your accountant has processed: {summary}",
                                  summary=summary(payload, language)),
                    [[(translate_for(language, "🔎 Details"), "rc.doc", (int(payload["receipt_id"]),))]])


@renderer("accountant_replied")
def replied(payload: dict, language: str) -> Rendered:
    excerpt = (payload.get("excerpt") or "").strip()[:500]
    return Rendered(translate_for(language, "💬 Your accountant replied about {vendor}:\n{excerpt}",
                                  vendor=payload.get("vendor") or translate_for(language, "unknown supplier"),
                                  excerpt=excerpt or "—"),
                    [[(translate_for(language, "🔎 Details"), "rc.doc", (int(payload["receipt_id"]),))]])


@renderer("accountant_share_failed")
def share_failed(payload: dict, language: str) -> Rendered:
    reason = " ".join(str(payload.get("reason") or "—").split())[:300]
    text = translate_for(language, "⚠️ This receipt did not reach your accountant ({recipient}): {reason}\n{summary}"
                                   "\nCheck the accountant's e-mail address in /team.",
                         recipient=payload.get("recipient") or "—", reason=reason, summary=summary(payload, language))
    return Rendered(text, [[(translate_for(language, "🔎 Details"), "rc.doc", (int(payload["receipt_id"]),))]])


# ---- verdicts ------------------------------------------------------------------------------------

async def _verdict(turn: Turn, receipt_id: str, service, done: str) -> None:  # type: ignore[no-untyped-def]
    services = turn.services
    facts = await turn.db(lambda s: receipt_card(s, turn.company_id, service(
        s, turn.company_id, int(receipt_id), person_id=turn.person_id, now=services.now()).id))
    await turn.say(turn.t(done, summary=summary(facts, turn.language)))


@button("rc.ok", roles=STAFF)
async def confirmed(turn: Turn, receipt_id: str) -> None:
    await _verdict(turn, receipt_id, confirm_receipt, N_("✅ Checked: {summary}"))


@button("rc.pv", roles=STAFF)
async def private(turn: Turn, receipt_id: str) -> None:
    await _verdict(turn, receipt_id, mark_private, N_("🏠 Private: {summary}. Kept, but not exported or shared."))


@button("rc.nb", roles=STAFF)
async def not_receipt(turn: Turn, receipt_id: str) -> None:
    await _verdict(turn, receipt_id, mark_not_receipt, N_("🗑 Not a receipt: {summary}. Kept aside, never exported."))


@button("rc.ed", roles=STAFF)
async def change(turn: Turn, receipt_id: str) -> None:
    rid = int(receipt_id)
    await turn.say(turn.t("What should I change?"), keyboard=turn.keyboard(*_rows(
        [turn.button(turn.t(FIELDS[name]).capitalize(), "rc.fx", rid, name) for name in EDIT_CHOICES], 3)))


@button("rc.fx", roles=STAFF)
async def ask_value(turn: Turn, receipt_id: str, field: str) -> None:
    if field not in ASK:
        await turn.say(turn.t("I cannot find that (any more). Nothing was changed."))
        return
    turn.goto(FLOW, "value", receipt=int(receipt_id), field=field)
    await turn.say(turn.t(ASK[field]) + "\n" + turn.t("/cancel stops."))


@step(FLOW, "value")
async def value_typed(turn: Turn, text: str) -> None:
    rid, field, services = turn.data["receipt"], turn.data["field"], turn.services
    value: Any = parse_vat_text(text) if field == "vat" else text
    facts = await turn.db(lambda s: receipt_card(s, turn.company_id, edit_receipt(
        s, turn.company_id, rid, person_id=turn.person_id, now=services.now(), **{field: value}).id))
    turn.finish()
    rendered = card(facts, turn.language, head=N_("✏️ Saved: {summary}"))
    await turn.say(rendered.text, keyboard=_markup(turn, rendered))


# ---- the shoebox ---------------------------------------------------------------------------------

@command("bonnen", "receipts", menu=("Bonnen: je digitale schoenendoos", "Receipts: your digital shoebox"))
async def shoebox(turn: Turn, argument: str = "") -> None:
    turn.finish()
    wanted = parse_shoebox_filter(argument)
    await _page(turn, wanted.period or "", wanted.supplier or "", 0)


@button("rc.pg", roles=ANYONE)
async def page(turn: Turn, offset: str, period: str = "", supplier: str = "") -> None:
    await _page(turn, period, supplier, int(offset))


def _arg(text: str) -> str:
    return text.replace(",", " ").replace("|", " ")[:20]


async def _page(turn: Turn, period: str, supplier: str, offset: int) -> None:
    got = await turn.db(shoebox_page, turn.company_id, period=period or None, supplier=supplier or None,
                        offset=offset)
    where = ", ".join(x for x in (period, f"“{supplier}”" if supplier else "") if x)
    title = turn.t("🧾 Receipts ({filter})", filter=where) if where else turn.t("🧾 Receipts")
    if not got.rows:
        await turn.say(title + "\n" + turn.t("Nothing here yet. Send me a photo or PDF of a receipt, or forward "
                                             "it to your receipt address (/adres)."))
        return
    lines = [title, turn.t("received → checked → shared with the accountant → processed")]
    buttons = []
    for f in got.rows:
        state = status_label(f["status"], turn.language) + (" · " + turn.t("duplicate") if f["duplicate_of"] else "")
        lines.append(f"• {summary(f, turn.language)} · {state}")
        label = f"{_day(f['date'])[:5]} {(f['vendor'] or turn.t('unknown supplier'))[:22]}"
        buttons.append(turn.button(label, "rc.doc", f["receipt_id"]))
    nav = []
    if got.offset > 0:
        nav.append(turn.button(turn.t("◀ Newer"), "rc.pg", max(0, got.offset - PAGE_SIZE), period, _arg(supplier)))
    if got.has_more:
        nav.append(turn.button(turn.t("Older ▶"), "rc.pg", got.offset + len(got.rows), period, _arg(supplier)))
    rows = _rows(buttons) + ([nav] if nav else [])
    await turn.say("\n".join(lines), keyboard=turn.keyboard(*rows))


@button("rc.doc", roles=ANYONE)
async def details(turn: Turn, receipt_id: str) -> None:
    f = await turn.db(receipt_card, turn.company_id, int(receipt_id))
    rendered = card(f, turn.language, head=N_("🧾 {summary}"), staff=turn.role in STAFF)
    lines = [rendered.text, turn.t("Status: {status}", status=status_label(f["status"], turn.language))]
    if f.get("invoice_number"):
        lines.append(turn.t("Invoice number: {number}", number=f["invoice_number"]))
    if f.get("filename"):
        lines.append(turn.t("File: {name}", name=f["filename"]))
    await turn.say("\n".join(lines), keyboard=_markup(turn, rendered, [(turn.t("📎 Original"), "rc.org", (f["receipt_id"],))]))


def _store(turn: Turn) -> FileStore:
    return turn.services.extra["inbox_store"]


@button("rc.org", roles=ANYONE)
async def original(turn: Turn, receipt_id: str) -> None:
    await turn.typing("upload_document")
    got = await turn.db(receipt_original, _store(turn), turn.company_id, int(receipt_id))
    await turn.bot.send_document(turn.chat_id, got.content, filename=got.filename)


@command("export", "exporteer", menu=("Bonnen van een periode als ZIP", "Receipts of a period as a ZIP"))
async def export(turn: Turn, argument: str = "") -> None:
    turn.finish()
    period = argument.strip() or current_quarter(turn.services.today())
    await turn.typing("upload_document")
    got = await turn.db(export_period, _store(turn), turn.company_id, period, now=turn.services.now())
    if not got.count:
        await turn.say(turn.t("No receipts in {period} to export. /bonnen shows what there is.",
                              period=parse_period(period).label))
        return
    await turn.bot.send_document(turn.chat_id, got.content, filename=got.filename, caption=turn.t(
        "{count} receipts: the originals, a CSV for the spreadsheet and a UBL file per receipt.", count=got.count))


# ---- the receipt address -------------------------------------------------------------------------

@command("adres", "address", menu=("Je bonnen-e-mailadres", "Your receipt e-mail address"))
async def address(turn: Turn, argument: str = "") -> None:
    turn.finish()
    domain = turn.services.ingest_domain
    row = await turn.db(lambda s: ingest_address(s, turn.company_id, now=turn.services.now()))
    current = address_of(row, domain)
    keyboard = turn.keyboard(turn.button(turn.t("🔄 New address"), "adr.new", row.id)) if turn.role == Role.OWNER else None
    await turn.say(turn.t("📮 Your receipt address:\n{address}\n\nForward receipts and invoices to it, or set it as "
                          "the invoice address at your suppliers. I read them and put them in /bonnen.",
                          address=current), keyboard=keyboard)


@button("adr.new", roles=OWNER)
async def ask_rotate(turn: Turn, address_id: str = "") -> None:
    await turn.say(turn.t("Make a new address? The current one stops working at once: mail to it is refused. "
                          "Change it wherever you gave it."),
                   keyboard=turn.keyboard([turn.button(turn.t("🔄 Yes, a new address"), "adr.yes", address_id),
                                           turn.button(turn.t("No, keep it"), "adr.no")]))


@button("adr.yes", roles=OWNER)
async def rotate(turn: Turn, address_id: str = "") -> None:
    domain = turn.services.ingest_domain
    replacing = int(address_id) if address_id.isdigit() else None
    new = await turn.db(lambda s: address_of(rotate_ingest_address(
        s, turn.company_id, now=turn.services.now(), person_id=turn.person_id, replacing=replacing), domain))
    await turn.say(turn.t("✅ Your new receipt address:\n{address}\nThe old one no longer works.", address=new))


@button("adr.no", roles=OWNER)
async def keep(turn: Turn) -> None:
    await turn.say(turn.t("OK, the address stays the same."))
