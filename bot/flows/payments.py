"""Getting paid, in the chat: the "Betaald!" messages and the other payment notifications (outbox
kinds of ``core.payments``), the owner's one-tap answers to them, the money questions (/overzicht,
/btw, /kor) and bank statements sent as a file (``import_statement_file``, called by the default
file handler when ``core.payments.statements.looks_like_statement`` says so).

Every callback parses, calls one core service off the event loop and answers from the catalogue
(``core/locale/*/LC_MESSAGES/bot_payments.po``). The accountant may read the figures but not decide
reminders, thank customers or book statement lines.
"""
from __future__ import annotations

import logging
from datetime import date
from decimal import Decimal

from telegram.error import TelegramError

from bot.delivery import Rendered, renderer
from bot.flows.documents import N_
from bot.router import ANYONE, STAFF, Turn, button, command
from bot.texts import day, money
from bot.texts import t as tr
from core.document_view import format_percent
from core.errors import AccessDeniedError
from core.models import Role
from core.payments.bank import (
    assign_transaction,
    dismiss_transaction,
    import_statement,
    missing_receipts,
    unmatched_credits,
)
from core.payments.chart import overview_chart_png
from core.payments.figures import (
    kor_status,
    overview,
    quarter_bounds,
    vat_return,
    vat_return_csv,
)
from core.payments.reminders import (
    approve_reminder,
    postpone_reminder,
    set_reminder_mode,
    skip_reminder,
)
from core.payments.thanks import send_thanks

log = logging.getLogger(__name__)
MAX_CREDITS = 10            # unmatched credits asked about after one import
MAX_DEBITS = 10             # missing-receipt nudges after one import
WAIT_DAYS = 3               # "⏳ Wait 3 days" on a reminder question
VAT_BOXES = ("1a", "1b", "1c", "1e", "3a", "3b", "5a", "5b", "5g")
STAGE = {1: N_("first"), 2: N_("second"), 3: N_("final")}
REVERSAL = {"refunded": N_("refunded"), "charged_back": N_("charged back by the bank")}


def _money(value: object, language: str) -> str:
    return money(Decimal(str(value or "0")), language)


def _day(value: str, language: str) -> str:
    return day(date.fromisoformat(value), language) if value else "—"


# ---- the outbox: "Betaald!" and friends ---------------------------------------------------------

@renderer("invoice_paid")
def invoice_paid(p: dict, lang: str) -> Rendered:
    """Payload: see ``core.payments.booking._payload``."""
    payer, contact_name = p.get("payer_name") or p.get("contact_name") or "—", p.get("contact_name") or "—"
    text = tr(lang, "💶 Paid! {payer} paid {amount} for invoice {number}." if payer == contact_name else
              "💶 Paid! {payer} paid {amount} for invoice {number} ({contact}).", payer=payer,
              amount=_money(p.get("amount"), lang), number=p.get("number") or "—", contact=contact_name)
    if p.get("paid_in_full"):
        text += "\n" + tr(lang, "The invoice is paid in full ({total}).", total=_money(p.get("total"), lang))
    else:
        text += "\n" + tr(lang, "Partly paid: {paid} of {total} received; {open} is still open.",
                          paid=_money(p.get("paid_total"), lang), total=_money(p.get("total"), lang),
                          open=_money(p.get("outstanding"), lang))
    if Decimal(str(p.get("overpaid") or "0")) > 0:
        text += "\n" + tr(lang, "⚠️ {amount} too much was paid.", amount=_money(p.get("overpaid"), lang))
    doc, contact = int(p["invoice_id"]), int(p["contact_id"])
    return Rendered(text, [[(tr(lang, "🙏 Send a thank-you"), "pay.thx", (doc,)),
                            (tr(lang, "🔎 Invoice"), "ov.doc", (doc,))],
                           [(tr(lang, "🔕 Stop reminders"), "pay.stop", (contact,))]])


