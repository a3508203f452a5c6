"""A local fake of the Telegram Bot API on 127.0.0.1, speaking the documented shapes.

It records what the bot sends and can play the platform's refusals: a chat that blocked the
bot (403), flood control (429 with retry_after), too-long text and unknown chats (400), and a
rate limit overall and per chat.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

BOT_USER = {
    "id": 7000000001,
    "is_bot": True,
    "first_name": "Giai trinh",
    "username": "giaitrinh_test_bot",
    "can_join_groups": False,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}


@dataclass
class FakeTelegram:
    """State of the fake: what was sent, and the refusals to play."""

    token: str
    sent: list[dict[str, Any]] = field(default_factory=list)
    answered_callbacks: list[str] = field(default_factory=list)
    webhooks: list[dict[str, Any]] = field(default_factory=list)
    blocked_chats: set[int] = field(default_factory=set)
    flood_once: dict[int, int] = field(default_factory=dict)  # chat → retry_after seconds
    per_chat_interval: float = 0.0  # minimum seconds between messages to one chat (0: none)
    per_second: float = 0.0  # overall messages per second (0: no limit)
    too_many: int = 0
    _last_by_chat: dict[int, float] = field(default_factory=dict)
    _window: list[float] = field(default_factory=list)
    _next_id: int = 100
    per_chat: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    updates: list[dict[str, Any]] = field(default_factory=list)  # served by getUpdates
    poll_failures: int = 0  # the next getUpdates calls that fail (502, Telegram's trouble)
    failed_polls: int = 0  # how many getUpdates calls were refused that way
    _new_update: asyncio.Event = field(default_factory=asyncio.Event)
    confirmed_below: int = 0  # the highest offset a getUpdates call asked for
    _polled: asyncio.Event = field(default_factory=asyncio.Event)
    polls: int = 0  # getUpdates calls

    def push_update(self, update: dict[str, Any]) -> None:
        """Queue an update for a bot that long-polls."""
        self.updates.append(update)
        self._new_update.set()

    async def confirmed(self, update_id: int) -> None:
        """Wait until the bot polls with an offset past `update_id`: it has taken that update
        (a bot confirms an update by asking for the ones after it)."""
        while self.confirmed_below <= update_id:
            await self._polled.wait()

    def texts_to(self, chat_id: int) -> list[str]:
        """Texts sent to a chat, in order."""
        return [m["text"] for m in self.sent if m["chat_id"] == chat_id]

    def app(self) -> web.Application:
        """The aiohttp app serving /bot<token>/<method>."""
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._dispatch)
        return app

    @staticmethod
    async def _params(request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            return dict(await request.json())
        form = await request.post()
        params: dict[str, Any] = {}
        for key, value in form.items():
            text = str(value)
            try:
                params[key] = json.loads(text) if text[:1] in "[{" else text
            except ValueError:
                params[key] = text
        return params

    @staticmethod
    def _error(code: int, description: str, retry_after: int | None = None) -> web.Response:
        body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
        if retry_after is not None:
            body["parameters"] = {"retry_after": retry_after}
        return web.json_response(body, status=code)

    async def _dispatch(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return self._error(401, "Unauthorized")
        method = request.match_info["method"].lower()
        params = await self._params(request)
        if method == "getme":
            return web.json_response({"ok": True, "result": BOT_USER})
        if method in {"setwebhook", "deletewebhook"}:
            self.webhooks.append({"method": method, **params})
            return web.json_response({"ok": True, "result": True})
        if method == "answercallbackquery":
            self.answered_callbacks.append(str(params.get("callback_query_id")))
            return web.json_response({"ok": True, "result": True})
        if method == "getupdates":
            if self.poll_failures > 0:
                self.poll_failures -= 1
                self.failed_polls += 1
                return self._error(502, "Bad Gateway")
            return await self._get_updates(params)
        if method == "sendmessage":
            return self._send_message(params)
        return self._error(404, "Not Found: method not found")

    async def _get_updates(self, params: dict[str, Any]) -> web.Response:
        """Long polling as Telegram does it: wait for updates ≥ offset, here at most 1 s (an
        empty answer is allowed, and a short wait lets the test server stop quickly)."""
        offset = int(params.get("offset") or 0)
        self.polls += 1
        self.confirmed_below = max(self.confirmed_below, offset)
        polled, self._polled = self._polled, asyncio.Event()
        polled.set()
        ready = [u for u in self.updates if u["update_id"] >= offset]
        if not ready:
            self._new_update.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._new_update.wait(), min(1.0, float(params.get("timeout") or 0))
                )
            ready = [u for u in self.updates if u["update_id"] >= offset]
        return web.json_response({"ok": True, "result": ready})

    def _send_message(self, params: dict[str, Any]) -> web.Response:
        chat_id = int(params["chat_id"])
        text = str(params.get("text", ""))
        now = time.monotonic()
        if chat_id in self.blocked_chats:
            return self._error(403, "Forbidden: bot was blocked by the user")
        if chat_id in self.flood_once:
            self.too_many += 1
            return self._error(429, "Too Many Requests: retry later", self.flood_once.pop(chat_id))
        if (
            self.per_chat_interval
            and now - self._last_by_chat.get(chat_id, -1e9) < self.per_chat_interval
        ):
            self.too_many += 1
            return self._error(429, "Too Many Requests: retry after 1", 1)
        if self.per_second:
            self._window = [t for t in self._window if now - t < 1.0]
            if len(self._window) >= self.per_second:
                self.too_many += 1
                return self._error(429, "Too Many Requests: retry after 1", 1)
            self._window.append(now)
        if not text or len(text) > 4096:
            return self._error(
                400,
                "Bad Request: message is too long"
                if text
                else "Bad Request: message text is empty",
            )
        if chat_id <= 0:
            return self._error(400, "Bad Request: chat not found")
        self._last_by_chat[chat_id] = now
        self._next_id += 1
        self.per_chat[chat_id] += 1
        self.sent.append(
            {"chat_id": chat_id, "text": text, "reply_markup": params.get("reply_markup")}
        )
        message = {
            "message_id": self._next_id,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private"},
            "from": BOT_USER,
            "text": text,
        }
        return web.json_response({"ok": True, "result": message})
