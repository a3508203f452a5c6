"""Real conversations: web channel → gateway → real Rasa engine (trained model) → actions."""

from __future__ import annotations

import asyncio
import uuid

import aiohttp
from sqlalchemy import select

from bot.enginectl import EngineProcess
from bot.gateway import DB
from bot.services.conversations import APOLOGY
from bot.store.models import Message
from tests.conftest import (
    RunningGateway,
    Tokens,
    engine_process,
    gateway_settings,
    running_gateway,
)


def _payloads(reply: dict) -> list[str]:
    return [b["payload"] for b in reply["buttons"]]


async def test_greeting_is_answered_in_vietnamese(gateway: RunningGateway) -> None:
    chat = await gateway.chat()
    data = await chat.say("xin chào")
    texts = " ".join(r["text"] for r in data["replies"])
    assert "Xin chào" in texts, texts
    assert "/request_explanation" in [p for r in data["replies"] for p in _payloads(r)]


async def test_greeting_without_diacritics_and_abbreviation(gateway: RunningGateway) -> None:
    chat = await gateway.chat()
    data = await chat.say("chao ad a")
    assert "Xin chào" in " ".join(r["text"] for r in data["replies"])


async def test_unknown_question_gets_the_help_menu_from_the_action(gateway: RunningGateway) -> None:
    chat = await gateway.chat()
    data = await chat.say("qwxz plorb vvnq")
    texts = "\n".join(r["text"] for r in data["replies"])
    assert "Tôi có thể giúp anh/chị" in texts, texts
    # The agency line comes from the database through the custom action.
    assert "Cơ quan: " in texts
    menu = [p for r in data["replies"] for p in _payloads(r)]
    assert {"/ask_question", "/request_explanation", "/request_human"} <= set(menu)


async def test_button_payload_reaches_the_engine(gateway: RunningGateway) -> None:
    chat = await gateway.chat()
    data = await chat.say("Hướng dẫn", payload="/help")
    assert "Tôi có thể giúp anh/chị" in data["replies"][0]["text"]


async def test_same_message_id_posted_twice_is_processed_once(gateway: RunningGateway) -> None:
    chat = await gateway.chat()
    client_id = uuid.uuid4().hex
    first = await chat.say("xin chào", client_id=client_id)
    second = await chat.say("xin chào", client_id=client_id)
    assert second["duplicate"] is True
    assert [r["id"] for r in second["replies"]] == [r["id"] for r in first["replies"]]
    history = await chat.history()
    assert sum(m["direction"] == "in" for m in history) == 1
    # The session's greeting, then one set of replies.
    assert sum(m["direction"] == "out" for m in history) == 1 + len(first["replies"])


async def test_messages_of_one_conversation_are_answered_in_order(gateway: RunningGateway) -> None:
    chat = await gateway.chat()
    texts = ["xin chào", "bạn là bot à", "cảm ơn", "tạm biệt"]
    # Fired together; the gateway must still hand them to the engine one by one, in order.
    await asyncio.gather(
        *(chat.say(t, client_id=f"order-{i}-{uuid.uuid4().hex}") for i, t in enumerate(texts))
    )
    async with gateway.app[DB].session() as session:
        rows = (await session.execute(select(Message).order_by(Message.id))).scalars().all()
    inbound = [m for m in rows if m.direction == "in"]
    assert all(m.status == "processed" for m in inbound)
    processed_order = sorted(inbound, key=lambda m: m.processed_at)
    assert [m.id for m in processed_order] == sorted(m.id for m in inbound)


async def test_engine_api_requires_the_token(engine: EngineProcess, tokens: Tokens) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{engine.url}/status") as resp:
            assert resp.status == 401
        async with http.get(f"{engine.url}/status", params={"token": "wrong"}) as resp:
            assert resp.status == 401
        async with http.get(f"{engine.url}/status", params={"token": tokens.rasa}) as resp:
            assert resp.status == 200


async def test_action_endpoint_refuses_a_wrong_token(gateway: RunningGateway) -> None:
    url = f"{gateway.base_url}/webhooks/actions"
    async with gateway.http.post(url, headers={"X-Action-Token": "nope"}, json={}) as resp:
        assert resp.status == 401
    async with gateway.http.post(url, json={}) as resp:
        assert resp.status == 401


async def test_engine_stopped_mid_conversation_then_back(
    model_path, tokens: Tokens, gateway_port: int, demo_database_url: str, tmp_path
) -> None:
    """The citizen gets the apology, and the answer once the engine is back."""
    proc = engine_process(model_path, tokens, gateway_port, tmp_path)
    proc.start()
    try:
        await asyncio.to_thread(proc.wait_ready)
        settings = gateway_settings(demo_database_url, tokens, proc.url, retry_interval=0.5)
        async with running_gateway(settings, gateway_port) as gw:
            chat = await gw.chat()
            first = await chat.say("xin chào")
            assert "Xin chào" in first["replies"][0]["text"]

            await asyncio.to_thread(proc.stop)
            waiting = await chat.say("cảm ơn bạn nhiều")
            assert [r["text"] for r in waiting["replies"]] == [APOLOGY]

            proc.start()
            await asyncio.to_thread(proc.wait_ready)
            answer = None
            for _ in range(60):
                replies = [
                    m
                    for m in await chat.history(after=waiting["message"]["id"])
                    if m["direction"] == "out" and m["text"] != APOLOGY
                ]
                if replies:
                    answer = replies[0]
                    break
                await asyncio.sleep(0.5)
            assert answer is not None, "the queued message was never answered"
            assert "không có gì" in answer["text"], answer
            async with gw.app[DB].session() as session:
                stored = await session.get(Message, waiting["message"]["id"])
                assert stored is not None and stored.status == "processed"
    finally:
        proc.stop()


async def test_healthz_lists_the_background_loops_as_running(
    offline_gateway: RunningGateway,
) -> None:
    async with offline_gateway.http.get(f"{offline_gateway.base_url}/healthz") as resp:
        body = await resp.json()
    assert resp.status == 200
    loops = body["loops"]
    assert sorted(loops) == ["deadlines", "engine_retry", "outbox", "retention"], loops
    assert all(loop["running"] for loop in loops.values()), f"every loop runs: {loops}"
    assert all(loop["failures"] == 0 for loop in loops.values()), loops
