"""``build_application(services, ...)``: the real python-telegram-bot Application of Klerk.

One ``TypeHandler`` receives every update; ``dispatch`` loads the chat's state from the database,
routes to the flow (``bot.router``), translates core errors into answers (one place, STYLE §3) and
saves the state. Updates of different chats run concurrently; one chat's updates stay in order.
"""
from __future__ import annotations

import asyncio
import logging
import weakref

from telegram import BotCommand, Update
from telegram.ext import Application, ApplicationBuilder, ContextTypes, TypeHandler
from telegram.request import BaseRequest

import bot.flows  # noqa: F401  (registers every flow with the router)
from bot.callbacks import ForgedCallbackError, unpack
from bot.context import KlerkContext, Services
from bot.delivery import start_delivery, stop_delivery
from bot.http_request import make_request
from bot.router import REGISTRY, Turn
from bot.texts import t
from core.conversations import enroll_chat_person, find_chat_context, save_chat_state
from core.errors import AccessDeniedError, ConflictError, NotFoundError, ValidationError
from core.i18n import normalize_language

log = logging.getLogger(__name__)
MAX_TEXT = 4000


def build_application(services: Services, *, token: str, base_url: str = "https://api.telegram.org",
                      request: BaseRequest | None = None, updates_request: BaseRequest | None = None,
                      deliver_notifications: bool = True) -> Application:
    builder = (ApplicationBuilder().token(token)
               .context_types(ContextTypes(context=KlerkContext))
               .concurrent_updates(True)
               .base_url(base_url.rstrip("/") + "/bot")
               .base_file_url(base_url.rstrip("/") + "/file/bot")
               .post_init(on_startup).post_shutdown(_post_shutdown))
    if request is None:
        request, updates_request = make_request(pool_size=64), make_request(pool_size=1, for_updates=True)
    builder = builder.request(request).get_updates_request(updates_request or request)
    app = builder.build()
    app.bot_data["services"] = services
    app.bot_data["locks"] = weakref.WeakValueDictionary()   # chat id -> lock, gone when no update holds it
    app.bot_data["deliver"] = deliver_notifications
    app.add_handler(TypeHandler(Update, dispatch))
    app.add_error_handler(on_error)
    return app


async def on_startup(app: Application) -> None:
    """Set the command menus (both languages) and start delivering the outbox."""
    for language in ("nl", "en"):
        commands = [BotCommand(name, nl if language == "nl" else en) for name, nl, en in REGISTRY.menu]
        await app.bot.set_my_commands(commands, language_code=language)
    await app.bot.set_my_commands([BotCommand(name, en) for name, _, en in REGISTRY.menu])
    if app.bot_data.get("deliver"):
        start_delivery(app)


async def _post_shutdown(app: Application) -> None:
    await stop_delivery(app)


async def load_turn(update: Update, context: KlerkContext) -> Turn:
    """The chat's state and the person's role, in one read-only query; the first update of a new
    person makes the person (a second, writing unit of work, once)."""
    user, chat = update.effective_user, update.effective_chat
    assert user is not None and chat is not None
    services = context.services
    found = await services.read(find_chat_context, chat.id, user.id)
    if found is None:
        found = await services.db(enroll_chat_person, chat.id, user.id, name=user.full_name or "",
                                  language=normalize_language(user.language_code))
    return Turn(update=update, context=context, chat_id=chat.id, user_id=user.id, person_id=found.person_id,
                language=normalize_language(found.language), company_id=found.company_id, role=found.role,
                flow=found.flow, step=found.step, data=found.data)


def _save_turn(session, turn: Turn, *, language_changed: bool) -> None:  # type: ignore[no-untyped-def]
    save_chat_state(session, turn.chat_id, turn.user_id, flow=turn.flow, step=turn.step, data=turn.data,
                    company_id=turn.company_id, language=turn.language, now=turn.services.now(),
                    person_id=turn.person_id if language_changed else None)


