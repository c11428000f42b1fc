"""A Telegram Bot API double served over HTTP on 127.0.0.1, for ``klerk chat`` (talk to the real
bot in a terminal without Telegram) and ``klerk bench bot``.

It implements the methods Klerk uses — getMe, getUpdates (long polling), sendMessage, sendPhoto,
sendDocument, editMessageText, editMessageReplyMarkup, answerCallbackQuery, sendChatAction,
setMyCommands, setWebhook, deleteWebhook, getWebhookInfo, getFile and file downloads — with Bot API
shaped JSON. The "person" side pushes updates with ``push_*`` and reads what the bot sent from ``sent``.

With a webhook set, updates are POSTed to it (``klerk.botapi_webhook``) instead of being served by
getUpdates (which then answers 409, as Telegram does).
"""
from __future__ import annotations

import asyncio
import itertools
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from klerk.botapi_webhook import Webhook, WebhookDelivery

BOT_ID = 7000000001


@dataclass
class Sent:
    method: str
    chat_id: int
    text: str = ""
    buttons: list[list[tuple[str, str]]] = field(default_factory=list)
    file_name: str = ""
    file_bytes: bytes = b""
    at: float = 0.0


class BotApiDouble:
    def __init__(self, *, username: str = "klerk_local_bot", webhook_backends: list[str] | None = None) -> None:
        self.username = username
        self.webhook_backends = list(webhook_backends or [])     # a sticky load balancer in front of the hook
        self._delivery: WebhookDelivery | None = None
        self._acks: dict[int, asyncio.Future[float]] = {}
        self.sent: list[Sent] = []
        self.files: dict[str, tuple[str, bytes]] = {}
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)
        self._new_update: asyncio.Event | None = None
        self._sent_cond = threading.Condition()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    # ---- HTTP side (the bot) ----------------------------------------------------------------
    def app(self) -> Starlette:
        return Starlette(routes=[
            Route("/bot{token}/{method}", self._method, methods=["GET", "POST"]),
            Route("/file/bot{token}/{path:path}", self._file, methods=["GET"]),
            Route("/_person/update", self._person_update, methods=["POST"]),
            Route("/_person/file", self._person_file, methods=["POST"]),
            Route("/_person/sent", self._person_sent, methods=["GET"]),
            Route("/_person/load", self._person_load, methods=["POST"]),
        ])

    # the person's side over HTTP, for `klerk chat --connect` (a terminal talking to `klerk serve`)
    async def _person_update(self, request: Request) -> Response:
        payload = await request.json()
        update = {"update_id": next(self._update_ids), **payload}
        self._add_update(update)
        return JSONResponse({"ok": True, "update_id": update["update_id"]})

    async def _person_load(self, request: Request) -> Response:
        """Open-loop load for ``klerk bench bot --webhook``: ``count`` text updates at ``rate``/s from
        ``users`` people; answers each update's time from its arrival here to the webhook's 2xx."""
        spec = await request.json()
        rate, count, users, base = float(spec["rate"]), int(spec["count"]), int(spec["users"]), int(spec["user_base"])
        texts: list[str] = spec["texts"]
        loop = asyncio.get_running_loop()
        futures, started = [], []
        start = time.perf_counter()
        for i in range(count):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            user = self.user(base + i % users, first_name="Bench")
            message = self._text_message(user, texts[i % len(texts)])
            update = {"update_id": next(self._update_ids), "message": message}
            future: asyncio.Future[float] = loop.create_future()
            self._acks[update["update_id"]] = future
            started.append(time.perf_counter())
            futures.append(future)
            self._add_update(update)
        acked = await asyncio.gather(*futures)
        return JSONResponse({"ok": True, "elapsed": time.perf_counter() - start,
                             "latencies": [done - began for done, began in zip(acked, started)]})

    def _add_update(self, update: dict[str, Any]) -> None:
        if self._delivery is not None:
            self._delivery.add(update)
            return
        self._updates.append(update)
        assert self._new_update is not None
        self._new_update.set()

    def _acked(self, update_id: int) -> None:
        future = self._acks.pop(update_id, None)
        if future is not None and not future.done():
            future.set_result(time.perf_counter())

    def _given_back(self, updates: list[dict[str, Any]]) -> None:
        self._updates = sorted(self._updates + updates, key=lambda u: u["update_id"])
        if updates and self._new_update is not None:
            self._new_update.set()

    def _set_webhook(self, params: dict[str, Any]) -> None:
        if self._delivery is not None:
            self._delivery.stop()
            self._delivery = None
        if params.get("drop_pending_updates") in (True, "true", "True"):
            self._updates = []
        url = str(params.get("url") or "")
        if not url:
            return
        allowed = params.get("allowed_updates") or []
        webhook = Webhook(url=url, secret_token=str(params.get("secret_token") or ""),
                          max_connections=int(params.get("max_connections") or 40),
                          allowed_updates=tuple(json.loads(allowed) if isinstance(allowed, str) else allowed))
        self._delivery = WebhookDelivery(webhook, backends=self.webhook_backends, on_ack=self._acked,
                                         give_back=self._given_back)
        waiting, self._updates = self._updates, []
        for update in waiting:
            self._delivery.add(update)

    def _webhook_info(self) -> dict[str, Any]:
        if self._delivery is None:
            return {"url": "", "has_custom_certificate": False, "pending_update_count": len(self._updates)}
        hook = self._delivery.webhook
        info: dict[str, Any] = {"url": hook.url, "has_custom_certificate": False,
                                "pending_update_count": self._delivery.pending, "max_connections": hook.max_connections,
                                "allowed_updates": list(hook.allowed_updates)}
        if hook.last_error_date:
            info.update(last_error_date=hook.last_error_date, last_error_message=hook.last_error_message)
        return info

    async def _person_file(self, request: Request) -> Response:
        form = await request.form()
        upload = form["file"]
        file_id = f"f{next(self._message_ids)}"
        self.files[file_id] = (upload.filename or "file", await upload.read())
        return JSONResponse({"ok": True, "file_id": file_id})

    async def _person_sent(self, request: Request) -> Response:
        after = int(request.query_params.get("after", 0))
        wait = min(float(request.query_params.get("wait", 0)), 30.0)
        deadline = time.monotonic() + wait
        while len(self.sent) <= after and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        return JSONResponse({"ok": True, "sent": [
            {"index": i, "method": m.method, "chat_id": m.chat_id, "text": m.text, "buttons": m.buttons,
             "file_name": m.file_name, "file_id": f"sent{i}" if m.file_bytes else ""}
            for i, m in enumerate(self.sent) if i >= after]})

    async def _params(self, request: Request) -> tuple[dict[str, Any], dict[str, tuple[str, bytes]]]:
        ctype = request.headers.get("content-type", "")
        files: dict[str, tuple[str, bytes]] = {}
        if ctype.startswith("application/json"):
            body = await request.body()
            return (json.loads(body) if body else {}), files
        form = await request.form()
        params: dict[str, Any] = {}
        for key, value in form.multi_items():
            if hasattr(value, "read"):
                files[key] = (value.filename or key, await value.read())
            else:
                params[key] = value
        return params, files

    def _message(self, chat_id: int, **extra: Any) -> dict[str, Any]:
        return {"message_id": next(self._message_ids), "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private"},
                "from": {"id": BOT_ID, "is_bot": True, "first_name": "Klerk", "username": self.username}, **extra}

    async def _method(self, request: Request) -> Response:
        method = request.path_params["method"]
        params, files = await self._params(request)
        if method == "getUpdates":
            if self._delivery is not None:
                return JSONResponse({"ok": False, "error_code": 409, "description": "Conflict: can't use getUpdates "
                                     "method while webhook is active; use deleteWebhook to delete the webhook first"},
                                    status_code=409)
            return JSONResponse({"ok": True, "result": await self._get_updates(params)})
        result: Any = True
        if method in ("setWebhook", "deleteWebhook"):
            self._set_webhook(params if method == "setWebhook" else {**params, "url": ""})
        elif method == "getWebhookInfo":
            result = self._webhook_info()
        elif method == "getMe":
            result = {"id": BOT_ID, "is_bot": True, "first_name": "Klerk", "username": self.username,
                      "can_join_groups": False, "can_read_all_group_messages": False,
                      "supports_inline_queries": False}
        elif method in ("sendMessage", "sendPhoto", "sendDocument", "editMessageText"):
            chat_id = int(params.get("chat_id", 0))
            markup = params.get("reply_markup")
            markup = json.loads(markup) if isinstance(markup, str) else (markup or {})
            buttons = [[(b["text"], b.get("callback_data", "")) for b in row]
                       for row in markup.get("inline_keyboard", [])]
            text = str(params.get("text") or params.get("caption") or "")
            name, content = "", b""
            if method in ("sendPhoto", "sendDocument"):
                key = "photo" if method == "sendPhoto" else "document"
                name, content = files.get(key, (f"{key}.bin", b""))
                if isinstance(params.get(key), str) and params[key].startswith("attach://"):
                    name, content = files.get(params[key][len("attach://"):], (name, content))
            if method == "sendPhoto" and not name.lower().endswith((".png", ".jpg", ".jpeg")):
                name = f"photo-{len(self.sent) + 1}.png"
            self._record(Sent(method, chat_id, text, buttons, name, content, time.monotonic()))
            result = self._message(chat_id, **({"text": text} if text else {}))
        elif method == "getFile":
            file_id = str(params["file_id"])
            name, content = self.files.get(file_id, ("", b""))
            result = {"file_id": file_id, "file_unique_id": file_id, "file_size": len(content), "file_path": file_id}
        return JSONResponse({"ok": True, "result": result})

    async def _file(self, request: Request) -> Response:
        path = request.path_params["path"]
        if path.startswith("sent") and path[4:].isdigit() and int(path[4:]) < len(self.sent):
            return Response(self.sent[int(path[4:])].file_bytes, media_type="application/octet-stream")
        _, content = self.files.get(path, ("", b""))
        return Response(content, media_type="application/octet-stream")

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        timeout = float(params.get("timeout") or 0)
        self._updates = [u for u in self._updates if u["update_id"] >= offset]
        if not self._updates and timeout > 0:
            assert self._new_update is not None
            self._new_update.clear()
            try:
                await asyncio.wait_for(self._new_update.wait(), timeout)
            except asyncio.TimeoutError:
                pass
        return list(self._updates[:100])

    def _record(self, sent: Sent) -> None:
        with self._sent_cond:
            self.sent.append(sent)
            self._sent_cond.notify_all()

    # ---- the person's side -----------------------------------------------------------------
    def push(self, payload: dict[str, Any]) -> int:
        update = {"update_id": next(self._update_ids), **payload}

        assert self._loop is not None
        self._loop.call_soon_threadsafe(self._add_update, update)
        return update["update_id"]

    def user(self, user_id: int, first_name: str = "Eva", language: str = "nl") -> dict[str, Any]:
        return {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": language}

    def push_text(self, user: dict[str, Any], text: str) -> int:
        return self.push({"message": self._text_message(user, text)})

    def _text_message(self, user: dict[str, Any], text: str) -> dict[str, Any]:
        message = {"message_id": next(self._message_ids), "date": int(time.time()),
                   "chat": {"id": user["id"], "type": "private"}, "from": user, "text": text}
        if text.startswith("/"):
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        return message

    def push_file(self, user: dict[str, Any], name: str, content: bytes, mime: str, *, photo: bool = False) -> int:
        file_id = f"f{next(self._message_ids)}"
        self.files[file_id] = (name, content)
        message: dict[str, Any] = {"message_id": next(self._message_ids), "date": int(time.time()),
                                   "chat": {"id": user["id"], "type": "private"}, "from": user}
        if photo:
            message["photo"] = [{"file_id": file_id, "file_unique_id": file_id, "width": 1000, "height": 1000,
                                 "file_size": len(content)}]
        else:
            message["document"] = {"file_id": file_id, "file_unique_id": file_id, "file_name": name,
                                   "mime_type": mime, "file_size": len(content)}
        return self.push({"message": message})

    def push_callback(self, user: dict[str, Any], data: str) -> int:
        return self.push({"callback_query": {
            "id": str(next(self._message_ids)), "from": user, "chat_instance": "local", "data": data,
            "message": {"message_id": 1, "date": int(time.time()), "chat": {"id": user["id"], "type": "private"},
                        "from": {"id": BOT_ID, "is_bot": True, "first_name": "Klerk"}, "text": "…"}}})

    def wait_sent(self, count: int, timeout: float = 30.0) -> bool:
        """Block until at least ``count`` messages were sent by the bot."""
        deadline = time.monotonic() + timeout
        with self._sent_cond:
            while len(self.sent) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._sent_cond.wait(left)
        return True

    # ---- serving ---------------------------------------------------------------------------
    def start(self, port: int = 0) -> str:
        if not port:
            probe = socket.socket()
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
            probe.close()
        self.port = port
        # uvicorn binds the port itself: a socket handed in via ``sockets=`` misses its TCP tuning, and
        # every POST then waits ~40 ms for a delayed ACK
        config = uvicorn.Config(self.app(), host="127.0.0.1", port=port, log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        started = threading.Event()

        def serve() -> None:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            self._loop = loop
            self._new_update = asyncio.Event()
            loop.call_soon(started.set)
            loop.run_until_complete(self._server.serve())

        self._thread = threading.Thread(target=serve, name="botapi-double", daemon=True)
        self._thread.start()
        started.wait(10)
        while not self._server.started:
            time.sleep(0.01)
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(10)


def serve_forever(port: int, webhook_backends: list[str] | None = None) -> None:
    """``python -m klerk.botapi_double PORT [BACKEND_URL ...]``: the double in a process of its own
    (benchmarks); with backend URLs it spreads webhook deliveries over them by chat id."""
    double = BotApiDouble(webhook_backends=webhook_backends)
    double.start(port=port)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        double.stop()


if __name__ == "__main__":
    import sys

    serve_forever(int(sys.argv[1]), sys.argv[2:])
