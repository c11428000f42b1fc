"""Webhook mode: the real Application behind the ``/telegram/webhook`` route in uvicorn on loopback,
driven over HTTP by the Bot API double (which POSTs updates to the webhook once it is set)."""
from __future__ import annotations

import asyncio
import socket
import time
from contextlib import asynccontextmanager

import httpx
import pytest
import uvicorn
from sqlmodel import select
from starlette.applications import Starlette

from bot.app import build_application
from bot.webhook import SECRET_HEADER, WEBHOOK_PATH, deliver_to, set_webhook, telegram_webhook_route, webhook_secret
from core import storage
from core.models import ChatState, Person
from klerk.botapi_double import BotApiDouble


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def double():  # type: ignore[no-untyped-def]
    """Filled in by ``webhook_bots``: started with the bots' ports as its load-balancer backends."""
    holder: dict[str, BotApiDouble] = {}
    yield holder
    if "double" in holder:
        holder["double"].stop()


@asynccontextmanager
async def webhook_bots(services, holder, processes: int = 1):  # type: ignore[no-untyped-def]
    """``processes`` Applications, each behind its own uvicorn server (all on this loop), and the
    double routing webhook deliveries to them by chat id; the first one sets the webhook."""
    ports = [_free_port() for _ in range(processes)]
    backends = [f"http://127.0.0.1:{port}" for port in ports]
    double = BotApiDouble(webhook_backends=backends)
    holder["double"] = double
    base = double.start()
    apps, servers, tasks = [], [], []
    for port in ports:
        app = build_application(services, token="123:TEST", base_url=base, deliver_notifications=False)
        await app.initialize()
        await app.start()
        web = Starlette(routes=[telegram_webhook_route(deliver_to(app), webhook_secret(services.secret))])
        server = uvicorn.Server(uvicorn.Config(web, host="127.0.0.1", port=port, log_level="warning",
                                               lifespan="off"))
        server.install_signal_handlers = lambda: None          # type: ignore[method-assign]
        tasks.append(asyncio.create_task(server.serve()))
        apps.append(app)
        servers.append(server)
    while not all(server.started for server in servers):
        await asyncio.sleep(0.01)
    await set_webhook(apps[0], backends[0])
    try:
        yield double, backends[0] + WEBHOOK_PATH
    finally:
        for server in servers:
            server.should_exit = True
        await asyncio.gather(*tasks)
        for app in apps:
            await app.stop()
            await app.shutdown()


def _people(engine) -> list[int]:  # type: ignore[no-untyped-def]
    with storage.session_scope(engine) as s:
        return [p.telegram_user_id for p in s.exec(select(Person)).all()]


async def _wait_sent(double: BotApiDouble, count: int) -> None:
    assert await asyncio.to_thread(double.wait_sent, count, 20.0), [m.text for m in double.sent]


async def test_start_arrives_through_the_webhook_and_is_answered(services, engine, double) -> None:  # type: ignore[no-untyped-def]
    async with webhook_bots(services, double) as (api, url):
        async with httpx.AsyncClient() as client:
            info = (await client.get(f"http://127.0.0.1:{api.port}/bot123:TEST/getWebhookInfo")).json()["result"]
            polled = await client.post(f"http://127.0.0.1:{api.port}/bot123:TEST/getUpdates")
        assert info["url"] == url and info["allowed_updates"] == ["message", "callback_query"]
        assert polled.status_code == 409              # as Telegram: no getUpdates while a webhook is set
        api.push_text(api.user(6001), "/start")
        await _wait_sent(api, 1)
    (answer,) = [m for m in api.sent if m.chat_id == 6001]
    assert answer.text.startswith("Welkom bij Klerk!")       # the onboarding begins
    assert _people(engine) == [6001]
    with storage.session_scope(engine) as s:
        assert s.get(ChatState, (6001, 6001)).flow == "onboarding"     # the step was saved


async def test_a_wrong_or_missing_secret_is_refused_and_nothing_is_handled(services, engine, double) -> None:  # type: ignore[no-untyped-def]
    update = {"update_id": 1, "message": {"message_id": 1, "date": 0, "chat": {"id": 6002, "type": "private"},
                                          "from": {"id": 6002, "is_bot": False, "first_name": "Mallory"},
                                          "text": "/help"}}
    async with webhook_bots(services, double) as (api, url):
        async with httpx.AsyncClient() as client:
            wrong = await client.post(url, json=update, headers={SECRET_HEADER: webhook_secret(b"another key")})
            missing = await client.post(url, json=update)
        await asyncio.sleep(0.2)
    assert (wrong.status_code, missing.status_code) == (403, 403)
    assert api.sent == [] and _people(engine) == []


