"""Webhook mode: Telegram POSTs each update to ``<public URL>/telegram/webhook``, so several bot
processes behind a load balancer can serve one bot (chat state lives in the database, see
``bot.router``).

When is an update "ours"? The route answers 200 only after the update was **processed**: the
in-memory ``application.update_queue`` is not durable, and Telegram keeps an update and retries it
until it gets a 2xx, so answering after the handling is what makes a crash or a restart lose nothing
(at worst an update is handled twice when the process dies between its effects and the answer).
A text turn takes a few milliseconds, so the answer is still quick; Telegram allows up to 100 parallel
webhook connections, so slow turns (an invoice PDF) do not hold up other chats.

Answers: 403 without the right ``X-Telegram-Bot-Api-Secret-Token`` (nothing is parsed), 400 for a
body that is not a JSON update, 413 when too large, 503 when the bot is not running (Telegram then
retries), 200 otherwise — also when a handler failed: the error handler already told the person,
and a retry would only fail again.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from telegram import Update
from telegram.ext import Application

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
ALLOWED_UPDATES = ("message", "callback_query")     # what dispatch handles; the same when polling
MAX_UPDATE_BYTES = 1 << 20

Deliver = Callable[[dict[str, Any]], Awaitable[None]]


class MalformedUpdateError(ValueError):
    """The body is JSON but not an update the bot can read."""


class BotUnavailableError(RuntimeError):
    """The bot is not running (starting or stopping): Telegram should try again."""


def webhook_secret(secret: bytes) -> str:
    """The ``secret_token`` for setWebhook, derived from the service secret (``Services.secret``):
    64 characters of [0-9a-f], within Telegram's 1-256 of [A-Za-z0-9_-]."""
    return hmac.new(secret, b"klerk|telegram-webhook", hashlib.sha256).hexdigest()


def webhook_url(public_url: str) -> str:
    return public_url.rstrip("/") + WEBHOOK_PATH


async def set_webhook(application: Application, public_url: str, *, max_connections: int = 40) -> None:
    """Point Telegram at ``public_url``; updates that are waiting are kept (delivered to the webhook)."""
    secret: bytes = application.bot_data["services"].secret
    await application.bot.set_webhook(url=webhook_url(public_url), secret_token=webhook_secret(secret),
                                      allowed_updates=list(ALLOWED_UPDATES), drop_pending_updates=False,
                                      max_connections=max_connections)
    log.info("webhook set to %s", webhook_url(public_url))


def deliver_to(application: Application) -> Deliver:
    """Handle an update on the event loop the Application runs on, and return when it was handled."""
    async def deliver(payload: dict[str, Any]) -> None:
        if not application.running:
            raise BotUnavailableError("the bot is not running")
        try:
            update = Update.de_json(payload, application.bot)
        except (KeyError, TypeError, ValueError) as exc:
            raise MalformedUpdateError(str(exc)) from exc
        await application.process_update(update)
    return deliver


def telegram_webhook_route(deliver: Deliver, secret_token: str, *, path: str = WEBHOOK_PATH) -> Route:
    """The Starlette route that receives Telegram's POSTs and hands each update to ``deliver``
    (``deliver_to(application)`` on the same loop, or a hand-over to the bot's own loop)."""
    expected = secret_token.encode()

    async def telegram_webhook(request: Request) -> Response:
        if not hmac.compare_digest(request.headers.get(SECRET_HEADER, "").encode(), expected):
            log.warning("webhook call without the right secret token refused")
            return PlainTextResponse("forbidden", status_code=403)
        body = await request.body()
        if len(body) > MAX_UPDATE_BYTES:
            return PlainTextResponse("too large", status_code=413)
        try:
            payload = json.loads(body)
        except ValueError:
            return PlainTextResponse("bad request: not JSON", status_code=400)
        if not isinstance(payload, dict) or not isinstance(payload.get("update_id"), int):
            return PlainTextResponse("bad request: not an update", status_code=400)
        try:
            await deliver(payload)
        except MalformedUpdateError as exc:
            log.warning("webhook update %s could not be read: %s", payload["update_id"], exc)
            return PlainTextResponse("bad request: not an update", status_code=400)
        except BotUnavailableError:
            return PlainTextResponse("try again", status_code=503)
        return PlainTextResponse("")

    return Route(path, telegram_webhook, methods=["POST"])
