"""The real Application of Klerk, on the test database, with a recording Bot API."""
from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
import pytest_asyncio  # noqa: F401 - only to fail early with a clear message if missing

from bot.app import build_application, on_startup
from bot.context import Services
from tests.bot.harness import ChatDriver, RecordingRequest
from tests.conftest import NOW


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def services(engine, clock) -> Services:  # type: ignore[no-untyped-def]
    return Services(engine=engine, secret=b"test-secret-0123456789", clock=clock)


@pytest.fixture
async def bot_app(services):  # type: ignore[no-untyped-def]
    request = RecordingRequest()
    app = build_application(services, token="123:TEST", request=request, deliver_notifications=False)
    async with app:
        app.bot_data["request"] = request
        await on_startup(app)
        yield app


@pytest.fixture
def chat(bot_app):  # type: ignore[no-untyped-def]
    def make(user_id: int = 5001, **kw: Any) -> ChatDriver:
        return ChatDriver(bot_app, bot_app.bot_data["request"], user_id, **kw)
    return make
