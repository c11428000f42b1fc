"""Is this process healthy? Each role registers checks; ``/healthz`` asks them and the database.

A check is a function that returns ``None`` when all is well and the reason otherwise (it may also
raise; the exception is the reason). ``Heartbeat`` is the check of a loop: it goes stale when the
loop has been busy for longer than ``max_busy`` seconds without a beat — waiting (for work, for the
next round, for the stop signal) is not being stuck.
"""
from __future__ import annotations

import json
import logging
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from core.settings import Settings

log = logging.getLogger(__name__)
Check = Callable[[], "str | None"]


class Health:
    """The roles of this process, their checks, and a database ping (which raises when it fails)."""

    def __init__(self, roles: Sequence[str], ping_database: Callable[[], None]) -> None:
        self.roles = tuple(roles)
        self._ping = ping_database
        self._checks: dict[str, list[Check]] = {role: [] for role in self.roles}
        self._database_was_ok = True
        self.stopping = False

    def add_check(self, role: str, check: Check) -> None:
        self._checks.setdefault(role, []).append(check)

    def role_problems(self) -> dict[str, str]:
        """Role -> the first reason it is not well, for every role that is not."""
        problems: dict[str, str] = {}
        for role, checks in self._checks.items():
            for check in checks:
                try:
                    reason = check()
                except Exception as exc:  # noqa: BLE001 - a failing check is an answer, not a crash
                    reason = f"check failed: {type(exc).__name__}: {exc}"
                if reason:
                    problems[role] = reason
                    break
        return problems

    def database_state(self) -> str:
        try:
            self._ping()
        except Exception as exc:  # noqa: BLE001 - any failure to answer means unreachable
            if self._database_was_ok:                  # once per outage, not once per probe
                log.warning("health: the database does not answer: %s: %s", type(exc).__name__, exc)
            self._database_was_ok = False
            return f"unreachable ({type(exc).__name__})"
        if not self._database_was_ok:
            log.info("health: the database answers again")
        self._database_was_ok = True
        return "ok"

    def report(self) -> tuple[int, dict]:
        """(HTTP status, body) for ``/healthz``."""
        database, problems = self.database_state(), self.role_problems()
        if self.stopping:
            problems["process"] = "stopping"
        ok = database == "ok" and not problems
        body: dict = {"status": "ok" if ok else "error", "roles": list(self.roles), "database": database}
        if problems:
            body["problems"] = problems
        return (200 if ok else 503), body


class Heartbeat:
    """A loop's sign of life: ``beat()`` each round, ``with waiting():`` around its idle waits. Kept per
    thread, so one of several workers stuck in a job shows even while the others wait for work."""

    def __init__(self, what: str, max_busy: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.what, self.max_busy, self._clock = what, max_busy, clock
        self._threads: dict[threading.Thread, list[float]] = {}     # thread -> [last beat, waits in progress]
        self._lock = threading.Lock()

    def _state(self) -> list[float]:
        return self._threads.setdefault(threading.current_thread(), [self._clock(), 0])

    def beat(self) -> None:
        with self._lock:
            self._state()[0] = self._clock()

    @contextmanager
    def waiting(self) -> Iterator[None]:
        with self._lock:
            self._state()[1] += 1
        try:
            yield
        finally:
            with self._lock:
                state = self._state()
                state[0], state[1] = self._clock(), state[1] - 1

    def check(self) -> str | None:
        now = self._clock()
        with self._lock:
            for thread in [t for t in self._threads if not t.is_alive()]:
                del self._threads[thread]
            stuck = [(now - last, t.name) for t, (last, waits) in self._threads.items()
                     if not waits and now - last > self.max_busy]
        if stuck:
            busy, name = max(stuck)
            return f"{self.what} ({name}) busy for {busy:.0f} s without a sign of life (limit {self.max_busy:.0f} s)"
        return None


def thread_check(thread: threading.Thread, what: str) -> Check:
    def check() -> str | None:
        return None if thread.is_alive() else f"{what} stopped"
    return check


def smtp_check(host: str, port: int, timeout: float = 2.0) -> Check:
    """The SMTP listener greets a new connection with 220 within ``timeout`` seconds."""
    target = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)

    def check() -> str | None:
        try:
            with socket.create_connection((target, port), timeout=timeout) as conn:
                greeting = conn.recv(512)
                conn.sendall(b"QUIT\r\n")
        except OSError as exc:
            return f"SMTP on {target}:{port} does not answer ({exc.__class__.__name__})"
        if not greeting.startswith(b"220"):
            return f"SMTP on {target}:{port} greets with {greeting[:40]!r}"
        return None
    return check


def local_health_url(settings: Settings) -> str:
    """``/healthz`` of the ``klerk serve`` on this machine (for ``klerk healthcheck``)."""
    host = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "[::1]"}.get(settings.http_host, settings.http_host)
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{settings.http_port}/healthz"


def probe_health(url: str, timeout: float = 5.0) -> tuple[bool, str]:
    """(healthy?, a one-line answer for the operator) from GET ``url``."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - an http URL we built
            return True, response.read(4096).decode("utf-8", "replace").strip()
    except urllib.error.HTTPError as exc:
        body = exc.read(4096).decode("utf-8", "replace").strip()
        try:
            body = json.dumps(json.loads(body), ensure_ascii=False)
        except ValueError:
            pass
        return False, f"{url}: HTTP {exc.code} {body}"
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return False, f"{url}: no answer ({reason})"
