"""What a citizen sees and does in a chat, for conversation tests: the bot's words, its
buttons, pressing one, waiting for a pushed message."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from tests.conftest import WebChat

CODE = re.compile(r"Mã hồ sơ: ([0-9A-Z]{4}-[0-9A-Z]{5})")


def said(data: dict[str, Any]) -> str:
    """Every reply's text of one answer, joined by lines."""
    return "\n".join(r["text"] for r in data["replies"])


def buttons(data: dict[str, Any]) -> dict[str, str]:
    """The buttons of one answer, title to payload."""
    return {b["title"]: b["payload"] for r in data["replies"] for b in r["buttons"]}


async def press(chat: WebChat, data: dict[str, Any], title: str) -> dict[str, Any]:
    """Click the button called `title` in the last answer."""
    choices = buttons(data)
    assert title in choices, f"no button {title!r} in {list(choices)}"
    return await chat.say(title, payload=choices[title])


async def wait_for(chat: WebChat, text: str, after: int = 0) -> dict[str, Any]:
    """The first outbound message containing `text` (pushed messages arrive later)."""
    for _ in range(100):
        for message in await chat.history(after=after):
            if message["direction"] == "out" and text in message["text"]:
                return message
        await asyncio.sleep(0.1)
    raise AssertionError(f"no message containing {text!r}")
