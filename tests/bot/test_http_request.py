"""The aiohttp request under the Bot API calls, against the Bot API double over HTTP on loopback.
Skipped where aiohttp is not installed (the bot then uses httpx, which the other bot tests cover)."""
from __future__ import annotations

import asyncio
import socket

import pytest
from telegram import Bot
from telegram.error import NetworkError, TimedOut

from klerk.botapi_double import BotApiDouble

aiohttp = pytest.importorskip("aiohttp")

from bot.http_request import AiohttpRequest, make_request  # noqa: E402


@pytest.fixture
def api():  # type: ignore[no-untyped-def]
    double = BotApiDouble()
    double.start()
    yield double
    double.stop()


async def test_messages_buttons_and_files_go_through(api) -> None:  # type: ignore[no-untyped-def]
    from telegram import InlineKeyboardButton, InlineKeyboardMarkup

    assert isinstance(make_request(pool_size=4), AiohttpRequest)
    bot = Bot("1:x", base_url=f"http://127.0.0.1:{api.port}/bot", request=AiohttpRequest(pool_size=4))
    async with bot:
        me = await bot.get_me()
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Ja", callback_data="yes|1|sig")]])
        await asyncio.gather(*(bot.send_message(7000 + i, f"Hallo {i} — €", reply_markup=keyboard) for i in range(20)))
        await bot.send_document(7001, b"%PDF-1.7 test", filename="factuur.pdf", caption="Factuur")
    assert me.username == "klerk_local_bot"
    texts = sorted(m.text for m in api.sent if m.method == "sendMessage")
    assert texts == sorted(f"Hallo {i} — €" for i in range(20))
    assert all(m.buttons == [[("Ja", "yes|1|sig")]] for m in api.sent if m.method == "sendMessage")
    (document,) = [m for m in api.sent if m.method == "sendDocument"]
    assert (document.file_name, document.file_bytes, document.text) == ("factuur.pdf", b"%PDF-1.7 test", "Factuur")


async def test_a_refused_connection_is_a_network_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]                 # nothing listens here once the probe is closed
    request = AiohttpRequest(pool_size=1)
    bot = Bot("1:x", base_url=f"http://127.0.0.1:{port}/bot", request=request)
    async with request:                               # the request only: no getMe at start
        with pytest.raises(NetworkError) as raised:
            await bot.send_message(1, "hallo")
    assert not isinstance(raised.value, TimedOut)


async def test_a_server_that_never_answers_times_out() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(65536)
        await asyncio.sleep(5)
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    request = AiohttpRequest(pool_size=1, read_timeout=0.3)
    bot = Bot("1:x", base_url=f"http://127.0.0.1:{port}/bot", request=request)
    async with server, request:
        with pytest.raises(TimedOut):
            await bot.send_message(1, "hallo")