@renderer("payment_reversed")
def payment_reversed(p: dict, lang: str) -> Rendered:
    text = tr(lang, "↩️ {amount} of invoice {number} ({contact}) was {reason}. Open again: {open}.",
              amount=_money(p.get("amount"), lang), number=p.get("number") or "—",
              contact=p.get("contact_name") or "—", reason=tr(lang, REVERSAL.get(p.get("reason", ""), REVERSAL["refunded"])),
              open=_money(p.get("outstanding"), lang))
    return Rendered(text, [[(tr(lang, "🔎 Invoice"), "ov.doc", (int(p["invoice_id"]),))]])


@renderer("payment_unapplied")
def payment_unapplied(p: dict, lang: str) -> Rendered:
    text = tr(lang, "⚠️ {payer} paid {amount} for invoice {number}, but that invoice takes no payment any more "
                    "(it is {status}). Nothing was booked: pay it back, or tell me which invoice it is for.",
              payer=p.get("payer_name") or "—", amount=_money(p.get("amount"), lang), number=p.get("number") or "—",
              status=tr(lang, str(p.get("status") or "—")))
    return Rendered(text, [[(tr(lang, "🔎 Invoice"), "ov.doc", (int(p["invoice_id"]),))]])


@renderer("payment_link_failed")
def payment_link_failed(p: dict, lang: str) -> Rendered:
    text = tr(lang, "⚠️ Invoice {number} has no payment link yet: {error}", number=p.get("number") or "—",
              error=str(p.get("error") or "—")[:200])
    text += "\n" + (tr(lang, "I keep trying in the background. The invoice can be paid by bank transfer meanwhile.")
                    if p.get("retrying") else
                    tr(lang, "I stopped trying. The invoice can still be paid by bank transfer; check your "
                             "Mollie account."))
    return Rendered(text, [[(tr(lang, "🔎 Invoice"), "ov.doc", (int(p["invoice_id"]),))]])


@renderer("iban_verified")
def iban_verified(p: dict, lang: str) -> Rendered:
    return Rendered(tr(lang, "✅ Your IBAN {iban} is checked: the € 0.01 came from that account.",
                       iban=p.get("company_iban") or "—"), [])


@renderer("iban_mismatch")
def iban_mismatch(p: dict, lang: str) -> Rendered:
    return Rendered(tr(lang, "⚠️ The € 0.01 came from {paying} ({name}), not from your IBAN {iban}. Your IBAN is "
                             "not marked as checked. Check it in /instellingen, or pay the check from the business "
                             "account.", paying=p.get("paying_account") or "—", name=p.get("paying_name") or "—",
                       iban=p.get("company_iban") or "—"), [])


@renderer("reminder_due")
def reminder_due(p: dict, lang: str) -> Rendered:
    """Payload: see ``core.payments.reminders._payload``. The one-tap decision."""
    stage = int(p.get("stage") or 1)
    text = tr(lang, "⏰ {contact} is {days} days late with invoice {number} ({open} open).",
              contact=p.get("contact_name") or "—", days=p.get("days_overdue", 0), number=p.get("number") or "—",
              open=_money(p.get("outstanding"), lang))
    text += "\n" + tr(lang, "Shall I send the {stage} reminder?", stage=tr(lang, STAGE.get(stage, STAGE[1])))
    if stage == 3 and p.get("is_business"):
        text += "\n" + tr(lang, "It claims statutory commercial interest ({interest} so far) and {compensation} "
                                "compensation.", interest=_money(p.get("interest"), lang),
                          compensation=_money(p.get("compensation"), lang))
        if not p.get("interest_rates_confirmed", True):
            rate = format_percent(Decimal(p["interest_rate"]), lang) if p.get("interest_rate") else "—"
            text += "\n" + tr(lang, "⚠️ The interest uses {rate} a year (the rate from {since}). Klerk's table of "
                                    "rates is not checked against the official publication: check the rate before "
                                    "you send.", rate=rate,
                              since=_day(p.get("interest_rate_since", ""), lang))
    elif stage == 3:
        text += "\n" + tr(lang, "It is the statutory 14-day letter: pay by {deadline}, else {costs} collection costs.",
                          deadline=_day(p.get("deadline", ""), lang), costs=_money(p.get("collection_costs"), lang))
    rid = int(p["reminder_id"])
    row = [(tr(lang, "📧 Send reminder"), "pay.rok", (rid,))] if p.get("has_email") else []
    if not p.get("has_email"):
        text += "\n" + tr(lang, "The customer has no e-mail address, so I cannot send it.")
    return Rendered(text, [row + [(tr(lang, "⏭ Not now"), "pay.rskip", (rid,))],
                           [(tr(lang, "📞 Call first"), "pay.rcall", (rid,)),
                            (tr(lang, "⏳ Wait {days} days", days=WAIT_DAYS), "pay.rwait", (rid,))],
                           [(tr(lang, "🔎 Invoice"), "ov.doc", (int(p["invoice_id"]),))]])


