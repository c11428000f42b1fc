"""Delivering the outbox (``core.outbox``): any process writes a notification row, the bot
process words it (per ``kind``, in the recipient's language) and sends it. A loop polls every
second; tests call ``deliver_due`` directly.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import Forbidden, TelegramError
from telegram.ext import Application

from bot.callbacks import pack
from bot.context import Services
from core.outbox import claim_notifications, mark_failed, mark_sent, recipients

log = logging.getLogger(__name__)


@dataclass
class Rendered:
    text: str
    buttons: list[list[tuple[str, str, tuple]]]     # rows of (label, action, args)
    photo: bytes | None = None


Renderer = Callable[[dict, str], Rendered]
RENDERERS: dict[str, Renderer] = {}


def renderer(kind: str) -> Callable[[Renderer], Renderer]:
    def register(fn: Renderer) -> Renderer:
        RENDERERS[kind] = fn
        return fn
    return register


def _claim(session, now):  # type: ignore[no-untyped-def]
    out = []
    for note in claim_notifications(session, now=now):      # several bot processes: each note once
        people = [(p.id, p.telegram_user_id, p.language) for p in recipients(session, note)]
        out.append((note.id, note.kind, dict(note.payload), people))
    return out


def _finish(session, note_id: int, error: str | None, now) -> None:  # type: ignore[no-untyped-def]
    from core.models import Notification

    note = session.get(Notification, note_id)
    if error is None:
        mark_sent(session, note, now=now)
    else:
        mark_failed(session, note, error, now=now)


async def deliver_due(app: Application) -> int:
    """Send every due notification once; returns how many were delivered."""
    services: Services = app.bot_data["services"]
    now = services.now()
    sent = 0
    for note_id, kind, payload, people in await services.db(_claim, now):
        render = RENDERERS.get(kind)
        error = None if render else f"no renderer for {kind}"
        for _person_id, chat_id, language in people if render else ():
            rendered = render(payload, language)
            keyboard = InlineKeyboardMarkup([[InlineKeyboardButton(
                label, callback_data=pack(services.secret, chat_id, action, *args)) for label, action, args in row]
                for row in rendered.buttons]) if rendered.buttons else None
            try:
                if rendered.photo is not None:
                    await app.bot.send_photo(chat_id, rendered.photo, caption=rendered.text[:1024],
                                             reply_markup=keyboard)
                else:
                    await app.bot.send_message(chat_id, rendered.text, reply_markup=keyboard)
            except Forbidden:
                log.info("notification %s: the person blocked the bot", note_id)
            except TelegramError as exc:
                error = f"telegram: {exc}"
        await services.db(_finish, note_id, error, services.now())
        sent += error is None
    return sent


async def _loop(app: Application, interval: float) -> None:
    while True:
        try:
            await deliver_due(app)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - the loop must survive a bad row or a network blip
            log.exception("delivering notifications failed; retrying")
        await asyncio.sleep(interval)


def start_delivery(app: Application, interval: float = 1.0) -> None:
    app.bot_data["delivery_task"] = asyncio.get_running_loop().create_task(_loop(app, interval))


async def stop_delivery(app: Application) -> None:
    task: asyncio.Task | None = app.bot_data.pop("delivery_task", None)
    if task is not None:
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass


