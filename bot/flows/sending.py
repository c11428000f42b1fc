"""Sending ("Verzenden"): by e-mail to the customer, or the PDF here in the chat to forward by hand.

The number is given in the same unit of work that sends (``core.sending``); a refused mail leaves
nothing behind. When the compliance check blocks, the chat says what is missing and offers the
fix: a customer field is asked right here (flow ``send``, step ``fix``) and sending is retried;
company details go through /instellingen. A bounce reported by the ingest (outbox kind
``invoice_bounced``) is worded here as well.
"""
from __future__ import annotations

from telegram import InlineKeyboardButton

from bot.delivery import Rendered, renderer
from bot.flows.documents import KIND, N_
from bot.router import ANYONE, STAFF, Turn, button, step
from bot.texts import t as translate_for
from core.compliance import Finding
from core.drafts import update_document_customer
from core.invoices import NotReadyError
from core.mail import MailDeliveryError
from core.sending import (
    Sent,
    pdf_source,
    render_copy,
    resend_by_mail,
    send_by_mail,
    send_to_chat,
)

FLOW = "send"
VIA = {"m": "send.mail", "c": "send.chat", "r": "send.re"}
FIELD = {"buyer.street": N_("street and house number"), "buyer.postcode": N_("postcode"),
         "buyer.city": N_("city"), "buyer.email": N_("e-mail address"), "buyer.vat_id": N_("VAT id"),
         "buyer.kvk": N_("KvK number"), "buyer.country": N_("country (two letters, e.g. BE)")}
DRAFT_FIX = {"delivery_date": ("deliv", N_("📅 Delivery date")), "due_days": ("term", N_("📅 Term")),
             "buyer.is_business": ("vat", N_("🧾 VAT treatment")), "buyer.country": ("vat", N_("🧾 VAT treatment")),
             "seller.kor": ("vat", N_("🧾 VAT treatment")), "discount_percent": ("disc", N_("％ Discount"))}


@button("send.mail", roles=STAFF)
async def send_mail(turn: Turn, doc_id: str) -> None:
    await send_document(turn, int(doc_id), "m")


@button("send.chat", roles=STAFF)
async def send_chat(turn: Turn, doc_id: str) -> None:
    await send_document(turn, int(doc_id), "c")


@button("send.re", roles=STAFF)
async def resend(turn: Turn, doc_id: str) -> None:
    await send_document(turn, int(doc_id), "r")


async def send_document(turn: Turn, doc_id: int, via: str) -> None:
    """Send by e-mail (``m``), again by e-mail (``r``) or as a PDF into the chat (``c``)."""
    services = turn.services
    if via in ("m", "r") and not services.relay.configured:
        await turn.say(turn.t("No outgoing mail server is set up, so I cannot e-mail it. Send the PDF here "
                              "and forward it yourself."),
                       keyboard=turn.keyboard(turn.button(turn.t("📎 PDF here"), "send.chat", doc_id)))
        return
    await turn.typing("upload_document")
    try:
        if via == "m":
            payments = services.extra.get("payments")
            sent = await turn.db(send_by_mail, turn.company_id, doc_id, relay=services.relay,
                                 today=services.today(), now=services.now(),
                                 provider=getattr(payments, "provider", None))
        elif via == "r":
            sent = await turn.db(resend_by_mail, turn.company_id, doc_id, relay=services.relay, now=services.now())
        else:
            copy = await turn.db(send_to_chat, turn.company_id, doc_id, today=services.today(), now=services.now())
    except NotReadyError as exc:
        await _blocked(turn, doc_id, via, exc.findings)
        return
    except MailDeliveryError as exc:
        await _refused(turn, doc_id, via, exc)
        return
    turn.finish()
    if via == "c":
        await turn.bot.send_document(turn.chat_id, copy.pdf, filename=copy.filename, caption=turn.t(
            "{kind} {number} is final. Forward this PDF to your customer.",
            kind=turn.t(KIND[copy.kind]), number=copy.number))
        return
    await _confirm(turn, sent)


async def _confirm(turn: Turn, sent: Sent) -> None:
    files = ", ".join(sent.attachments)
    await turn.say(turn.t("✅ {kind} {number} sent to {to} ({files}).", kind=turn.t(KIND[sent.kind]),
                          number=sent.number, to=", ".join(sent.recipients), files=files),
                   keyboard=turn.keyboard([turn.button(turn.t("🔎 Details"), "ov.doc", sent.document_id),
                                           turn.button(turn.t("📄 PDF"), "ov.pdf", sent.document_id)]))


