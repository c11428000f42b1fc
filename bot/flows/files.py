"""A photo, PDF or XML sent to the bot outside another flow's file step: into the pipeline.

A bank statement goes to the payments flow (``bot.flows.payments.import_statement_file``) when that
flow and ``core.payments.statements.looks_like_statement`` exist; everything else is a receipt for
the shoebox (``core.inbox.messages.accept_upload``), read later by the ingest worker, whose
``receipt_received`` / ``receipt_rejected`` notification the outbox delivers.
"""
from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from telegram import Message
from telegram.error import BadRequest

from bot.router import STAFF, Turn, default_file
from core.errors import AccessDeniedError
from core.inbox.messages import MAX_UPLOAD_BYTES, accept_upload

log = logging.getLogger(__name__)
MB = 1024 * 1024
StatementImport = Callable[[Turn, str, bytes], Awaitable[None]]


@default_file
async def file_received(turn: Turn, message: Message) -> None:
    if turn.company_id is None:
        await turn.say(turn.t("First tell me about your company: /start"))
        return
    if turn.role not in STAFF:
        raise AccessDeniedError("only the owner and staff add receipts")
    if message.photo:
        upload = max(message.photo, key=lambda p: (p.width * p.height, p.file_size or 0))
        filename, mime = f"foto-{turn.services.today():%Y-%m-%d}.jpg", "image/jpeg"
    else:
        upload = message.document
        filename, mime = upload.file_name or "document", upload.mime_type or ""
    if (upload.file_size or 0) > MAX_UPLOAD_BYTES:
        await _too_large(turn, upload.file_size or 0)
        return
    await turn.typing("upload_document")
    try:
        content = bytes(await (await turn.bot.get_file(upload.file_id)).download_as_bytearray())
    except BadRequest as exc:
        if "too big" not in str(exc).lower():      # the cloud Bot API serves at most 20 MB
            raise
        await _too_large(turn, upload.file_size or 0)
        return
    importer = await _statement_importer(turn, filename, content) if not message.photo else None
    if importer is not None:
        await importer(turn, filename, content)
        return
    await turn.db(accept_upload, turn.company_id, turn.person_id, filename, content, mime, now=turn.services.now())
    await turn.say(turn.t("Received, I am reading it…"))


async def _too_large(turn: Turn, size: int) -> None:
    await turn.say(turn.t("That file is too large for me ({size} MB; at most {limit} MB). Send a smaller "
                          "photo or a PDF, or mail it to your receipt address (/adres).",
                          size=max(1, round(size / MB)), limit=MAX_UPLOAD_BYTES // MB))


async def _statement_importer(turn: Turn, filename: str, content: bytes) -> StatementImport | None:
    """The payments flow's import when the file is a bank statement; None while that flow (written
    separately) is not there, or when the file is no statement."""
    try:
        from bot.flows.payments import import_statement_file
        from core.payments.statements import looks_like_statement
    except ImportError:
        return None
    if not await turn.services.run(looks_like_statement, filename, content):
        return None
    return import_statement_file
