"""Chat conversation state in the database: where each person is in which flow, and the draft
being built. Loaded and saved around every update by the bot, so a restart (even ``kill -9``)
loses at most the update being handled.
"""
from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from core.models import ChatState

MAX_STATE_BYTES = 32_000


def load_chat_state(session: Session, chat_id: int, user_id: int) -> ChatState:
    state = session.get(ChatState, (chat_id, user_id))
    if state is None:
        state = ChatState(chat_id=chat_id, user_id=user_id)
    return state


def save_chat_state(session: Session, state: ChatState, *, now: datetime) -> None:
    import json

    if len(json.dumps(state.data, default=str)) > MAX_STATE_BYTES:
        raise ValueError("chat state too large")
    state.updated_at = now
    session.merge(state)
