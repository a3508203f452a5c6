"""Faults that must not stop a conversation: a message the engine refuses, a reply for a
channel this process does not serve."""

from __future__ import annotations

from sqlalchemy import select

from bot.channels import InboundMessage
from bot.domain.messages import Direction
from bot.gateway import DB
from bot.services.conversations import APOLOGY
from bot.store.models import Message
from tests.chat import wait_for
from tests.conftest import (
    RunningGateway,
    Tokens,
    free_port,
    gateway_settings,
    running_gateway,
    serve,
)
from tests.fakes.engine_api import FakeEngine

BROKEN = "tin nhắn làm hỏng máy"
NOT_HANDLED = "chưa xử lý được"


async def test_a_message_the_engine_refuses_is_set_aside_and_the_next_one_answered(
    database_url: str, tokens: Tokens
) -> None:
    fake = FakeEngine(fail_on=BROKEN)
    async with serve(fake.app()) as engine_url:
        settings = gateway_settings(
            database_url, tokens, engine_url, retry_interval=0.2, engine_max_attempts=3
        )
        async with running_gateway(settings, free_port()) as gw:
            chat = await gw.chat()
            refused = await chat.say(BROKEN)
            await chat.say("xin chào")
            answer = await wait_for(chat, "Đã nhận: xin chào")
            history = await chat.history()
            async with gw.app[DB].session() as session:
                stored = await session.get(Message, refused["message"]["id"])
    assert fake.received.count(BROKEN) == 3, f"three attempts, then no more: {fake.received}"
    assert stored is not None and stored.status == "failed" and stored.attempts == 3
    assert stored.error == "engine answered HTTP 500", stored.error
    said = [m["text"] for m in history if m["direction"] == "out"]
    assert sum(NOT_HANDLED in text for text in said) == 1, f"one honest message: {said}"
    assert APOLOGY not in said, "the engine was up: no 'temporarily down' apology"
    notice = next(m for m in history if NOT_HANDLED in m["text"])
    assert notice["id"] < answer["id"], "the citizen hears about the failure first"


async def test_a_reply_for_a_channel_this_gateway_does_not_serve_fails_alone(
    gateway: RunningGateway,
) -> None:
    receipt = await gateway.flow.receive(
        InboundMessage(channel="zalo", channel_user_id="7001", external_id="z-1", text="xin chào")
    )
    assert await gateway.flow.process_conversation(receipt.conversation_id) is True
    async with gateway.app[DB].session() as session:
        rows = (
            (
                await session.execute(
                    select(Message).where(Message.conversation_id == receipt.conversation_id)
                )
            )
            .scalars()
            .all()
        )
        by_direction = {d: [m for m in rows if m.direction == d] for d in Direction}
    [inbound] = by_direction[Direction.IN]
    assert inbound.status == "processed", "the engine's answer was taken"
    replies = by_direction[Direction.OUT]
    assert replies and all(r.status == "failed" for r in replies), replies
    assert {r.error for r in replies} == {"channel_not_configured: zalo"}

    chat = await gateway.chat()
    data = await chat.say("xin chào")
    assert "Xin chào" in data["replies"][0]["text"], "other conversations go on"


async def test_a_turn_the_engine_answers_empty_but_never_handled_is_tried_again(
    database_url: str, tokens: Tokens
) -> None:
    """Rasa answers 200 with no replies when a turn fails or times out inside it (waiting
    for a dead replica's conversation lock): the message is not taken as answered."""
    fake = FakeEngine(fail_on="", swallow=BROKEN)
    async with serve(fake.app()) as engine_url:
        settings = gateway_settings(
            database_url, tokens, engine_url, retry_interval=0.2, engine_max_attempts=3
        )
        async with running_gateway(settings, free_port()) as gw:
            chat = await gw.chat()
            swallowed = await chat.say(BROKEN)
            await chat.say("xin chào")
            await wait_for(chat, "Đã nhận: xin chào")
            history = await chat.history()
            async with gw.app[DB].session() as session:
                stored = await session.get(Message, swallowed["message"]["id"])
    assert fake.received.count(BROKEN) == 3, fake.received
    assert stored is not None and stored.status == "failed", stored
    assert stored.error == "engine did not handle the message (failed or timed out)"
    said = [m["text"] for m in history if m["direction"] == "out"]
    assert sum(NOT_HANDLED in text for text in said) == 1, said
