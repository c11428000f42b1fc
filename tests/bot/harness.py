"""Driving the real Application without Telegram: a recording ``BaseRequest`` that answers the
Bot API calls Klerk makes, and a ``ChatDriver`` that plays a person typing, tapping and sending files.
"""
from __future__ import annotations

import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

from telegram import Update
from telegram.ext import Application
from telegram.request import BaseRequest, RequestData

BOT_ID = 7000000001
BOT_USERNAME = "klerk_test_bot"


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    files: dict[str, bytes] = field(default_factory=dict)

    @property
    def chat_id(self) -> int | None:
        value = self.params.get("chat_id")
        return int(value) if value is not None else None

    @property
    def text(self) -> str:
        return str(self.params.get("text") or self.params.get("caption") or "")

    @property
    def buttons(self) -> list[tuple[str, str]]:
        markup = self.params.get("reply_markup")
        if isinstance(markup, str):
            markup = json.loads(markup)
        rows = (markup or {}).get("inline_keyboard", [])
        return [(b["text"], b.get("callback_data", "")) for row in rows for b in row]


class RecordingRequest(BaseRequest):
    """Answers like the Bot API and records every call. Files 'uploaded' by the test user live in
    ``self.files`` (file_id -> bytes) and are served by getFile + download."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.files: dict[str, bytes] = {}
        self.fail_methods: set[str] = set()
        self._ids = itertools.count(1000)

    @property
    def read_timeout(self) -> float | None:
        return 5.0

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None,
                         read_timeout=None, write_timeout=None, connect_timeout=None, pool_timeout=None):  # type: ignore[no-untyped-def]
        if "/file/bot" in url:
            file_path = url.rsplit("/", 1)[-1]
            return 200, self.files.get(file_path, b"")
        name = url.rsplit("/", 1)[-1]
        params = dict(request_data.parameters) if request_data else {}
        files = {}
        if request_data is not None and request_data.multipart_data:
            for key, value in request_data.multipart_data.items():
                files[key] = value[1] if isinstance(value, tuple) else value
        self.calls.append(Call(name, params, files))
        if name in self.fail_methods:
            return 400, json.dumps({"ok": False, "error_code": 400, "description": "Bad Request: test"}).encode()
        return 200, json.dumps({"ok": True, "result": self._result(name, params)}).encode()

    def _result(self, name: str, params: dict[str, Any]) -> Any:
        if name == "getMe":
            return {"id": BOT_ID, "is_bot": True, "first_name": "Klerk", "username": BOT_USERNAME,
                    "can_join_groups": False, "can_read_all_group_messages": False,
                    "supports_inline_queries": False}
        if name in ("sendMessage", "sendPhoto", "sendDocument", "editMessageText", "editMessageReplyMarkup"):
            message: dict[str, Any] = {
                "message_id": next(self._ids), "date": int(time.time()),
                "chat": {"id": int(params.get("chat_id", 0)), "type": "private"},
                "from": {"id": BOT_ID, "is_bot": True, "first_name": "Klerk"},
            }
            if "text" in params:
                message["text"] = params["text"]
            if name == "sendPhoto":
                message["photo"] = [{"file_id": "p1", "file_unique_id": "p1", "width": 10, "height": 10}]
            if name == "sendDocument":
                message["document"] = {"file_id": "d1", "file_unique_id": "d1"}
            if params.get("caption"):
                message["caption"] = params["caption"]
            return message
        if name == "getFile":
            file_id = str(params["file_id"])
            return {"file_id": file_id, "file_unique_id": file_id, "file_size": len(self.files.get(file_id, b"")),
                    "file_path": file_id}
        return True


class ChatDriver:
    """A person in a private chat with the bot."""

    _update_ids = itertools.count(1)
    _message_ids = itertools.count(1)

    def __init__(self, app: Application, request: RecordingRequest, user_id: int, *, first_name: str = "Eva",
                 language: str = "nl") -> None:
        self.app, self.request, self.user_id = app, request, user_id
        self.first_name, self.language = first_name, language

    @property
    def chat_id(self) -> int:
        return self.user_id

    def _user(self) -> dict[str, Any]:
        return {"id": self.user_id, "is_bot": False, "first_name": self.first_name, "language_code": self.language}

    def _message(self, **extra: Any) -> dict[str, Any]:
        return {"message_id": next(self._message_ids), "date": int(time.time()),
                "chat": {"id": self.chat_id, "type": "private", "first_name": self.first_name},
                "from": self._user(), **extra}

    async def _process(self, payload: dict[str, Any]) -> list[Call]:
        before = len(self.request.calls)
        await self.app.process_update(Update.de_json({"update_id": next(self._update_ids), **payload}, self.app.bot))
        return [c for c in self.request.calls[before:] if c.chat_id == self.chat_id]

    async def send(self, text: str) -> list[Call]:
        entities = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}] if text.startswith("/") else []
        extra: dict[str, Any] = {"text": text}
        if entities:
            extra["entities"] = entities
        return await self._process({"message": self._message(**extra)})

    async def send_document(self, content: bytes, filename: str, mime: str, caption: str = "") -> list[Call]:
        file_id = f"doc{next(self._message_ids)}"
        self.request.files[file_id] = content
        doc = {"file_id": file_id, "file_unique_id": file_id, "file_name": filename, "mime_type": mime,
               "file_size": len(content)}
        return await self._process({"message": self._message(document=doc, **({"caption": caption} if caption else {}))})

    async def send_photo(self, content: bytes, caption: str = "") -> list[Call]:
        file_id = f"photo{next(self._message_ids)}"
        self.request.files[file_id] = content
        photo = [{"file_id": file_id, "file_unique_id": file_id, "width": 800, "height": 1200, "file_size": len(content)}]
        return await self._process({"message": self._message(photo=photo, **({"caption": caption} if caption else {}))})

    async def press(self, data: str) -> list[Call]:
        """Send raw callback data, as a (forged) client could."""
        query = {"id": str(next(self._update_ids)), "from": self._user(), "chat_instance": "ci",
                 "data": data, "message": self._message(text="…", **{"from": {"id": BOT_ID, "is_bot": True, "first_name": "Klerk"}})}
        return await self._process({"callback_query": query})

    def buttons(self) -> list[tuple[str, str]]:
        for call in reversed(self.request.calls):
            if call.chat_id == self.chat_id and call.buttons:
                return call.buttons
        return []

    async def tap(self, label: str) -> list[Call]:
        """Tap the newest button whose label contains ``label``."""
        for text, data in self.buttons():
            if label.lower() in text.lower():
                return await self.press(data)
        raise AssertionError(f"no button {label!r} in {self.buttons()}")

    def texts(self, calls: list[Call]) -> str:
        return "\n".join(c.text for c in calls if c.text)