async def _blocked(turn: Turn, doc_id: int, via: str, findings: list[Finding]) -> None:
    """What stops sending, each with the way to fix it."""
    lines = [turn.t("Before I can send this, something needs fixing:")]
    lines += [f"• {f.text(turn.language)}" for f in findings if f.blocking]
    rows: list[list[InlineKeyboardButton]] = []
    seen: set[str] = set()
    company = False
    for finding in findings:
        field = finding.field.split("[")[0]
        if field in seen:
            continue
        seen.add(field)
        if field in FIELD and field != "buyer.country":
            rows.append([turn.button(turn.t("✏️ Fill in the {label}", label=turn.t(FIELD[field])),
                                     "send.fix", doc_id, field, via)])
        elif field in DRAFT_FIX:
            key, label = DRAFT_FIX[field]
            rows.append([turn.button(turn.t(label), "doc.e", doc_id, key)])
        elif field.startswith("lines"):
            rows.append([turn.button(turn.t("✏️ Lines"), "doc.lines", doc_id)])
        elif field.startswith("seller"):
            company = True
    if company:
        lines.append(turn.t("Your company details are changed with /instellingen; then tap “Try again”."))
    rows.append([turn.button(turn.t("🔁 Try again"), VIA[via], doc_id)])
    turn.goto(FLOW, "blocked", doc=doc_id, via=via)
    await turn.say("\n".join(lines), keyboard=turn.keyboard(*rows))


async def _refused(turn: Turn, doc_id: int, via: str, exc: MailDeliveryError) -> None:
    if exc.code and exc.permanent:
        text = turn.t("The mail server refused the mail ({code}): the address of the customer does not accept it. "
                      "Check the e-mail address.", code=exc.code)
    elif exc.code:
        text = turn.t("The mail server could not take the mail right now ({code}). Try again in a moment.",
                      code=exc.code)
    else:
        text = turn.t("I could not reach the mail server. Try again in a moment.")
    text += "\n" + (turn.t("Nothing was sent; the invoice has no number yet and is not marked as sent.")
                    if via == "m" else turn.t("Nothing was sent."))
    await turn.say(text, keyboard=turn.keyboard(
        [turn.button(turn.t("✏️ Fill in the {label}", label=turn.t(FIELD["buyer.email"])), "send.fix", doc_id,
                     "buyer.email", via)],
        [turn.button(turn.t("🔁 Try again"), VIA[via], doc_id), turn.button(turn.t("📎 PDF here"), "send.chat", doc_id)]
        if via == "m" else [turn.button(turn.t("🔁 Try again"), VIA[via], doc_id)]))


@button("send.fix", roles=STAFF)
async def fix_tapped(turn: Turn, doc_id: str, field: str, via: str = "m") -> None:
    if field not in FIELD or via not in VIA:
        await turn.say(turn.t("This button is not valid (any more). Nothing was changed."))
        return
    turn.goto(FLOW, "fix", doc=int(doc_id), field=field, via=via)
    await turn.say(turn.t("Type the customer's {label}.", label=turn.t(FIELD[field])))


@step(FLOW, "fix")
async def fix_typed(turn: Turn, text: str) -> None:
    doc_id, field = turn.data["doc"], turn.data["field"]
    await turn.db(update_document_customer, turn.company_id, doc_id, field.split(".", 1)[1], text)
    await turn.say(turn.t("Saved. I will try again."))
    await send_document(turn, doc_id, turn.data["via"])


@button("ov.pdf", roles=ANYONE)
async def pdf_tapped(turn: Turn, doc_id: str) -> None:
    """The PDF of a sent document, to read or forward (changes nothing)."""
    await turn.typing("upload_document")
    source = await turn.db(pdf_source, turn.company_id, int(doc_id))
    copy = await turn.services.run(render_copy, *source)
    await turn.bot.send_document(turn.chat_id, copy.pdf, filename=copy.filename)


@renderer("invoice_bounced")
def bounced(payload: dict, language: str) -> Rendered:
    """Payload ``{"document_id", "number", "recipient", "reason"}`` (the document already marked
    ``bounced`` by ``core.sending.mark_bounced``). Without ``document_id`` (a bounce the ingest could
    not tie to a document) it still says what came back, without buttons."""
    recipient = payload.get("recipient") or "—"
    reason = " ".join(str(payload.get("reason") or "—").split())[:300]
    if not payload.get("document_id"):
        return Rendered(text=translate_for(language, "⚠️ An e-mail did not arrive at {recipient}: {reason}\n"
                                                     "Check the address; /facturen shows your invoices.",
                                           recipient=recipient, reason=reason), buttons=[])
    doc_id = int(payload["document_id"])
    text = translate_for(language, "⚠️ Invoice {number} did not arrive at {recipient}: {reason}\nIt is not "
                                   "marked as delivered. Correct the address and send it again, or send the PDF "
                                   "another way.", number=payload.get("number") or "—", recipient=recipient,
                         reason=reason)
    return Rendered(text=text, buttons=[
        [(translate_for(language, "✏️ New e-mail address and send again"), "send.fix", (doc_id, "buyer.email", "r"))],
        [(translate_for(language, "📄 PDF"), "ov.pdf", (doc_id,)), (translate_for(language, "🔎 Details"), "ov.doc", (doc_id,))]])
