"""The webhook side of the Bot API double (``klerk.botapi_double``): what Telegram does after
setWebhook, on loopback.

Each update is POSTed as JSON with the ``X-Telegram-Bot-Api-Secret-Token`` header; a 2xx answer
acknowledges it, anything else (or no answer) is retried with back-off, the update staying at the
head of its chat's queue. One update per chat is in flight at a time, so a chat's updates arrive in
order; different chats go in parallel, up to ``max_connections``. With ``backends`` the double plays
a load balancer in front of the webhook too: the URL's path goes to the backend chosen by chat id
(sticky routing), the way several bot processes would serve one public URL.

The HTTP client is a small keep-alive HTTP/1.1 client over asyncio streams: httpx costs about 1.5 ms
of CPU per request, which on a 2-core machine would be taken from the bot being measured.
"""
from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
TIMEOUT = 60.0


@dataclass
class Webhook:
    url: str
    secret_token: str = ""
    max_connections: int = 40
    allowed_updates: tuple[str, ...] = ()
    last_error_date: int = 0
    last_error_message: str = ""


def chat_of(update: dict[str, Any]) -> int:
    """The chat an update belongs to (what a sticky load balancer would route on)."""
    for key in ("message", "edited_message", "channel_post"):
        if key in update:
            return int(update[key]["chat"]["id"])
    query = update.get("callback_query")
    if query:
        message = query.get("message") or {}
        return int(message.get("chat", {}).get("id") or query["from"]["id"])
    return int(update["update_id"])


class _Poster:
    """POST over pooled keep-alive connections; returns the status code."""

    def __init__(self) -> None:
        self._idle: dict[tuple[str, int], list[tuple[asyncio.StreamReader, asyncio.StreamWriter]]] = defaultdict(list)

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        parts = urlsplit(url)
        host, port = parts.hostname or "127.0.0.1", parts.port or 80
        head = (f"POST {parts.path or '/'} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
                + "\r\n").encode("latin-1") + body
        pool = self._idle[(host, port)]
        if pool:                  # a kept connection the server may have closed meanwhile: one retry
            reader, writer = pool.pop()
            try:
                return await self._exchange(pool, reader, writer, head)
            except (ConnectionError, asyncio.IncompleteReadError):
                pass
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), TIMEOUT)
        return await self._exchange(pool, reader, writer, head)

    @staticmethod
    async def _exchange(pool: list, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,  # type: ignore[type-arg]
                        request: bytes) -> int:
        try:
            writer.write(request)
            raw = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), TIMEOUT)
            lines = raw.decode("latin-1").split("\r\n")
            status = int(lines[0].split()[1])
            fields = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
            if "content-length" in fields:
                await reader.readexactly(int(fields["content-length"]))
            elif fields.get("transfer-encoding", "").lower() == "chunked":
                while (size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)) > 0:
                    await reader.readexactly(size + 2)
                await reader.readuntil(b"\r\n")
            else:
                fields["connection"] = "close"
        except BaseException:
            writer.close()
            raise
        if fields.get("connection", "").lower() == "close":
            writer.close()
        else:
            pool.append((reader, writer))
        return status


class WebhookDelivery:
    """Per-chat queues of updates and the tasks that POST them; runs on the double's event loop."""

    def __init__(self, webhook: Webhook, *, backends: list[str], on_ack: Callable[[int], None],
                 give_back: Callable[[list[dict[str, Any]]], None]) -> None:
        self.webhook, self.backends = webhook, backends
        self._on_ack, self._give_back = on_ack, give_back
        self._queues: dict[int, deque[dict[str, Any]]] = defaultdict(deque)
        self._busy: set[int] = set()
        self._slots = asyncio.Semaphore(webhook.max_connections)
        self._poster = _Poster()
        self.active = True

    @property
    def pending(self) -> int:
        return sum(len(q) for q in self._queues.values())

    def add(self, update: dict[str, Any]) -> None:
        chat = chat_of(update)
        self._queues[chat].append(update)
        if chat not in self._busy:
            self._busy.add(chat)
            asyncio.get_running_loop().create_task(self._drain(chat))

    def stop(self) -> None:
        """The webhook was deleted or replaced: queued updates go back (for getUpdates or a new hook)."""
        self.active = False
        left = [u for q in self._queues.values() for u in q]
        self._queues.clear()
        self._give_back(left)

    def _target(self, chat: int) -> str:
        if not self.backends:
            return self.webhook.url
        parts = urlsplit(self.webhook.url)
        base = self.backends[chat % len(self.backends)].rstrip("/")
        return base + (parts.path or "/") + (f"?{parts.query}" if parts.query else "")

    async def _drain(self, chat: int) -> None:
        queue, delay = self._queues[chat], 0.05
        try:
            while self.active and queue:
                update = queue[0]
                headers = {SECRET_HEADER: self.webhook.secret_token} if self.webhook.secret_token else {}
                try:
                    async with self._slots:
                        status = await self._poster.post(self._target(chat), json.dumps(update).encode(), headers)
                    error = "" if 200 <= status < 300 else f"Wrong response from the webhook: {status}"
                except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, ValueError) as exc:
                    error = f"Connection failed: {exc.__class__.__name__}"
                if not error:
                    if queue and queue[0] is update:
                        queue.popleft()
                    self._on_ack(update["update_id"])
                    delay = 0.05
                    continue
                self.webhook.last_error_date, self.webhook.last_error_message = int(time.time()), error
                log.info("webhook delivery of update %s failed (%s); retrying", update["update_id"], error)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
        finally:
            self._busy.discard(chat)
            if not queue:
                self._queues.pop(chat, None)
