"""Inline-button data, signed: ``<action>|<args>|<sig>`` within Telegram's 64 bytes.

The signature (HMAC-SHA256 over chat id, action and args, 40 bits) makes forged data, and data
replayed into another chat, fail verification before any handler runs. Whether the action is still
allowed (a stale button of an invoice already sent, another company) is decided by core.
"""
from __future__ import annotations

import base64
import hashlib
import hmac

MAX_BYTES = 64


class ForgedCallbackError(Exception):
    pass


def _sig(secret: bytes, chat_id: int, body: str) -> str:
    mac = hmac.new(secret, f"{chat_id}|{body}".encode(), hashlib.sha256).digest()[:5]
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def pack(secret: bytes, chat_id: int, action: str, *args: object) -> str:
    body = action + "|" + ",".join(str(a) for a in args)
    data = f"{body}|{_sig(secret, chat_id, body)}"
    if len(data.encode()) > MAX_BYTES:
        raise ValueError(f"callback data too long: {data!r}")
    return data


def unpack(secret: bytes, chat_id: int, data: str) -> tuple[str, list[str]]:
    try:
        action, args, sig = data.split("|")
    except ValueError:
        raise ForgedCallbackError(data[:64]) from None
    if not hmac.compare_digest(sig, _sig(secret, chat_id, f"{action}|{args}")):
        raise ForgedCallbackError(data[:64])
    return action, ([a for a in args.split(",")] if args else [])