@renderer("reminder_sent")
def reminder_sent(p: dict, lang: str) -> Rendered:
    stage = int(p.get("stage") or 1)
    text = tr(lang, "📧 The {stage} reminder for invoice {number} went to {contact} ({open} open).",
              stage=tr(lang, STAGE.get(stage, STAGE[1])), number=p.get("number") or "—",
              contact=p.get("contact_name") or "—", open=_money(p.get("outstanding"), lang))
    return Rendered(text, [[(tr(lang, "🔎 Invoice"), "ov.doc", (int(p["invoice_id"]),)),
                            (tr(lang, "🔕 Stop reminders"), "pay.stop", (int(p["contact_id"]),))]])


@renderer("reminder_failed")
def reminder_failed(p: dict, lang: str) -> Rendered:
    if p.get("uncertain"):
        text = tr(lang, "⚠️ I do not know whether the reminder for invoice {number} to {contact} went out: Klerk "
                        "stopped while sending it. Check with your customer before you send it again.",
                  number=p.get("number") or "—", contact=p.get("contact_name") or "—")
    else:
        text = tr(lang, "⚠️ The reminder for invoice {number} to {contact} could not be sent: {error}",
                  number=p.get("number") or "—", contact=p.get("contact_name") or "—",
                  error=str(p.get("error") or "—")[:200])
    return Rendered(text, [[(tr(lang, "🔎 Invoice"), "ov.doc", (int(p["invoice_id"]),))]])


@renderer("quote_expiring")
def quote_expiring(p: dict, lang: str) -> Rendered:
    text = tr(lang, "⌛ Quote {number} for {contact} ({total}) expires in {days} days, on {until}. A short call "
                    "often helps.", number=p.get("number") or "—", contact=p.get("contact_name") or "—",
              total=_money(p.get("total"), lang), days=p.get("days_left", 0), until=_day(p.get("valid_until", ""), lang))
    return Rendered(text, [[(tr(lang, "🔎 Quote"), "ov.doc", (int(p["quote_id"]),))]])


@renderer("kor_threshold")
def kor_threshold(p: dict, lang: str) -> Rendered:
    return Rendered(_kor_text(p, lang), [])


def _kor_text(p: dict, lang: str) -> str:
    share = int(Decimal(str(p.get("share") or "0")) * 100)
    text = tr(lang, "📈 Turnover {year}: {turnover} of the {threshold} KOR limit ({share} %).", year=p.get("year"),
              turnover=_money(p.get("turnover"), lang), threshold=_money(p.get("threshold"), lang), share=share)
    level = p.get("level")
    if level == "exceeded":
        text += "\n" + tr(lang, "⚠️ You are over the limit: from the invoice that crossed it you charge VAT again. "
                                "Tell the Belastingdienst and your accountant.")
    elif level == "warning":
        text += "\n" + tr(lang, "⚠️ You are above 80 % of the limit. Above it the KOR ends and you charge VAT again.")
    elif not p.get("applies"):
        text += "\n" + tr(lang, "You do not use the KOR; this is for your information.")
    return text


# ---- the owner's taps on those messages ---------------------------------------------------------

