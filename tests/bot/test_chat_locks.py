"""The per-chat lock lives only while an update of that chat is in hand: no table that grows per chat."""
from __future__ import annotations

import asyncio
import gc


async def test_the_chat_locks_do_not_pile_up(chat, bot_app) -> None:  # type: ignore[no-untyped-def]
    people = [chat(6000 + i) for i in range(30)]
    await asyncio.gather(*(p.send("/help") for p in people), *(p.send("/cancel") for p in people))
    assert sum(c.method == "sendMessage" for c in bot_app.bot_data["request"].calls) >= 60
    gc.collect()
    assert len(bot_app.bot_data["locks"]) == 0
