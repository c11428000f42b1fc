"""Running the bot (and later the other roles) in the service: wiring settings into ``Services``."""
from __future__ import annotations

import asyncio
import logging
import threading
import time

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from starlette.routing import Route
from telegram.ext import Application

from bot.context import Services
from bot.webhook import (ALLOWED_UPDATES, BotUnavailableError, deliver_to, set_webhook, telegram_webhook_route,
                         webhook_secret)
from core import storage
from core.mail import relay_from_settings
from core.settings import Settings

log = logging.getLogger(__name__)


def make_engine(settings: Settings, *, wait: float = 60.0) -> Engine:
    """The engine, migrated. A database that is not up yet (compose starting, PostgreSQL restarting)
    is waited for up to ``wait`` seconds instead of ending the process at once."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = storage.make_engine(settings.effective_database_url)
    deadline = time.monotonic() + wait
    while True:
        try:
            storage.upgrade(engine)
            return engine
        except sa.exc.OperationalError as exc:
            if time.monotonic() > deadline:
                raise
            log.warning("the database is not reachable yet (%s); trying again", str(exc).splitlines()[0][:200])
            time.sleep(2)


def secret_key(settings: Settings) -> bytes:
    """The button-signing secret, derived from the one key of the installation: KLERK_SECRET_KEY, or
    the Fernet key file in data_dir that also encrypts stored passwords (made on first use)."""
    from core.secrets import derived_key

    return derived_key(settings.secret_key.get_secret_value(), settings.data_dir, "buttons")


def make_services(settings: Settings, engine: Engine) -> Services:
    return Services(engine=engine, secret=secret_key(settings), relay=relay_from_settings(settings),
                    ingest_domain=settings.ingest_domain)


class BotThread:
    """The bot on its own event loop in a thread: long polling ``base_url``, or, with ``public_url``,
    in webhook mode (it calls setWebhook and the web role's ``/telegram/webhook`` route hands the
    updates over through ``deliver``)."""

    def __init__(self, services: Services, *, token: str, base_url: str, public_url: str = "") -> None:
        self.services, self.token, self.base_url, self.public_url = services, token, base_url, public_url
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._app: Application | None = None
        self._handling: set[asyncio.Task] = set()     # webhook updates in hand, finished before stopping
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="klerk-bot", daemon=True)
        self.error: BaseException | None = None

    def start(self, timeout: float = 30) -> None:
        self._thread.start()
        if not self._ready.wait(timeout) or self.error:
            raise RuntimeError(f"the bot did not start: {self.error}")

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # noqa: BLE001 - reported to the starting thread
            self.error = exc
            self._ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        from bot.app import build_application, on_startup   # here: smtp/worker processes need not load the chat

        app = build_application(self.services, token=self.token, base_url=self.base_url)
        async with app:
            await on_startup(app)
            await app.start()
            assert app.updater is not None
            if self.public_url:
                await set_webhook(app, self.public_url)
            else:        # start_polling deletes a webhook that is still set (and keeps its waiting updates)
                await app.updater.start_polling(poll_interval=0.0, timeout=10, allowed_updates=list(ALLOWED_UPDATES))
            self._app = app
            self._ready.set()
            await self._stop.wait()
            self._app = None                           # new webhook calls get 503 from here on
            if self._handling:
                await asyncio.wait(set(self._handling), timeout=20)
            if app.updater.running:
                await app.updater.stop()
            await app.stop()

    async def deliver(self, payload: dict) -> None:
        """Handle a webhook update on the bot's loop; callable from any thread's event loop (the web
        role's), returns when the update was handled (see ``bot.webhook``)."""
        app, loop = self._app, self._loop
        if app is None or loop is None:
            raise BotUnavailableError("the bot is not running")
        await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(self._handle(app, payload), loop))

    async def _handle(self, app: Application, payload: dict) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handling.add(task)
        try:
            await deliver_to(app)(payload)
        finally:
            self._handling.discard(task)

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)


BOT_THREAD = "bot_thread"      # Services.extra key: the process's BotThread, for the webhook route


def telegram_webhook(services: Services) -> Route:
    """The ``/telegram/webhook`` route for the web role's app: it hands each update to the BotThread
    that the bot role put in ``services.extra[BOT_THREAD]``; until that runs it answers 503, so
    Telegram keeps the update and tries again."""
    async def deliver(payload: dict) -> None:
        bot: BotThread | None = services.extra.get(BOT_THREAD)
        if bot is None:
            raise BotUnavailableError("no bot in this process")
        await bot.deliver(payload)
    return telegram_webhook_route(deliver, webhook_secret(services.secret))
