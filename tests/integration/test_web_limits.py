"""Limits on the public web chat, over real HTTP: per client address and per session, a 429
in Vietnamese with Retry-After, and a refused message is not stored."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
from sqlalchemy import func, select

from bot.domain.messages import Direction
from bot.gateway import DB
from bot.store.models import Message
from tests.conftest import (
    RunningGateway,
    Tokens,
    WebChat,
    free_port,
    gateway_settings,
    running_gateway,
)


@asynccontextmanager
async def limited_gateway(
    database_url: str, tokens: Tokens, **limits: Any
) -> AsyncIterator[RunningGateway]:
    """A gateway with the given limits and no engine (each message gets the apology)."""
    settings = gateway_settings(
        database_url, tokens, f"http://127.0.0.1:{free_port()}", retry_interval=3600, **limits
    )
    async with running_gateway(settings, free_port()) as running:
        yield running


@asynccontextmanager
async def client_from(address: str) -> AsyncIterator[aiohttp.ClientSession]:
    """An HTTP client whose connections come from another loopback address."""
    connector = aiohttp.TCPConnector(local_addr=(address, 0))
    async with aiohttp.ClientSession(connector=connector) as http:
        yield http


async def create_session(
    http: aiohttp.ClientSession, base_url: str, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, Any], str | None]:
    """POST /api/web/session: status, JSON body and Retry-After."""
    async with http.post(f"{base_url}/api/web/session", json={}, headers=headers) as resp:
        return resp.status, await resp.json(), resp.headers.get("Retry-After")


def assert_rate_limited(body: dict[str, Any], retry_after: str | None, phrase: str) -> None:
    """A 429 body names `rate_limited`, says `phrase` and the seconds of Retry-After."""
    assert retry_after is not None and re.fullmatch(r"[1-9][0-9]*", retry_after), retry_after
    assert body["error"]["code"] == "rate_limited", body
    message = body["error"]["message"]
    assert phrase in message and f"{retry_after} giây" in message, message


async def inbound_count(gw: RunningGateway) -> int:
    async with gw.app[DB].session() as session:
        count = await session.scalar(
            select(func.count()).select_from(Message).where(Message.direction == Direction.IN)
        )
    return int(count or 0)


async def test_session_beyond_the_limit_from_one_address_is_429_and_others_are_unaffected(
    database_url: str, tokens: Tokens
) -> None:
    limits = {"web_sessions_per_ip_burst": 3, "web_sessions_per_ip_per_min": 1.0}
    async with limited_gateway(database_url, tokens, **limits) as gw:
        for _ in range(3):
            status, body, _ = await create_session(gw.http, gw.base_url)
            assert status == 200, body
        # A forged X-Forwarded-For changes nothing: no proxy is trusted by default.
        forged = {"X-Forwarded-For": "203.0.113.7"}
        status, body, retry_after = await create_session(gw.http, gw.base_url, forged)
        assert status == 429, body
        assert_rate_limited(body, retry_after, "vui lòng đợi")
        assert int(retry_after or 0) <= 60, "one new session a minute"
        async with client_from("127.0.0.2") as other:
            status, body, _ = await create_session(other, gw.base_url)
            assert status == 200, "another address has its own allowance"


async def test_forwarded_for_names_the_client_only_behind_a_trusted_proxy(
    database_url: str, tokens: Tokens
) -> None:
    limits = {
        "web_sessions_per_ip_burst": 1,
        "web_sessions_per_ip_per_min": 1.0,
        "trusted_proxies": ["127.0.0.1/32"],
    }
    async with limited_gateway(database_url, tokens, **limits) as gw:
        first = {"X-Forwarded-For": "203.0.113.7"}
        assert (await create_session(gw.http, gw.base_url, first))[0] == 200
        status, body, retry_after = await create_session(gw.http, gw.base_url, first)
        assert status == 429, body
        assert_rate_limited(body, retry_after, "vui lòng đợi")
        # Another citizen behind the same proxy; a spoofed left-most entry is not believed.
        second = {"X-Forwarded-For": "203.0.113.7, 203.0.113.8"}
        assert (await create_session(gw.http, gw.base_url, second))[0] == 200
        async with client_from("127.0.0.2") as untrusted:
            status, _, _ = await create_session(untrusted, gw.base_url, first)
            assert status == 200, "an untrusted peer is its own client, whatever it forwards"
            status, _, _ = await create_session(untrusted, gw.base_url, second)
            assert status == 429, "and stays one client when it changes the header"


async def test_message_beyond_the_session_limit_is_refused_in_vietnamese_and_not_stored(
    database_url: str, tokens: Tokens
) -> None:
    limits = {"web_messages_per_session_burst": 2, "web_messages_per_session_per_min": 1.0}
    async with limited_gateway(database_url, tokens, **limits) as gw:
        chat = await gw.chat()
        await chat.say("một")
        await chat.say("hai")
        body = {"session_id": chat.session_id, "client_message_id": uuid.uuid4().hex, "text": "ba"}
        async with gw.http.post(f"{gw.base_url}/api/web/messages", json=body) as resp:
            status, data, retry_after = resp.status, await resp.json(), resp.headers["Retry-After"]
        assert status == 429, data
        assert_rate_limited(data, retry_after, "Anh/chị gửi nhanh quá")
        said = [m["text"] for m in await chat.history() if m["direction"] == "in"]
        assert said == ["một", "hai"], "a refused message is not stored: the citizen resends it"
        assert await inbound_count(gw) == 2
        other = await gw.chat()
        await other.say("một")  # another session of the same address has its own allowance


async def test_messages_per_address_count_across_sessions(
    database_url: str, tokens: Tokens
) -> None:
    limits = {"web_messages_per_ip_burst": 3, "web_messages_per_ip_per_min": 1.0}
    async with limited_gateway(database_url, tokens, **limits) as gw:
        chats = [await gw.chat() for _ in range(3)]
        for chat in chats:
            await chat.say("xin chào")
        status, data = await chats[0].post(
            {"session_id": chats[0].session_id, "client_message_id": uuid.uuid4().hex, "text": "a"}
        )
        assert status == 429 and data["error"]["code"] == "rate_limited", data
        async with client_from("127.0.0.2") as other_http:
            other = await WebChat(other_http, gw.base_url).open()
            await other.say("xin chào")
        assert await inbound_count(gw) == 4


async def test_polling_is_limited_per_session(database_url: str, tokens: Tokens) -> None:
    limits = {"web_polls_per_session_burst": 2, "web_polls_per_session_per_min": 1.0}
    async with limited_gateway(database_url, tokens, **limits) as gw:
        chat = await gw.chat()
        await chat.history()
        await chat.history()
        async with gw.http.get(
            f"{gw.base_url}/api/web/messages", params={"session_id": chat.session_id}
        ) as resp:
            assert resp.status == 429
            assert_rate_limited(await resp.json(), resp.headers.get("Retry-After"), "giây")
        other = await (await gw.chat()).history()
        assert [m["direction"] for m in other] == ["out"], "another session polls freely"
