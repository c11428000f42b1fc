"""``python -m ingest smtp|imap|worker|all``: the receipt ingest's processes.

The composition root of the ingest: the only place that reads the settings (``core.settings.load``)
and builds the engine, the file store, the secret box and the mail relay. SIGTERM/SIGINT stop
gracefully; ``kill -9`` loses nothing (see ``smtp_server`` and ``worker``).
"""
from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import threading
from datetime import timedelta
from pathlib import Path

from core import settings as settings_module
from core import storage
from core.inbox.imap_accounts import active_imap_accounts
from core.secrets import load_secret_box
from core.inbox.store import FileStore
from core.mail import bounce_key, relay_from_settings
from core.settings import Settings

log = logging.getLogger("ingest")
ROLES = ("smtp", "imap", "worker", "all")


def inbox_root(settings: Settings) -> Path:
    return settings.documents_dir / "inbox"


def run_smtp(settings: Settings, engine, store: FileStore, stop: threading.Event) -> None:  # type: ignore[no-untyped-def]
    from ingest.smtp_server import IngestHandler, make_controller

    handler = IngestHandler(engine, store, domain=settings.ingest_domain, bounce_key=bounce_key(settings))
    controller = make_controller(handler, host=settings.smtp_host, port=settings.smtp_port,
                                 max_message_bytes=settings.max_message_bytes, server_hostname=settings.ingest_domain)
    controller.start()
    log.info("SMTP ingest listening on %s:%s", settings.smtp_host, settings.smtp_port)
    stop.wait()
    controller.drain()


def run_worker(settings: Settings, engine, store: FileStore, stop: threading.Event, *,  # type: ignore[no-untyped-def]
               isolated: bool = True, lease: timedelta | None = None, concurrency: int | None = None) -> None:
    """``settings.worker_concurrency`` workers as threads, each with its own reading process; they stop
    together on ``stop``. A worker that fails for good stops the role (and so the service) loudly."""
    from ingest.worker import DEFAULT_LEASE, Worker

    count = max(1, concurrency or settings.worker_concurrency)
    failures: list[BaseException] = []

    def one(index: int) -> None:
        isolated_reader = None
        try:
            if isolated:
                from ingest.reading_process import IsolatedReader

                reader = isolated_reader = IsolatedReader()
            else:
                import ingest.reading as reader  # type: ignore[no-redef]
            worker = Worker(engine, store, reader, ingest_domain=settings.ingest_domain, relay=relay_from_settings(settings),
                            lease=lease or DEFAULT_LEASE, name=f"{socket.gethostname()}:{os.getpid()}:w{index}")
            log.info("ingest worker %s started", worker.name)
            worker.run(stop)
        except Exception as exc:
            log.exception("ingest worker %s stopped", index)
            failures.append(exc)
            stop.set()
        finally:
            if isolated_reader is not None:
                isolated_reader.close()

    threads = [threading.Thread(target=one, args=(i,), name=f"worker-{i}", daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise RuntimeError(f"{len(failures)} of {count} ingest workers failed") from failures[0]


def run_imap(settings: Settings, engine, store: FileStore, stop: threading.Event) -> None:  # type: ignore[no-untyped-def]
    from ingest.imap_poller import ImapPoller, ImapSupervisor

    box = load_secret_box(settings.secret_key.get_secret_value(), settings.data_dir)

    def accounts() -> list[int]:
        with storage.session_scope(engine) as s:
            return active_imap_accounts(s)

    def poller(account_id: int) -> ImapPoller:
        return ImapPoller(engine, store, box, account_id, max_message_bytes=settings.max_message_bytes)

    ImapSupervisor(poller, accounts).run(stop)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m ingest", description="Klerk's receipt ingest")
    parser.add_argument("role", choices=ROLES)
    parser.add_argument("--in-process-reading", action="store_true",
                        help="read documents in the worker process itself (no time/memory limit)")
    parser.add_argument("--lease-seconds", type=float, default=30.0,
                        help="how long a claimed job is this worker's without a renewal before another may "
                             "take it (a crashed worker's jobs come back after this); renewed while it runs")
    args = parser.parse_args(argv)
    settings = settings_module.load()
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = storage.make_engine(settings.effective_database_url)
    storage.upgrade(engine)
    store = FileStore(inbox_root(settings))
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    runners = {
        "smtp": lambda: run_smtp(settings, engine, store, stop),
        "worker": lambda: run_worker(settings, engine, store, stop, isolated=not args.in_process_reading,
                                     lease=timedelta(seconds=args.lease_seconds)),
        "imap": lambda: run_imap(settings, engine, store, stop),
    }
    failed: list[str] = []

    def guarded(name: str) -> None:
        try:
            runners[name]()
        except Exception:
            log.exception("the %s role stopped", name)
            failed.append(name)

    chosen = list(runners) if args.role == "all" else [args.role]
    threads = [threading.Thread(target=guarded, args=(name,), name=name, daemon=True) for name in chosen]
    for thread in threads:
        thread.start()
    while any(t.is_alive() for t in threads) and not stop.is_set():
        stop.wait(0.5)
    stop.set()
    for thread in threads:
        thread.join(timeout=10)
    if failed:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