@button("pay.thx", roles=STAFF)
async def thank(turn: Turn, doc_id: str) -> None:
    services = turn.services
    if not services.relay.configured:
        await turn.say(turn.t("No outgoing mail server is set up, so I cannot send a thank-you."))
        return
    thanks = await turn.db(send_thanks, turn.company_id, int(doc_id), relay=services.relay, now=services.now())
    await turn.say(turn.t("🙏 Thank-you sent to {to} for invoice {number}.", to=thanks.recipient, number=thanks.number))


@button("pay.stop", roles=STAFF)
async def stop_reminders(turn: Turn, contact_id: str) -> None:
    await turn.db(set_reminder_mode, turn.company_id, int(contact_id), now=turn.services.now(), paused=True)
    await turn.say(turn.t("🔕 No more reminders to this customer. Reminders already sent stay sent."))


@button("pay.rok", roles=STAFF)
async def approve(turn: Turn, reminder_id: str) -> None:
    await turn.db(approve_reminder, turn.company_id, int(reminder_id), now=turn.services.now())
    await turn.say(turn.t("📧 The reminder goes out now. You will get a message when it is sent."))


@button("pay.rskip", roles=STAFF)
async def skip(turn: Turn, reminder_id: str) -> None:
    await turn.db(skip_reminder, turn.company_id, int(reminder_id), now=turn.services.now())
    await turn.say(turn.t("⏭ Not sent. I ask again at the next reminder of the schedule."))


@button("pay.rwait", roles=STAFF)
async def wait(turn: Turn, reminder_id: str) -> None:
    await turn.db(postpone_reminder, turn.company_id, int(reminder_id), days=WAIT_DAYS, now=turn.services.now())
    await turn.say(turn.t("⏳ Fine: nothing is sent now. I ask again in {days} days, unless it is paid by then.",
                          days=WAIT_DAYS))


@button("pay.rcall", roles=STAFF)
async def call_first(turn: Turn, reminder_id: str) -> None:
    def decide(session):  # type: ignore[no-untyped-def]
        from core.contacts import get_contact
        from core.documents import get_document

        reminder = skip_reminder(session, turn.company_id, int(reminder_id), now=turn.services.now())
        contact = get_contact(session, turn.company_id, get_document(session, turn.company_id,
                                                                     reminder.document_id).contact_id)
        return contact.name, contact.phone
    name, phone = await turn.db(decide)
    await turn.say(turn.t("📞 Fine: call {name} first ({phone}). No mail now; I ask again at the next reminder "
                          "of the schedule.", name=name, phone=phone or turn.t("no phone number known")))


# ---- money questions --------------------------------------------------------------------------

@command("overzicht", "overview", roles=ANYONE, menu=("Overzicht: open, te laat, ontvangen", "Overview: open, overdue, received"))
async def money_overview(turn: Turn, argument: str = "") -> None:
    turn.finish()
    today = turn.services.today()
    figures = await turn.db(overview, turn.company_id, today=today)
    lang = turn.language
    text = "\n".join([
        turn.t("📊 Overview on {day}", day=day(today, lang)),
        turn.t("📬 Open: {count} invoices · {amount}", count=figures.open_count, amount=money(figures.open_amount, lang)),
        turn.t("⏰ Overdue: {count} invoices · {amount}", count=figures.overdue_count,
               amount=money(figures.overdue_amount, lang)),
        turn.t("💶 Received this month: {amount}", amount=money(figures.received_month, lang)),
        turn.t("💶 Received this year: {amount}", amount=money(figures.received_year, lang))])
    await turn.say(text)
    await turn.typing("upload_photo")
    png = await turn.db(overview_chart_png, turn.company_id, today=today, language=lang)
    await turn.bot.send_photo(turn.chat_id, png, caption=turn.t("Invoiced and received per month, last 12 months."))


def _current_quarter(today: date) -> str:
    return f"{today.year}-Q{(today.month - 1) // 3 + 1}"


