"""``klerk serve``: every role of Klerk in one process, on embedded defaults.

Roles: ``bot`` (Telegram long polling — or, without a token, the local Bot API double that
``klerk chat --connect`` talks to), ``smtp`` (the receipt ingest), ``imap`` (mailbox pollers),
``worker`` (reading receipts, replies, accountant mail), ``web`` (webhooks, /healthz, the payment
worker) and ``scheduler`` (reminders, quote nudges, KOR warnings). ``--role`` starts one of them.
SIGTERM/SIGINT finish the work in hand and stop.
"""
from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone

import typer

from core import storage
from core.inbox.store import FileStore
from core.settings import Settings

log = logging.getLogger("klerk")
ROLES = ("bot", "smtp", "imap", "worker", "web", "scheduler")


def _now() -> datetime:
    return datetime.now(timezone.utc)


def run_bot(settings: Settings, services, stop: threading.Event) -> None:  # type: ignore[no-untyped-def]
    from klerk.runtime import BotThread

    token = settings.telegram_bot_token.get_secret_value()
    double = None
    if token:
        base = settings.telegram_api_base_url
    else:
        from klerk.botapi_double import BotApiDouble

        double = BotApiDouble()
        base = double.start(port=settings.local_chat_port)
        typer.echo(f"No TELEGRAM_BOT_TOKEN: the bot runs against a local chat on {base}.\n"
                   f"  Talk to it in another terminal:  .venv/bin/klerk chat --connect {base}")
    bot = BotThread(services, token=token or "local:serve", base_url=base)
    bot.start()
    log.info("bot started (%s)", "Telegram" if token else "local chat")
    stop.wait()
    bot.stop()
    if double is not None:
        double.stop()


def run_web(settings: Settings, services, stop: threading.Event) -> None:  # type: ignore[no-untyped-def]
    import uvicorn

    from core.payments.worker import PaymentServices
    from klerk.web import PaymentWorker, build_web_app

    payments = services.extra.get("payments")
    provider = getattr(payments, "provider", None)
    worker = PaymentWorker(services.engine, PaymentServices(provider=provider, relay=services.relay,
                                                            mail_domain=settings.ingest_domain), clock=_now)
    worker.start()
    app = build_web_app(services.engine, settings, clock=_now, on_webhook=worker.wake)
    server = uvicorn.Server(uvicorn.Config(app, host=settings.http_host, port=settings.http_port,
                                          log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, name="klerk-http", daemon=True)
    thread.start()
    log.info("HTTP on %s:%s (/healthz, /webhooks/mollie)", settings.http_host, settings.http_port)
    stop.wait()
    server.should_exit = True
    thread.join(10)
    worker.stop()


def run_scheduler(settings: Settings, services, stop: threading.Event) -> None:  # type: ignore[no-untyped-def]
    from core.payments.reminders import run_due_reminders

    while not stop.is_set():
        try:
            with storage.session_scope(services.engine) as session:
                now = _now()
                run_due_reminders(session, today=now.date(), now=now)
        except Exception:  # noqa: BLE001 - the scheduler keeps running; each run is idempotent
            log.exception("scheduled run failed; trying again next round")
        stop.wait(settings.scheduler_interval_seconds)


def run_serve(roles: tuple[str, ...]) -> None:
    from core import settings as settings_module
    from ingest.__main__ import inbox_root, run_imap, run_smtp, run_worker
    from klerk.runtime import make_engine, make_services

    settings = settings_module.load()
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s")
    for chatty in ("httpx", "alembic"):      # one line per Bot API poll / migration step is noise
        logging.getLogger(chatty).setLevel(max(logging.WARNING, logging.getLogger().level))
    engine = make_engine(settings)
    store = FileStore(inbox_root(settings))
    services = make_services(settings, engine)
    services.extra["inbox_store"] = store
    _add_payments(settings, services)
    stop = threading.Event()
    runners: dict[str, Callable[[], None]] = {
        "bot": lambda: run_bot(settings, services, stop),
        "smtp": lambda: run_smtp(settings, engine, store, stop),
        "imap": lambda: run_imap(settings, engine, store, stop),
        "worker": lambda: run_worker(settings, engine, store, stop),
        "web": lambda: run_web(settings, services, stop),
        "scheduler": lambda: run_scheduler(settings, services, stop),
    }
    failed: list[str] = []

    def guarded(name: str) -> None:
        try:
            runners[name]()
        except Exception:  # noqa: BLE001 - one role failing stops the service, loudly
            log.exception("the %s role stopped", name)
            failed.append(name)
            stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    threads = [threading.Thread(target=guarded, args=(name,), name=f"klerk-{name}", daemon=True) for name in roles]
    for thread in threads:
        thread.start()
    time.sleep(1.0)
    if not stop.is_set():
        typer.echo(_banner(settings, roles))
    while not stop.is_set() and any(t.is_alive() for t in threads):
        stop.wait(0.5)
    stop.set()
    for thread in threads:
        thread.join(30)
    typer.echo("Klerk stopped.")
    if failed:
        raise typer.Exit(1)


def _add_payments(settings: Settings, services) -> None:  # type: ignore[no-untyped-def]
    try:
        from klerk.payments_wiring import PaymentsFacade
    except ImportError:
        return
    services.extra["payments"] = PaymentsFacade.from_settings(settings, services.engine, clock=_now,
                                                              relay=services.relay)


def _banner(settings: Settings, roles: tuple[str, ...]) -> str:
    lines = [f"Klerk is running ({', '.join(roles)}); data in {settings.data_dir.resolve()}."]
    if "smtp" in roles:
        lines.append(f"  Receipts by mail: SMTP on {settings.smtp_host}:{settings.smtp_port}. Your own address "
                     f"(bon-…@{settings.ingest_domain}) is shown by /adres in the chat; to try it:\n"
                     f"    .venv/bin/klerk send-receipt FILE   (mails FILE to your address on this port)")
    if "web" in roles:
        lines.append(f"  HTTP: http://{settings.http_host}:{settings.http_port}/healthz")
    lines.append("  Stop with Ctrl-C.")
    return "\n".join(lines)
