"""The scheduler role: renew the lease every third of its length; a round every interval while holding it."""
from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine

from core.scheduler import hold, scheduled_round, step_down

log = logging.getLogger("klerk.scheduler")


def holder_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


class Scheduler:
    def __init__(self, engine: Engine, *, interval: float, lease: timedelta,
                 clock: Callable[[], datetime], holder: str | None = None) -> None:
        self.engine, self.interval, self.lease, self.clock = engine, interval, lease, clock
        self.holder = holder or holder_name()
        self.tick = max(0.05, min(interval, lease.total_seconds() / 3))
        self.holding = False
        self.last_round: datetime | None = None       # when this copy last did a round
        self.last_tick: datetime | None = None        # for the health check: the loop is alive

    def tick_once(self) -> bool:
        """Renew or take the lease; do a round when holding it and the interval has passed. True = a round ran."""
        now = self.clock()
        self.last_tick = now
        was_holding, self.holding = self.holding, hold(self.engine, holder=self.holder, now=now, ttl=self.lease)
        if self.holding != was_holding:
            log.info("scheduler %s the lease (%s)", "took" if self.holding else "lost", self.holder)
        if not self.holding:
            return False
        if self.last_round is not None and (now - self.last_round).total_seconds() < self.interval:
            return False
        result = scheduled_round(self.engine, now=now)
        self.last_round = now
        if result.created or result.cancelled or result.quote_nudges or result.kor_warnings:
            log.info("scheduler round: %d reminders, %d cancelled, %d quote nudges, %d KOR warnings",
                     len(result.created), result.cancelled, result.quote_nudges, len(result.kor_warnings))
        return True

    def run(self, stop: threading.Event) -> None:
        try:
            while not stop.is_set():
                try:
                    self.tick_once()
                except Exception:  # noqa: BLE001 - each round is idempotent; the next tick tries again
                    log.exception("scheduler tick failed; trying again")
                stop.wait(self.tick)
        finally:
            if self.holding:
                try:
                    step_down(self.engine, holder=self.holder)
                except Exception:  # noqa: BLE001 - the lease then simply runs out
                    log.warning("could not release the scheduler lease; it runs out by itself")
