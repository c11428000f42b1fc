"""Chat pieces shared by the set-up and the settings: reading an uploaded file, the house colour
buttons, the preview of an example invoice and the € 0.01 IBAN check. No rules: core decides.
"""
from __future__ import annotations

import logging

from telegram import InlineKeyboardButton, Message

from bot.flows.field_labels import N_
from bot.router import Turn
from core.errors import ValidationError
from core.onboarding import example_document, preview_png

log = logging.getLogger(__name__)
TELEGRAM_DOWNLOAD_LIMIT = 20 * 1024 * 1024      # getFile refuses bigger files

COLOURS = (("1f4e79", N_("Navy")), ("00796b", N_("Teal")), ("2e7d32", N_("Green")), ("8e1b3a", N_("Bordeaux")),
           ("d35400", N_("Orange")), ("5e35b1", N_("Purple")), ("455a64", N_("Slate")), ("222222", N_("Black")))


async def read_upload(message: Message) -> tuple[bytes, str]:
    """The bytes and file name of the photo (largest size) or document in ``message``. Files over
    the Bot API's download limit are refused before asking for them."""
    upload = message.photo[-1] if message.photo else message.document
    if (upload.file_size or 0) > TELEGRAM_DOWNLOAD_LIMIT:
        raise ValidationError("file", "That file is too large for me (at most {limit} MB).",
                              limit=TELEGRAM_DOWNLOAD_LIMIT // (1024 * 1024))
    file = await upload.get_file()
    name = "photo.jpg" if message.photo else (message.document.file_name or "")
    return bytes(await file.download_as_bytearray()), name


def colour_rows(turn: Turn, action: str, other_action: str) -> list[list[InlineKeyboardButton]]:
    buttons = [turn.button("■ " + turn.t(label), action, code) for code, label in COLOURS]
    rows = [buttons[i:i + 2] for i in range(0, len(buttons), 2)]
    rows.append([turn.button(turn.t("Other: type #rrggbb"), other_action)])
    return rows


async def send_preview(turn: Turn) -> None:
    """Render an example invoice with the company's details, logo and colour and send page 1."""
    await turn.typing("upload_photo")
    doc = await turn.db(example_document, turn.company_id, turn.person_id, today=turn.services.today(),
                        language=turn.language)
    png = await turn.services.run(preview_png, doc)
    await turn.bot.send_photo(turn.chat_id, png, caption=turn.t(
        "This is how your invoices will look (an example with your details)."))


async def start_iban_check(turn: Turn) -> bool:
    """Offer the € 0.01 check payment for the company's IBAN. Without a payment provider (the
    ``payments`` edge service), say it can be done later; nothing is marked as checked."""
    payments = turn.services.extra.get("payments")
    if payments is None:
        await turn.say(turn.t("Checking your IBAN with a € 0.01 payment is not available yet. "
                              "You can do it later from /instellingen; your IBAN is saved, but not checked."))
        return False
    url = await turn.services.run(payments.start_iban_check, turn.company_id)
    await turn.say(turn.t("Pay € 0.01 from your business account with this link. When it arrives, "
                          "I mark your IBAN as checked; you will get a message."),
                   keyboard=turn.keyboard(InlineKeyboardButton(turn.t("Pay € 0.01"), url=url)))
    return True
