"""Fields that every log line written in the current context carries: which company, job, update or
chat the work in hand is for. Any layer may set them (``with log_context(job_id=7): ...``); the
composition root's logging filter (``klerk.observability``) adds them to each record.

A ``ContextVar``, so concurrent asyncio tasks (one per Telegram update) and threads each see their
own fields, and ``asyncio.to_thread`` carries them into the worker thread. Only ids and kinds, never
names, addresses or bodies (STYLE §3).
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from types import MappingProxyType

FIELDS = ("company_id", "job_id", "job_kind", "update_id", "chat_id")
_EMPTY: Mapping[str, object] = MappingProxyType({})
_fields: ContextVar[Mapping[str, object]] = ContextVar("klerk_log_fields", default=_EMPTY)


@contextmanager
def log_context(**fields: object) -> Iterator[None]:
    """Add ``fields`` (names from ``FIELDS``; ``None`` values are left out) for the ``with`` block."""
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise TypeError(f"unknown log field(s) {sorted(unknown)}; known: {', '.join(FIELDS)}")
    merged = {**_fields.get(), **{k: v for k, v in fields.items() if v is not None}}
    token = _fields.set(MappingProxyType(merged))
    try:
        yield
    finally:
        _fields.reset(token)


def current_fields() -> Mapping[str, object]:
    """The fields set by the enclosing ``log_context`` blocks (read-only)."""
    return _fields.get()