async def dispatch(update: Update, context: KlerkContext) -> None:
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None or user.is_bot:
        return
    services = context.services
    locks: weakref.WeakValueDictionary[int, asyncio.Lock] = context.bot_data["locks"]
    lock = locks.get(chat.id)
    if lock is None:                     # no await in between: one event loop, so no race
        lock = locks[chat.id] = asyncio.Lock()
    async with lock:
        turn = await load_turn(update, context)
        before, language = _snapshot(turn), turn.language
        try:
            await route(turn, update)
        except ValidationError as exc:
            await turn.say("⚠️ " + exc.translated(turn.language))
            return                      # the flow stays where it was
        except ForgedCallbackError:
            log.warning("refused forged or foreign callback data in chat %s", chat.id)
            await turn.say(turn.t("This button is not valid (any more). Nothing was changed."))
            return
        except AccessDeniedError:
            await turn.say(turn.t("You are not allowed to do that in this company. Nothing was changed."))
            return
        except NotFoundError:
            await turn.say(turn.t("I cannot find that (any more). Nothing was changed."))
            return
        except ConflictError as exc:
            log.info("conflict in chat %s: %s", chat.id, exc)
            await turn.say(turn.t("That is no longer possible: it was changed in the meantime. "
                                  "Nothing was changed now."))
            return
        if _snapshot(turn) != before:
            await services.db(_save_turn, turn, language_changed=turn.language != language)


def _snapshot(turn: Turn) -> tuple:
    """What ``_save_turn`` writes: nothing to write when a turn changed none of it."""
    return (turn.flow, turn.step, repr(turn.data), turn.company_id, turn.language, turn.company_changed)


def _allowed(turn: Turn, key: str) -> bool:
    roles = REGISTRY.roles.get(key)
    return roles is None or (turn.role is not None and turn.role in roles)


async def route(turn: Turn, update: Update) -> None:
    if update.callback_query is not None:
        query = update.callback_query
        await query.answer()
        action, args = unpack(turn.services.secret, turn.chat_id, query.data or "")
        handler = REGISTRY.callbacks.get(action)
        if handler is None:
            raise ForgedCallbackError(action)
        if action in REGISTRY.roles and turn.company_id is None:
            raise AccessDeniedError(action)
        if not _allowed(turn, action):
            raise AccessDeniedError(action)
        await handler(turn, *args)
        return
    message = update.effective_message
    if message is None:
        return
    text = message.text or message.caption or ""
    if len(text) > MAX_TEXT:
        await turn.say(turn.t("That message is too long (at most {limit} characters).", limit=MAX_TEXT))
        return
    if message.text and message.text.startswith("/"):
        name, _, argument = message.text[1:].partition(" ")
        name = name.split("@", 1)[0].lower()
        handler = REGISTRY.commands.get(name)
        if handler is None:
            await turn.say(turn.t("I do not know that command. /help shows what I can do."))
            return
        key = f"/{name}"
        if key in REGISTRY.roles and turn.company_id is None:
            await turn.say(turn.t("First tell me about your company: /start"))
            return
        if not _allowed(turn, key):
            raise AccessDeniedError(key)
        await handler(turn, argument.strip())
        return
    if message.photo or message.document:
        handler = REGISTRY.files.get((turn.flow, turn.step)) or REGISTRY.default_file
        if handler is not None:
            await handler(turn, message)
        return
    if message.text:
        handler = REGISTRY.steps.get((turn.flow, turn.step)) or REGISTRY.default_text
        if handler is not None:
            await handler(turn, message.text.strip())
        return
    await turn.say(turn.t("I can read text, photos and files. /help shows what I can do."))


async def on_error(update: object, context: KlerkContext) -> None:
    log.error("unhandled error while handling an update", exc_info=context.error)
    if isinstance(update, Update) and update.effective_chat is not None:
        try:
            lang = normalize_language(update.effective_user.language_code if update.effective_user else None)
            await context.bot.send_message(update.effective_chat.id, t(
                lang, "Sorry, something went wrong on my side. Nothing was changed; please try again."))
        except Exception:  # noqa: BLE001 - the error handler must never raise
            log.exception("could not tell the user about the error")
