"""``klerk serve``: every role of Klerk in one process, on embedded defaults.

Roles: ``bot`` (Telegram long polling — or, without a token, the local Bot API double that
``klerk chat --connect`` talks to), ``smtp`` (the receipt ingest), ``imap`` (mailbox pollers),
``worker`` (reading receipts, replies, accountant mail), ``web`` (webhooks, the payment worker) and
``scheduler`` (reminders, quote nudges, KOR warnings). ``--role`` starts one of them.

Every process answers ``/healthz`` and ``/metrics`` on ``KLERK_HTTP_PORT`` (the web role's app, or a
small ops app when the process has no web role) and logs in ``KLERK_LOG_FORMAT``. SIGTERM/SIGINT
finish the work in hand (the job, the SMTP session, the HTTP request) and stop within
``SHUTDOWN_SECONDS``; a job still running then is taken again by a worker when its lease runs out.
"""
from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone

import typer

from core.inbox.store import store_from_settings
from core.settings import Settings
from klerk.health import Health, Heartbeat, smtp_check, thread_check

log = logging.getLogger("klerk")
ROLES = ("bot", "smtp", "imap", "worker", "web", "scheduler")
SHUTDOWN_SECONDS = 20.0
MAX_BUSY_SECONDS = 1800.0     # a role loop busy this long without a round is stuck (job leases are 30 s, renewed while a job runs)


def _now() -> datetime:
    return datetime.now(timezone.utc)


class RoleStop(threading.Event):
    """The process's stop event as one role sees it. The role loops (the ingest worker, the IMAP
    supervisor, the scheduler) look at their stop event every round and wait on it when idle, so each
    look is the role's heartbeat, without those loops knowing about health."""

    def __init__(self, shared: threading.Event, heartbeat: Heartbeat) -> None:
        super().__init__()
        self._shared, self.heartbeat = shared, heartbeat

    def is_set(self) -> bool:
        self.heartbeat.beat()
        return self._shared.is_set()

    def set(self) -> None:
        self._shared.set()

    def wait(self, timeout: float | None = None) -> bool:
        with self.heartbeat.waiting():
            return self._shared.wait(timeout)


def _say(settings: Settings, text: str) -> None:
    """A message for the person at the terminal; in JSON mode a log line, so stdout stays JSON."""
    if settings.log_format == "json":
        for line in text.splitlines():
            log.info("%s", line.strip())
    else:
        typer.echo(text)


def run_bot(settings: Settings, services, stop: threading.Event) -> None:  # type: ignore[no-untyped-def]
    from klerk.runtime import BOT_THREAD, BotThread

    token = settings.telegram_bot_token.get_secret_value()
    double = None
    if token:
        base = settings.telegram_api_base_url
    else:
        from klerk.botapi_double import BotApiDouble

        double = BotApiDouble()
        base = double.start(port=settings.local_chat_port)
        _say(settings, f"No TELEGRAM_BOT_TOKEN: the bot runs against a local chat on {base}.\n"
                       f"  Talk to it in another terminal:  .venv/bin/klerk chat --connect {base}")
    webhook = settings.public_url if token else ""
    bot = BotThread(services, token=token or "local:serve", base_url=base, public_url=webhook)
    services.extra[BOT_THREAD] = bot          # the web role's /telegram/webhook hands updates to it
    bot.start()
    log.info("bot started (%s, %s)", "Telegram" if token else "local chat",
             f"webhook {webhook.rstrip('/')}/telegram/webhook" if webhook else "long polling")
    stop.wait()
    bot.stop()
    if double is not None:
        double.stop()


def run_web(settings: Settings, services, stop: threading.Event, health: Health, registry) -> None:  # type: ignore[no-untyped-def]
    from core.payments.worker import PaymentServices
    from klerk.web import HttpServer, PaymentWorker, build_web_app

    payments = services.extra.get("payments")
    provider = getattr(payments, "provider", None)
    worker = PaymentWorker(services.engine, PaymentServices(provider=provider, relay=services.relay,
                                                            mail_domain=settings.ingest_domain), clock=_now)
    worker.start()
    health.add_check("web", worker.check)
    telegram = None
    if settings.public_url and settings.telegram_bot_token.get_secret_value():
        from klerk.runtime import telegram_webhook

        telegram = telegram_webhook(services)        # updates go to this process's bot role
    app = build_web_app(services.engine, settings, clock=_now, on_webhook=worker.wake, health=health,
                        registry=registry, telegram=telegram)
    try:
        server = HttpServer(app, settings.http_host, settings.http_port).start()
    except BaseException:
        worker.stop()
        raise
    health.add_check("web", server.check)
    log.info("HTTP on %s:%s (/webhooks/mollie, /healthz, /metrics)", settings.http_host, settings.http_port)
    stop.wait()
    server.stop()
    worker.stop()