def _input_vat_source():  # type: ignore[no-untyped-def]
    """The VAT on confirmed receipts (``core.inbox``), the default stand-in when that is not there."""
    try:
        from core.inbox.bookkeeping import input_vat
    except ImportError:
        from core.payments.figures import no_input_vat as input_vat
    return input_vat


@command("btw", "vat", roles=ANYONE, menu=("Btw-aangifte van een kwartaal", "VAT return of a quarter"))
async def vat(turn: Turn, argument: str = "") -> None:
    turn.finish()
    quarter = (argument or _current_quarter(turn.services.today())).strip().upper()
    quarter_bounds(quarter)                              # ValidationError: "Not a quarter like 2026-Q3"
    ret = await turn.db(vat_return, turn.company_id, quarter, input_vat=_input_vat_source())
    lang = turn.language
    lines = [turn.t("🧾 VAT return {quarter} ({start} – {end})", quarter=ret.quarter, start=day(ret.start, lang),
                    end=day(ret.end, lang))]
    if not ret.required:
        lines.append(turn.t("You use the KOR: you file no VAT return. The figures are for your information."))
    for code in VAT_BOXES:
        line = ret.line(code)
        if code in ("1c", "3a") and not (line.base or line.vat):
            continue
        base, tax = ret.whole_euros(code)
        if code.startswith("5"):
            lines.append(turn.t("{code} {label}: {vat}", code=code, label=turn.t(_box(code)), vat=f"€ {tax}"))
        else:
            lines.append(turn.t("{code} {label}: turnover {base}, VAT {vat}", code=code, label=turn.t(_box(code)),
                                base=f"€ {base}", vat=f"€ {tax}"))
    if ret.icp:
        lines.append(turn.t("ICP list (intra-EU supplies):"))
        lines += [f"• {i.vat_id} ({i.country}): {money(i.goods + i.services, lang)}" for i in ret.icp]
    lines += [turn.t(note) for note in ret.notes]
    await turn.say("\n".join(lines))
    csv_text = vat_return_csv(ret, language=lang)
    await turn.bot.send_document(turn.chat_id, csv_text.encode("utf-8-sig"), filename=f"btw-{ret.quarter}.csv",
                                 caption=turn.t("The figures as a spreadsheet (CSV), for you or your accountant."))


def _box(code: str) -> str:
    from core.payments.figures import RUBRIEKEN

    return RUBRIEKEN[code]


@command("kor", roles=ANYONE, menu=("KOR: omzet tegenover de grens", "KOR: turnover against the limit"))
async def kor(turn: Turn, argument: str = "") -> None:
    turn.finish()
    status = await turn.db(kor_status, turn.company_id, today=turn.services.today())
    await turn.say(_kor_text(status.as_payload(), turn.language))


# ---- bank statements --------------------------------------------------------------------------

