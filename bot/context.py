"""What every callback can reach: the services, through a typed ``CallbackContext``."""
from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any, TypeVar

from sqlalchemy.engine import Engine
from sqlmodel import Session
from telegram.ext import Application, CallbackContext, ExtBot

from core import storage
from core.mail import Relay

T = TypeVar("T")


def system_clock() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class Services:
    """Injected into the bot: tests pass their own engine, clock and mail relay."""

    engine: Engine
    secret: bytes                                   # signs inline-button data
    relay: Relay = field(default_factory=lambda: Relay(host=""))
    clock: Callable[[], datetime] = system_clock
    ingest_domain: str = "klerk.localhost"
    bot_username: str = "klerk_bot"
    extra: dict[str, Any] = field(default_factory=dict)   # edge services added later (payments, ...)

    def now(self) -> datetime:
        return self.clock()

    def today(self) -> date:
        return self.clock().date()

    async def db(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``fn(session, *args)`` in one unit of work, off the event loop."""
        def unit() -> T:
            with storage.session_scope(self.engine) as session:
                return fn(session, *args, **kwargs)
        return await asyncio.to_thread(unit)

    async def read(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``fn(session, *args)`` in a unit of work that only reads (``storage.read_scope``: on
        SQLite a deferred transaction, so it never queues behind a writer), off the event loop."""
        def unit() -> T:
            with storage.read_scope(self.engine) as session:
                return fn(session, *args, **kwargs)
        return await asyncio.to_thread(unit)

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run blocking work (rendering, mail) off the event loop."""
        return await asyncio.to_thread(fn, *args, **kwargs)


class KlerkContext(CallbackContext[ExtBot, dict, dict, dict]):
    @property
    def services(self) -> Services:
        return self.application.bot_data["services"]


def session_scope(services: Services):  # type: ignore[no-untyped-def]
    return storage.session_scope(services.engine)


__all__ = ["KlerkContext", "Services", "Session", "Application"]