async def test_malformed_bodies_get_400_and_a_good_one_200(services, engine, double) -> None:  # type: ignore[no-untyped-def]
    good = {"update_id": 7, "message": {"message_id": 1, "date": 0, "chat": {"id": 6003, "type": "private"},
                                        "from": {"id": 6003, "is_bot": False, "first_name": "Eva"}, "text": "/help"}}
    async with webhook_bots(services, double) as (api, url):
        headers = {SECRET_HEADER: webhook_secret(services.secret), "content-type": "application/json"}
        async with httpx.AsyncClient() as client:
            statuses = [(await client.post(url, content=body, headers=headers)).status_code for body in (
                b"{not json", b"[1, 2]", b'{"message": {}}', b'{"update_id": 5, "message": {"chat": 1}}')]
            answered = await client.post(url, json=good, headers=headers)
        sent_when_answered = [m.text for m in api.sent]
    assert statuses == [400, 400, 400, 400]
    assert answered.status_code == 200
    assert len(sent_when_answered) == 1 and "/start" in sent_when_answered[0]   # handled before the 200
    assert _people(engine) == [6003]


async def test_each_chat_keeps_its_order_across_two_processes(services, double) -> None:  # type: ignore[no-untyped-def]
    commands = ["/help", "/taal", "/cancel"]
    chats = [6101, 6102, 6103, 6104]
    async with webhook_bots(services, double, processes=2) as (api, _url):
        for n, command in enumerate(commands):            # what each command answers, one at a time
            api.push_text(api.user(6100), command)
            await _wait_sent(api, n + 1)
        reply = {command: m.text for command, m in zip(commands, api.sent)}
        assert len(set(reply.values())) == 3
        sequence = {chat: [commands[(chat + i * i) % 3] for i in range(12)] for chat in chats}
        for i in range(12):                               # interleaved, all pushed at once
            for chat in chats:
                api.push_text(api.user(chat), sequence[chat][i])
        await _wait_sent(api, 3 + 12 * len(chats))
    for chat in chats:
        assert [m.text for m in api.sent if m.chat_id == chat] == [reply[c] for c in sequence[chat]]


def test_the_service_bot_thread_takes_webhook_updates_from_the_web_thread(services, engine) -> None:  # type: ignore[no-untyped-def]
    """``klerk serve``'s wiring: the bot on its own loop (``BotThread`` with a public URL sets the
    webhook), the route in a uvicorn server on another thread's loop (the web role)."""
    import threading

    from klerk.runtime import BOT_THREAD, BotThread, telegram_webhook

    port = _free_port()
    api = BotApiDouble()
    base = api.start()
    bot = BotThread(services, token="123:TEST", base_url=base, public_url=f"http://127.0.0.1:{port}/")
    server = uvicorn.Server(uvicorn.Config(Starlette(routes=[telegram_webhook(services)]), host="127.0.0.1",
                                           port=port, log_level="warning", lifespan="off"))
    update = {"update_id": 99, "message": {"message_id": 1, "date": 0, "chat": {"id": 6202, "type": "private"},
                                           "from": {"id": 6202, "is_bot": False, "first_name": "Eva"}, "text": "/help"}}
    headers = {SECRET_HEADER: webhook_secret(services.secret)}
    web = threading.Thread(target=server.run, daemon=True)
    try:
        web.start()
        while not server.started:
            time.sleep(0.01)
        early = httpx.post(f"http://127.0.0.1:{port}{WEBHOOK_PATH}", json=update, headers=headers)
        assert early.status_code == 503               # no bot in the process yet: Telegram retries
        services.extra[BOT_THREAD] = bot
        bot.start()
        info = httpx.get(f"{base}/bot123:TEST/getWebhookInfo").json()["result"]
        assert info["url"] == f"http://127.0.0.1:{port}{WEBHOOK_PATH}"
        api.push_text(api.user(6201), "/help")
        assert api.wait_sent(1, 20.0)
        assert [m.chat_id for m in api.sent] == [6201] and _people(engine) == [6201]
    finally:
        bot.stop()
        server.should_exit = True
        web.join(10)
        api.stop()
