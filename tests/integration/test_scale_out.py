"""Several gateways and several engine replicas, as production runs them: the engines share a
tracker store on PostgreSQL and a lock store on Redis; each gateway spreads turns over both
engines; a citizen's messages may reach any gateway, and are answered once each, in order."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import create_async_engine

from bench.servers import Redis, redis_server
from bot.domain.messages import Direction, MessageStatus
from bot.gateway import DB, ENGINE, SETTINGS
from bot.store.models import Message
from tests.chat import file_explanation_request, press, said
from tests.conftest import (
    RunningGateway,
    Tokens,
    WebChat,
    _new_postgres_database,
    engine_process,
    free_port,
    gateway_settings,
    running_gateway,
)
from tests.scale import RoamingChat, redis_commands

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


@pytest.fixture(scope="module")
def redis() -> Iterator[Redis]:
    with redis_server() as server:
        yield server


@pytest.fixture
async def two_of_each(
    demo_database_url: str,
    model_path: Path,
    tokens: Tokens,
    gateway_port: int,
    postgres_port: int,
    redis: Redis,
    tmp_path: Path,
) -> AsyncIterator[list[RunningGateway]]:
    """Two engines (tracker on PostgreSQL, locks on Redis) and two gateways using both."""
    tracker_url = await _new_postgres_database(postgres_port)
    engines = []
    for index in range(2):
        workdir = tmp_path / f"engine{index}"
        workdir.mkdir()
        proc = engine_process(model_path, tokens, gateway_port, workdir)
        proc.config = replace(proc.config, tracker_url=tracker_url, lock_store_url=redis.url)
        engines.append(proc)
    for proc in engines:
        proc.start()
    try:
        for proc in engines:
            await asyncio.to_thread(proc.wait_ready)
        urls = ",".join(proc.url for proc in engines)
        common = {"tracker_db_url": engines[0].config.tracker_db_url, "retry_interval": 0.5}
        settings = [
            gateway_settings(demo_database_url, tokens, urls, **common),
            gateway_settings(demo_database_url, tokens, urls, **common),
        ]
        # The engines call their actions at the first gateway's port (the test's action URL).
        async with (
            running_gateway(settings[0], gateway_port) as one,
            running_gateway(settings[1], free_port()) as two,
        ):
            yield [one, two]
    finally:
        for proc in engines:
            proc.stop()


async def test_a_conversation_through_two_gateways_and_two_engines(
    two_of_each: list[RunningGateway], redis: Redis
) -> None:
    one, two = two_of_each
    before = redis_commands(redis.port)
    chat = RoamingChat(one.http, [one.base_url, two.base_url])
    await chat.open()
    code = await file_explanation_request(chat)  # 11 turns, alternating gateways
    assert code, "the form went through, its state kept across gateways and engines"
    for gateway in (one, two):
        turns = [replica.turns for replica in gateway.app[ENGINE].replicas]
        assert all(turns), f"every engine answered this gateway's turns: {turns}"
    assert redis_commands(redis.port) > before, "the engines took their locks in Redis"


async def test_messages_of_one_conversation_at_two_gateways_at_once(
    two_of_each: list[RunningGateway],
) -> None:
    """Sent at the same moment to different gateways: each is answered once, in order."""
    one, two = two_of_each
    chat = await one.chat()
    other = WebChat(two.http, two.base_url)
    other.session_id = chat.session_id
    texts = ["xin chào", "cảm ơn", "thủ tục cấp căn cước", "lịch tiếp công dân", "tạm biệt"]
    for _round in range(3):
        await asyncio.gather(
            *((chat if i % 2 == 0 else other).say(text) for i, text in enumerate(texts))
        )

    async def settled() -> list[Message]:
        while True:
            async with one.app[DB].session(read_only=True) as session:
                rows = (await session.execute(select(Message).order_by(Message.id))).scalars()
                stored = list(rows)
            if not any(m.status is MessageStatus.PENDING for m in stored):
                return stored
            await asyncio.sleep(0.1)

    rows = await asyncio.wait_for(settled(), 120)
    inbound = [m for m in rows if m.direction is Direction.IN]
    assert sorted(m.text for m in inbound) == sorted(texts * 3), "every message stored once"
    assert all(m.status is MessageStatus.PROCESSED for m in inbound), [m.status for m in inbound]
    turns = sum(r.turns for g in (one, two) for r in g.app[ENGINE].replicas)
    assert turns == len(inbound), "each message went to an engine exactly once"
    replied_to = [m.in_reply_to_id for m in rows if m.direction is Direction.OUT]
    replied_to = [ref for ref in replied_to if ref is not None]  # not the greeting
    assert set(replied_to) == {m.id for m in inbound}, "every message was answered"
    assert replied_to == sorted(replied_to), "answers in the order the messages were stored"


async def test_a_cancelled_form_leaves_no_personal_data_in_the_shared_tracker(
    two_of_each: list[RunningGateway],
) -> None:
    """The storage promise holds with the engines' tracker in PostgreSQL: a form cancelled
    at its summary leaves neither the name nor the phone number in it."""
    one, two = two_of_each
    name, phone = "Đỗ Khải Huyền", "0903 271 846"
    chat = RoamingChat(one.http, [one.base_url, two.base_url])
    await chat.open()
    data = await chat.say("tôi muốn yêu cầu UBND giải trình quyết định thu hồi đất")
    data = await press(chat, data, "Đồng ý")
    for words in (name, phone, "phuong hoan kiem", "Quyết định thu hồi đất số 12/QĐ-UBND"):
        data = await chat.say(words)
    data = await chat.say(f"Tôi là {name}, gọi {phone} giúp tôi, đề nghị giải trình việc này.")
    assert "0903271846" in said(data), said(data)
    url = one.app[SETTINGS].tracker_db_url
    assert await tracker_mentions(url, name, "0903271846"), "the test must see the tracker"
    data = await press(chat, data, "Hủy")
    assert "không được lưu" in said(data), said(data)
    assert await tracker_mentions(url, name, "0903271846", "0903 271 846") == []


async def tracker_mentions(url: str, *values: str) -> list[str]:
    """The engines' tracker events (in PostgreSQL) that contain any of the values."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            rows = (await conn.execute(text("SELECT data FROM events"))).scalars().all()
    finally:
        await engine.dispose()
    readable = [json.dumps(json.loads(row), ensure_ascii=False) for row in rows]
    return [t for t in readable if any(v in t for v in values)]
