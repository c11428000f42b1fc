"""``klerk chat``: talk to the real Klerk bot in this terminal, without Telegram.

A local Bot API double (``klerk.botapi_double``) stands in for Telegram; the bot long-polls it as
it would poll Telegram. Type text; a number taps a button of the last message; ``:photo PATH`` and
``:file PATH`` send files; ``:quit`` stops. Photos and documents the bot sends are saved in
``<data_dir>/chat/``. ``--script FILE`` plays a file of such lines and ``--transcript OUT.md`` writes
what was said (with the images) — that is how docs/transcript.md is made.
"""
from __future__ import annotations

import mimetypes
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import typer

USER_ID = 424242


@dataclass
class TerminalChat:
    base_url: str
    out_dir: Path
    user: dict[str, Any]
    seen: int = 0
    last_buttons: list[tuple[str, str]] = field(default_factory=list)
    log: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.http = httpx.Client(base_url=self.base_url, timeout=60)
        self.out_dir.mkdir(parents=True, exist_ok=True)

    def _message(self, **extra: Any) -> dict[str, Any]:
        return {"message_id": int(time.time() * 1000) % 10**9, "date": int(time.time()),
                "chat": {"id": self.user["id"], "type": "private"}, "from": self.user, **extra}

    def send_text(self, text: str) -> None:
        extra: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            extra["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        self.http.post("/_person/update", json={"message": self._message(**extra)}).raise_for_status()

    def send_file(self, path: Path, *, photo: bool) -> None:
        with path.open("rb") as fh:
            file_id = self.http.post("/_person/file", files={"file": (path.name, fh)}).json()["file_id"]
        size = path.stat().st_size
        if photo:
            extra = {"photo": [{"file_id": file_id, "file_unique_id": file_id, "width": 1000, "height": 1000,
                                "file_size": size}]}
        else:
            extra = {"document": {"file_id": file_id, "file_unique_id": file_id, "file_name": path.name,
                                  "mime_type": mimetypes.guess_type(path.name)[0] or "application/octet-stream",
                                  "file_size": size}}
        self.http.post("/_person/update", json={"message": self._message(**extra)}).raise_for_status()

    def tap(self, label_or_number: str) -> bool:
        choice = None
        if label_or_number.isdigit() and 0 < int(label_or_number) <= len(self.last_buttons):
            choice = self.last_buttons[int(label_or_number) - 1]
        else:
            choice = next((b for b in self.last_buttons if label_or_number.lower() in b[0].lower()), None)
        if choice is None:
            return False
        query = {"id": str(time.time_ns()), "from": self.user, "chat_instance": "local", "data": choice[1],
                 "message": self._message(text="…")}
        self.http.post("/_person/update", json={"callback_query": query}).raise_for_status()
        self.log.append(f"> *[{choice[0]}]*")
        return True

    def replies(self, *, first_wait: float = 30.0, quiet: float = 0.8) -> list[dict[str, Any]]:
        """What the bot says: wait for the first message, then until it is quiet."""
        got: list[dict[str, Any]] = []
        wait = first_wait
        while True:
            sent = self.http.get("/_person/sent", params={"after": self.seen, "wait": wait}).json()["sent"]
            mine = [m for m in sent if m["chat_id"] == self.user["id"]]
            if sent:
                self.seen = sent[-1]["index"] + 1
            if not sent:
                return got
            got.extend(mine)
            wait = quiet

    def show(self, messages: list[dict[str, Any]], echo=typer.echo) -> None:  # type: ignore[no-untyped-def]
        for m in messages:
            if m["method"] == "sendChatAction":
                continue
            lines = [m["text"]] if m["text"] else []
            if m["file_id"]:
                target = self.out_dir / (m["file_name"] or m["file_id"])
                target.write_bytes(self.http.get(f"/file/botlocal/{m['file_id']}").content)
                lines.append(f"[{'photo' if m['method'] == 'sendPhoto' else 'file'}: {target}]")
                self.log.append(f"![{target.name}]({self.out_dir.name}/{target.name})"
                                if m["method"] == "sendPhoto" else f"📎 `{target.name}`")
            if m["buttons"]:
                self.last_buttons = [tuple(b) for row in m["buttons"] for b in row]
                lines.append("  ".join(f"[{i}] {label}" for i, (label, _) in enumerate(self.last_buttons, 1)))
            for line in lines:
                echo("🤖 " + line.replace("\n", "\n   "))
            if m["text"]:
                self.log.append("> " + m["text"].replace("\n", "\n> ").replace("> \n", ">\n"))
            if m["buttons"]:
                self.log.append("> " + " · ".join(f"`{label}`" for label, _ in self.last_buttons))
            self.log.append("")

    def handle(self, line: str, echo=typer.echo) -> bool:  # type: ignore[no-untyped-def]
        line = line.strip()
        if not line or line.startswith("#"):
            return True
        if line in (":quit", ":q"):
            return False
        if line.startswith(":photo ") or line.startswith(":file "):
            kind, _, path = line.partition(" ")
            file_path = Path(path.strip()).expanduser()
            if not file_path.is_file():
                echo(f"no such file: {file_path}")
                return True
            self.send_file(file_path, photo=kind == ":photo")
            self.log.append(f"**Ik:** _{'foto' if kind == ':photo' else 'bestand'} {file_path.name}_\n")
        elif line.startswith(":tap ") or (line.isdigit() and 0 < int(line) <= len(self.last_buttons) < 100
                                          and len(line) <= 2):
            if not self.tap(line.removeprefix(":tap ").strip()):
                echo("no such button")
                return True
            self.log.append("")
        else:
            self.send_text(line)
            self.log.append(f"**Ik:** {line}\n")
        self.show(self.replies(), echo)
        return True


def run_chat(*, connect: str | None, script: Path | None, transcript: Path | None, language: str) -> None:
    from core import settings as settings_module
    from klerk.botapi_double import BotApiDouble
    from klerk.runtime import BotThread, make_engine, make_services

    settings = settings_module.load()
    double = bot = None
    if connect:
        base = connect.rstrip("/")
    else:
        double = BotApiDouble()
        base = double.start()
        engine = make_engine(settings)
        bot = BotThread(make_services(settings, engine), token="local:chat", base_url=base)
        bot.start()
    name = os.environ.get("USER", "ik").capitalize()
    out_dir = (transcript.parent / "transcript-files") if transcript else settings.data_dir / "chat"
    chat = TerminalChat(base, out_dir, {"id": USER_ID, "is_bot": False, "first_name": name, "language_code": language})
    try:
        if script is not None:
            for line in script.read_text().splitlines():
                if line.strip() and not line.startswith("#"):
                    typer.echo(f"🙂 {line}")
                chat.handle(line)
        else:
            typer.echo("Klerk chat — type a message; a number taps a button; :photo PATH, :file PATH; :quit")
            while True:
                try:
                    line = input("🙂 ")
                except EOFError:
                    break
                if not chat.handle(line):
                    break
    finally:
        if transcript is not None:
            transcript.write_text("\n".join(chat.log) + "\n")
            typer.echo(f"transcript written to {transcript}")
        if bot is not None:
            bot.stop()
        if double is not None:
            double.stop()


__all__ = ["run_chat", "TerminalChat"]
