"""Chat conversation state in the database: where each person is in which flow, and the draft
being built. Loaded and saved around every update by the bot, so a restart (even ``kill -9``)
loses at most the update being handled.

Loading is one statement (the person, the chat's state and the person's memberships, joined) in a
read-only unit of work; saving is one upsert, and only when the update changed something.
"""
from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from core.companies import get_or_create_person
from core.models import ChatState, Company, Membership, Person, Role

MAX_STATE_BYTES = 32_000
_UPSERTS = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}


@dataclass(frozen=True)
class ChatContext:
    """Who is chatting and where: the person, the active company (one of their memberships; the one
    the chat chose, else the first) and the chat's flow, step and draft."""

    person_id: int
    language: str
    company_id: int | None = None
    role: Role | None = None
    flow: str = ""
    step: str = ""
    data: dict[str, Any] = field(default_factory=dict)


@functools.cache
def _context_query() -> sa.Select:
    """Built once (with bound parameters): building a statement costs more than running it here."""
    chat_id, user_id = sa.bindparam("chat_id"), sa.bindparam("user_id")
    return (sa.select(Person.id, Person.language, ChatState.company_id, ChatState.flow, ChatState.step,
                      ChatState.data, Membership.company_id, Membership.role)
            .select_from(Person)
            .outerjoin(ChatState, sa.and_(ChatState.chat_id == chat_id, ChatState.user_id == user_id))
            .outerjoin(Membership, Membership.person_id == Person.id)
            .where(Person.telegram_user_id == user_id)
            .order_by(Membership.id))


def find_chat_context(session: Session, chat_id: int, telegram_user_id: int) -> ChatContext | None:
    """The chat's context in one query; ``None`` when this Telegram user is not a person yet."""
    rows = session.connection().execute(_context_query(), {"chat_id": chat_id, "user_id": telegram_user_id}).all()
    if not rows:
        return None
    person_id, language, chosen, flow, step, data = rows[0][:6]
    memberships = [(company_id, role) for *_, company_id, role in rows if company_id is not None]
    active = next((m for m in memberships if m[0] == chosen), memberships[0] if memberships else None)
    return ChatContext(person_id=person_id, language=language, flow=flow or "", step=step or "",
                       data=dict(data or {}), company_id=active[0] if active else None,
                       role=Role(active[1]) if active else None)


def companies_of(session: Session, person_id: int) -> list[tuple[int, str, Role]]:
    """(company id, trade name or name, role) of each company the person works in, in one query."""
    rows = session.connection().execute(_companies_query(), {"person_id": person_id}).all()
    return [(company_id, trade_name or name, Role(role)) for company_id, trade_name, name, role in rows]


@functools.cache
def _companies_query() -> sa.Select:
    return (sa.select(Company.id, Company.trade_name, Company.name, Membership.role)
            .join(Membership, Membership.company_id == Company.id)
            .where(Membership.person_id == sa.bindparam("person_id"))
            .order_by(Membership.id))


def enroll_chat_person(session: Session, chat_id: int, telegram_user_id: int, *, name: str,
                       language: str) -> ChatContext:
    """First contact: make the person (if another process did not just do so) and return the context."""
    get_or_create_person(session, telegram_user_id=telegram_user_id, name=name, lang=language)
    context = find_chat_context(session, chat_id, telegram_user_id)
    assert context is not None      # the person exists in this transaction now
    return context


_STATE_COLUMNS = ("flow", "step", "data", "company_id", "language", "updated_at")


@functools.cache
def _upsert(dialect: str) -> sa.Insert | None:
    make = _UPSERTS.get(dialect)
    if make is None:
        return None
    statement = make(ChatState).values({name: sa.bindparam(name) for name in ("chat_id", "user_id", *_STATE_COLUMNS)})
    return statement.on_conflict_do_update(index_elements=["chat_id", "user_id"],
                                           set_={name: statement.excluded[name] for name in _STATE_COLUMNS})


def save_chat_state(session: Session, chat_id: int, telegram_user_id: int, *, flow: str, step: str,
                    data: dict[str, Any], company_id: int | None, language: str, now: datetime,
                    person_id: int | None = None) -> None:
    """Write the chat's state (one upsert). With ``person_id``, the person's language changed too."""
    if len(json.dumps(data, default=str)) > MAX_STATE_BYTES:
        raise ValueError("chat state too large")
    values = dict(chat_id=chat_id, user_id=telegram_user_id, flow=flow, step=step, data=data,
                  company_id=company_id, language=language, updated_at=now)
    statement = _upsert(session.get_bind().dialect.name)
    if statement is None:        # another database: the ORM's select-then-write
        session.merge(ChatState(**values))
    else:
        session.connection().execute(statement, values)
    if person_id is not None:
        session.connection().execute(sa.update(Person).where(Person.id == person_id).values(language=language))