def run_scheduler(settings: Settings, services, stop: threading.Event) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from klerk.scheduler import Scheduler

    Scheduler(services.engine, interval=settings.scheduler_interval_seconds,
              lease=timedelta(seconds=settings.scheduler_lease_seconds), clock=_now).run(stop)


def run_serve(roles: tuple[str, ...]) -> None:
    from core import settings as settings_module
    from ingest.__main__ import run_imap, run_smtp, run_worker
    from klerk.db_metrics import DatabaseCollector
    from klerk.observability import build_registry, configure_logging
    from klerk.runtime import make_engine, make_services
    from klerk.web import HttpServer, build_ops_app

    settings = settings_module.load()
    try:
        configure_logging(settings, roles)
    except ValueError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    if ("bot" in roles) != ("web" in roles) and settings.public_url and settings.telegram_bot_token.get_secret_value():
        typer.echo("With KLERK_PUBLIC_URL the bot runs on a webhook: Telegram posts to /telegram/webhook of the web "
                   "role, which hands the update to the bot of the same process. Start them together: "
                   "klerk serve --role bot --role web", err=True)
        raise typer.Exit(2)
    engine = make_engine(settings)
    store = store_from_settings(settings)
    services = make_services(settings, engine)
    services.extra["inbox_store"] = store
    _add_payments(settings, services)
    stop = threading.Event()
    database = DatabaseCollector(engine)
    health = Health(roles, database.ping)
    registry = build_registry(health, database)
    stops = {name: RoleStop(stop, Heartbeat(f"the {name} role", MAX_BUSY_SECONDS)) for name in roles}
    for name, role_stop in stops.items():
        health.add_check(name, role_stop.heartbeat.check)
    runners: dict[str, Callable[[], None]] = {
        "bot": lambda: run_bot(settings, services, stops["bot"]),
        "smtp": lambda: run_smtp(settings, engine, store, stops["smtp"]),
        "imap": lambda: run_imap(settings, engine, store, stops["imap"]),
        "worker": lambda: run_worker(settings, engine, store, stops["worker"]),
        "web": lambda: run_web(settings, services, stops["web"], health, registry),
        "scheduler": lambda: run_scheduler(settings, services, stops["scheduler"]),
    }
    ops = None
    if "web" not in roles:
        try:
            ops = HttpServer(build_ops_app(health, registry), settings.http_host, settings.http_port).start()
        except OSError as exc:
            log.error("%s (each process on one machine needs its own KLERK_HTTP_PORT)", exc.strerror)
            raise typer.Exit(1) from None
        health.add_check("http", ops.check)
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
        health.add_check(thread.name.removeprefix("klerk-"), thread_check(thread, "the role's thread"))
        thread.start()
    if "smtp" in roles:
        health.add_check("smtp", smtp_check(settings.smtp_host, settings.smtp_port))
    log.info("roles %s started", ", ".join(roles))
    time.sleep(1.0)
    if not stop.is_set():
        _say(settings, _banner(settings, roles))
    while not stop.is_set() and any(t.is_alive() for t in threads):
        stop.wait(0.5)
    stop.set()
    health.stopping = True
    log.info("stopping: finishing the work in hand (at most %.0f s)", SHUTDOWN_SECONDS)
    _join(threads, SHUTDOWN_SECONDS)
    if ops is not None:
        ops.stop()
    database.close()
    _say(settings, "Klerk stopped.")
    if failed:
        raise typer.Exit(1)


def _join(threads: list[threading.Thread], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    late = [t.name.removeprefix("klerk-") for t in threads if t.is_alive()]
    if late:
        log.warning("not finished after %.0f s: %s; stopping anyway (a job in hand is retried when its "
                    "lease runs out)", seconds, ", ".join(late))


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
    lines.append(f"  Health and metrics: http://{settings.http_host}:{settings.http_port}/healthz and /metrics")
    lines.append("  Stop with Ctrl-C.")
    return "\n".join(lines)