async def import_statement_file(turn: Turn, filename: str, content: bytes) -> None:
    """A CAMT.053 or MT940 file sent in the chat: import it (idempotent), then report what was booked
    (each booking's "Betaald!" comes through the outbox), ask about each credit that matched no
    invoice surely, and nudge about debits without a receipt."""
    if turn.company_id is None or turn.role not in STAFF:
        raise AccessDeniedError("statement import")
    services = turn.services
    now = services.now()

    def run(session):  # type: ignore[no-untyped-def]
        result = import_statement(session, turn.company_id, content, now=now)
        credits = [s for s in unmatched_credits(session, turn.company_id, limit=100)
                   if s.transaction.id in result.to_assign][:MAX_CREDITS]
        has_receipt = _receipt_check()
        debits = [t for t in missing_receipts(session, turn.company_id, has_receipt=has_receipt, limit=200)
                  if t.imported_at == now][:MAX_DEBITS] if result.debits else []
        return (result, [(s.transaction.id, s.transaction.amount, s.transaction.counterparty_name,
                          s.transaction.booking_date, s.transaction.remittance,
                          [(c.invoice_id, c.number, c.outstanding) for c in s.candidates]) for s in credits],
                [(t.id, t.amount, t.counterparty_name, t.booking_date) for t in debits])
    result, credits, debits = await turn.db(run)
    lang = turn.language
    text = turn.t("🏦 Statement {name} read ({format}): {new} new lines, {duplicates} already known.",
                  name=filename or "—", format=result.format.upper(), new=result.new, duplicates=result.duplicates)
    if result.booked:
        text += "\n" + turn.t("✅ {count} payments booked on invoices; a message for each follows.",
                              count=len(result.booked))
    if result.to_assign:
        text += "\n" + turn.t("❓ {count} amounts received I could not match for sure.", count=len(result.to_assign))
    if result.other_accounts:
        text += "\n" + turn.t("Note: this statement is of {accounts}, not of your IBAN.",
                              accounts=", ".join(result.other_accounts))
    await turn.say(text)
    for txn, amount, name, on, remittance, candidates in credits:
        question = turn.t("💶 {amount} from {name} on {day}: “{text}”. Which invoice is this?", amount=money(amount, lang),
                          name=name or "—", day=day(on, lang), text=(remittance or "—")[:120])
        rows = [[turn.button(turn.t("This is invoice {number} ({open})", number=number, open=money(left, lang)),
                             "pay.asg", txn, invoice)] for invoice, number, left in candidates]
        rows.append([turn.button(turn.t("🚫 Ignore"), "pay.ign", txn)])
        await turn.say(question, keyboard=turn.keyboard(*rows))
    for txn, amount, name, on in debits:
        await turn.say(turn.t("🧾 {amount} to {name} on {day}: forward the invoice or receipt, or mark it private.",
                              amount=money(amount, lang), name=name or "—", day=day(on, lang)),
                       keyboard=turn.keyboard(turn.button(turn.t("🏠 Private"), "pay.ign", txn)))


def _receipt_check():  # type: ignore[no-untyped-def]
    try:
        from core.inbox.bookkeeping import has_receipt
    except ImportError:
        from core.payments.bank import no_receipts_yet as has_receipt
    return has_receipt


@button("pay.asg", roles=STAFF)
async def assign(turn: Turn, transaction_id: str, invoice_id: str) -> None:
    booking = await turn.db(assign_transaction, turn.company_id, int(transaction_id), int(invoice_id),
                            now=turn.services.now())
    if booking.unapplied:
        await turn.say(turn.t("That invoice takes no payment any more. Nothing was booked."))
        return
    await turn.say(turn.t("✅ Booked {amount} on the invoice. The “paid” message follows.",
                          amount=money(booking.delta, turn.language)))


@button("pay.ign", roles=STAFF)
async def ignore(turn: Turn, transaction_id: str) -> None:
    await turn.db(dismiss_transaction, turn.company_id, int(transaction_id))
    await turn.say(turn.t("🚫 Marked: not an invoice payment, no receipt needed."))


# ---- connecting Mollie ------------------------------------------------------------------------

@command("mollie", roles=(Role.OWNER,), menu=None)
async def connect_mollie(turn: Turn, argument: str = "") -> None:
    """``/mollie test_…`` stores the company's Mollie API key (encrypted); the message is deleted."""
    payments = turn.services.extra.get("payments")
    if payments is None:
        await turn.say(turn.t("Online payments are not available on this Klerk."))
        return
    if not argument:
        await turn.say(turn.t("Send /mollie followed by your Mollie API key (live_… or test_…). I store it encrypted "
                              "and delete your message."))
        return
    message = turn.update.effective_message
    if message is not None:
        try:
            await turn.bot.delete_message(turn.chat_id, message.message_id)
        except TelegramError:          # deleting is a courtesy; the key is stored either way
            log.info("could not delete the message with the Mollie key in chat %s", turn.chat_id)
    hint = await turn.services.run(payments.connect, turn.company_id, argument.strip())
    await turn.say(turn.t("✅ Mollie connected ({hint}). Invoices sent by e-mail now get a payment link.", hint=hint))


__all__ = ["import_statement_file"]
