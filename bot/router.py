"""Routing of updates to flows, with the conversation state loaded from and saved to the database.

Why not ``ConversationHandler`` + persistence (STYLE.md §5): PTB keeps conversation state in memory
and writes it back on an interval, so a ``kill -9`` loses recent steps, and several bot processes
(webhook mode behind a load balancer) would each hold their own copy. Here every update loads the
chat's row (``core.conversations``), the handler moves the ``Turn``, and the row is saved after the
update in the same way on every process. Flows still live one per file and register their steps,
commands and buttons with the decorators below.
"""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update

from bot.callbacks import pack
from bot.context import KlerkContext, Services
from bot.texts import t
from core.models import Role

Handler = Callable[..., Awaitable[None]]


@dataclass
class Registry:
    commands: dict[str, Handler] = field(default_factory=dict)       # "facturen" -> fn(turn)
    callbacks: dict[str, Handler] = field(default_factory=dict)      # "doc.send" -> fn(turn, *args)
    steps: dict[tuple[str, str], Handler] = field(default_factory=dict)   # (flow, step) -> fn(turn, text)
    files: dict[tuple[str, str], Handler] = field(default_factory=dict)   # (flow, step) -> fn(turn, message)
    default_file: Handler | None = None
    default_text: Handler | None = None
    roles: dict[str, tuple[Role, ...]] = field(default_factory=dict)      # handler key -> allowed roles
    menu: list[tuple[str, str, str]] = field(default_factory=list)        # (command, nl, en)


REGISTRY = Registry()
STAFF = (Role.OWNER, Role.STAFF)
ANYONE = (Role.OWNER, Role.STAFF, Role.ACCOUNTANT)


def command(*names: str, roles: tuple[Role, ...] | None = ANYONE, menu: tuple[str, str] | None = None):  # type: ignore[no-untyped-def]
    """``roles=None``: also for people without a company (``/start``, ``/help``)."""
    def register(fn: Handler) -> Handler:
        for name in names:
            REGISTRY.commands[name] = fn
            if roles is not None:
                REGISTRY.roles[f"/{name}"] = roles
        if menu is not None:
            REGISTRY.menu.append((names[0], *menu))
        return fn
    return register


def button(action: str, roles: tuple[Role, ...] | None = STAFF):  # type: ignore[no-untyped-def]
    """``roles=None``: also for people without a company (language, onboarding)."""
    def register(fn: Handler) -> Handler:
        REGISTRY.callbacks[action] = fn
        if roles is not None:
            REGISTRY.roles[action] = roles
        return fn
    return register


def step(flow: str, name: str):  # type: ignore[no-untyped-def]
    def register(fn: Handler) -> Handler:
        REGISTRY.steps[(flow, name)] = fn
        return fn
    return register


def file_step(flow: str, name: str):  # type: ignore[no-untyped-def]
    def register(fn: Handler) -> Handler:
        REGISTRY.files[(flow, name)] = fn
        return fn
    return register


def default_file(fn: Handler) -> Handler:
    REGISTRY.default_file = fn
    return fn


def default_text(fn: Handler) -> Handler:
    REGISTRY.default_text = fn
    return fn


@dataclass
class Turn:
    """One update being handled: who, where in which flow, and how to answer."""

    update: Update
    context: KlerkContext
    chat_id: int
    user_id: int
    person_id: int
    language: str
    company_id: int | None
    role: Role | None
    flow: str = ""
    step: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    company_changed: bool = False

    @property
    def services(self) -> Services:
        return self.context.services

    @property
    def bot(self):  # type: ignore[no-untyped-def]
        return self.context.bot

    def t(self, message: str, **params: Any) -> str:
        return t(self.language, message, **params)

    def goto(self, flow: str, step_name: str, **data: Any) -> None:
        if flow != self.flow:
            self.data = {}
        self.flow, self.step = flow, step_name
        self.data.update(data)

    def finish(self) -> None:
        self.flow, self.step, self.data = "", "", {}

    def switch_company(self, company_id: int | None, role: Role | None) -> None:
        self.company_id, self.role, self.company_changed = company_id, role, True

    def button(self, label: str, action: str, *args: object) -> InlineKeyboardButton:
        return InlineKeyboardButton(label, callback_data=pack(self.services.secret, self.chat_id, action, *args))

    def keyboard(self, *rows: list[InlineKeyboardButton] | InlineKeyboardButton) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup([row if isinstance(row, list) else [row] for row in rows])

    async def say(self, text: str, *, keyboard: InlineKeyboardMarkup | None = None, **kw: Any) -> Message:
        return await self.bot.send_message(self.chat_id, text, reply_markup=keyboard, **kw)

    async def typing(self, action: str = "typing") -> None:
        await self.bot.send_chat_action(self.chat_id, action)

    async def db(self, fn, *args: Any, **kwargs: Any):  # type: ignore[no-untyped-def]
        return await self.services.db(fn, *args, **kwargs)
