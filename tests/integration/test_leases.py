"""One turn-taker per conversation across gateway processes: a lease in the database that
one holder has at a time, that its holder renews while it works, that ends by itself when
its holder dies, and that never loses a message stored while another process held it."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

import aiohttp
from aiohttp import web
from sqlalchemy import select

from bot.channels import ChannelRegistry, InboundMessage
from bot.domain.messages import Direction, MessageStatus
from bot.engine import EngineClient
from bot.enginectl import EngineProcess
from bot.gateway import DB, SETTINGS
from bot.services.conversations import FRESH, MessageFlow
from bot.services.leases import ConversationLocks
from bot.store import leases
from bot.store.db import Database
from bot.store.models import Conversation, Message, utcnow
from connectors.web import WebChannel
from tests.conftest import ENGINE_TIMEOUT, RunningGateway, Tokens, serve
from tests.fakes.engine_api import FakeEngine

GUARD = 60.0  # seconds before a wait that never ends fails the test


async def a_conversation(db: Database, user: str = "lease-1") -> int:
    """A stored conversation of a web contact (its first message)."""
    async with aiohttp.ClientSession() as http:
        flow = MessageFlow(db, EngineClient(http, "http://127.0.0.1:9", "", 1), ChannelRegistry())
        receipt = await flow.receive(
            InboundMessage(channel="web", channel_user_id=user, external_id=f"{user}-0", text="a")
        )
    return receipt.conversation_id


async def messages_of(db: Database, conversation_id: int) -> list[Message]:
    """A conversation's messages, oldest first."""
    async with db.session(read_only=True) as session:
        query = select(Message).where(Message.conversation_id == conversation_id)
        return list((await session.execute(query.order_by(Message.id))).scalars())


async def lease_of(db: Database, conversation_id: int) -> tuple[str | None, datetime | None]:
    async with db.session(read_only=True) as session:
        row = await session.get(Conversation, conversation_id, populate_existing=True)
        assert row is not None
        return row.lease_holder, row.lease_until


async def test_one_holder_at_a_time_and_a_dead_holders_lease_ends(database_url: str) -> None:
    db = Database(database_url)
    try:
        conversation = await a_conversation(db)
        one = ConversationLocks(db, timedelta(seconds=30), holder="gateway-1")
        two = ConversationLocks(db, timedelta(seconds=30), holder="gateway-2")
        async with one.hold(conversation) as held:
            assert held is not None
            async with two.hold(conversation) as other:
                assert other is None, "the other process must not take it while it is held"
            assert (await lease_of(db, conversation))[0] == "gateway-1"
        assert await lease_of(db, conversation) == (None, None), "let go at the end"
        async with two.hold(conversation) as other:
            assert other is not None, "free again: the other process takes it"

        # A holder that died: its lease stands until it ends, then anyone may take it.
        now = utcnow()
        async with db.session() as session:
            assert await leases.take_free(session, conversation, "dead", now + timedelta(hours=1))
        async with one.hold(conversation) as held:
            assert held is None, "a live lease of a dead holder still counts until it ends"
        async with db.session() as session:
            await session.execute(
                Conversation.__table__.update()
                .where(Conversation.id == conversation)
                .values(lease_until=now - timedelta(seconds=1))
            )
        async with one.hold(conversation) as held:
            assert held is not None, "an ended lease is taken over"
    finally:
        await db.dispose()


async def test_the_holder_renews_its_lease_while_it_works(database_url: str) -> None:
    db = Database(database_url)
    try:
        conversation = await a_conversation(db)
        one = ConversationLocks(db, timedelta(seconds=3), holder="gateway-1")
        two = ConversationLocks(db, timedelta(seconds=3), holder="gateway-2")
        async with one.hold(conversation) as held:
            assert held is not None
            _, first_until = await lease_of(db, conversation)
            assert first_until is not None

            async def renewed_past_its_first_end() -> None:
                while True:
                    _, until = await lease_of(db, conversation)
                    if until is not None and until > first_until and utcnow() > first_until:
                        return
                    await asyncio.sleep(0.05)

            await asyncio.wait_for(renewed_past_its_first_end(), GUARD)
            async with two.hold(conversation) as other:
                assert other is None, "a renewed lease is still held"
            assert not held.lost
    finally:
        await db.dispose()


def web_message(external_id: str, text: str) -> InboundMessage:
    return InboundMessage(
        channel="web", channel_user_id="u-lease", external_id=external_id, text=text
    )


class GatedEngine:
    """A pass-through to the real engine that holds the first turn until released, so a
    test can act while one gateway is in the middle of a turn."""

    def __init__(self, engine_url: str) -> None:
        self.engine_url = engine_url
        self.arrived = asyncio.Event()
        self.gate = asyncio.Event()
        self.turns: list[str] = []

    async def turn(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.turns.append(body["message"])
        if len(self.turns) == 1:
            self.arrived.set()
            await self.gate.wait()
        async with aiohttp.ClientSession() as http:
            async with http.post(f"{self.engine_url}/webhooks/rest/webhook", json=body) as resp:
                return web.Response(body=await resp.read(), status=resp.status)

    async def tracker(self, request: web.Request) -> web.Response:
        async with aiohttp.ClientSession() as http:
            url = f"{self.engine_url}{request.path}"
            async with http.get(url, params=request.query) as resp:
                return web.Response(body=await resp.read(), status=resp.status)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/webhooks/rest/webhook", self.turn)
        app.router.add_get("/conversations/{sender}/tracker", self.tracker)
        return app


@asynccontextmanager
async def flow_of(db: Database, engine_url: str, tokens: Tokens) -> AsyncIterator[MessageFlow]:
    """A second gateway process's message flow on the same database."""
    async with aiohttp.ClientSession() as http:
        channels = ChannelRegistry()
        channels.register(WebChannel())
        yield MessageFlow(db, EngineClient(http, engine_url, tokens.rasa, ENGINE_TIMEOUT), channels)


async def test_a_message_stored_while_another_gateway_holds_the_conversation_is_answered(
    gateway: RunningGateway, engine: EngineProcess, tokens: Tokens
) -> None:
    """Gateway A is mid-turn on the conversation's first message when gateway B stores its
    second: B leaves it (A holds the lease), and A answers it after the first, in order."""
    gated = GatedEngine(engine.url)
    db = Database(gateway.app[SETTINGS].database_url)
    try:
        async with serve(gated.app()) as gated_url:
            async with flow_of(db, gated_url, tokens) as a, flow_of(db, engine.url, tokens) as b:
                first = await a.receive(
                    InboundMessage(
                        channel="web", channel_user_id="u-lease", external_id="m1", text="xin chào"
                    )
                )
                turn = asyncio.create_task(a.process_conversation(first.conversation_id))
                await asyncio.wait_for(gated.arrived.wait(), GUARD)
                second = await b.receive(
                    InboundMessage(
                        channel="web", channel_user_id="u-lease", external_id="m2", text="cảm ơn"
                    )
                )
                assert second.conversation_id == first.conversation_id
                assert await b.process_conversation(second.conversation_id) is True
                async with db.session(read_only=True) as session:
                    waiting = await session.get(Message, second.message_id)
                    assert waiting is not None and waiting.status is MessageStatus.PENDING
                gated.gate.set()
                assert await asyncio.wait_for(turn, GUARD) is True
        assert gated.turns == ["xin chào", "cảm ơn"], "A answered both, in order"
        rows = await messages_of(db, first.conversation_id)
        inbound = [m for m in rows if m.direction is Direction.IN]
        assert [m.status for m in inbound] == [MessageStatus.PROCESSED] * 2
        answered = [m.in_reply_to_id for m in rows if m.direction is Direction.OUT]
        assert answered and answered == sorted(answered), "replies in the order of the messages"
        assert set(answered) == {first.message_id, second.message_id}, "each answered"
        assert await lease_of(db, first.conversation_id) == (None, None)
    finally:
        await db.dispose()


async def test_a_dead_holder_on_this_host_is_taken_over_at_once(database_url: str) -> None:
    """A gateway killed and restarted on the same host need not wait for the lease to end;
    a holder on another host (whose process cannot be seen) is waited for."""
    gone = await asyncio.create_subprocess_exec("true")
    await gone.wait()
    host = socket.gethostname()[:40]
    db = Database(database_url)
    try:
        conversation = await a_conversation(db)
        locks = ConversationLocks(db, timedelta(seconds=30), holder="gateway-1")
        now = utcnow()
        elsewhere, here = f"elsewhere:{gone.pid}:ab12", f"{host}:{gone.pid}:ab12"
        for holder, expected in ((elsewhere, None), (here, "gateway-1")):
            async with db.session() as session:
                await session.execute(
                    Conversation.__table__.update()
                    .where(Conversation.id == conversation)
                    .values(lease_holder=holder, lease_until=now + timedelta(hours=1))
                )
            async with locks.hold(conversation) as held:
                assert (held and held.holder) == expected, holder
    finally:
        await db.dispose()


async def test_a_burst_of_messages_runs_one_background_task_per_conversation(
    gateway: RunningGateway,
) -> None:
    """Webhooks schedule the conversation for each message: one task takes them all, in
    order, and looks again for a message stored while it ran."""
    flow = gateway.flow
    texts = ["xin chào", "cảm ơn", "tạm biệt", "xin chào", "cảm ơn", "tạm biệt"]
    first = None
    for i, words in enumerate(texts):
        receipt = await flow.receive(
            InboundMessage(
                channel="web", channel_user_id="u-burst", external_id=f"b{i}", text=words
            )
        )
        first = first or receipt
        flow.schedule(receipt.conversation_id)
        assert len(flow._tasks) == 1, "one task for the conversation"  # noqa: SLF001
    await asyncio.wait_for(flow.drain(), GUARD)
    db = gateway.app[DB]
    assert first is not None
    rows = await messages_of(db, first.conversation_id)
    inbound = [m for m in rows if m.direction is Direction.IN]
    assert [m.status for m in inbound] == [MessageStatus.PROCESSED] * len(texts)
    answered = [m.in_reply_to_id for m in rows if m.direction is Direction.OUT]
    assert answered == sorted(answered) and set(answered) == {m.id for m in inbound}


async def test_a_turn_that_reached_the_engine_before_its_gateway_died_is_not_sent_twice(
    gateway: RunningGateway, engine: EngineProcess, tokens: Tokens
) -> None:
    """Gateway A handed the message to the engine and died before storing the answer; B,
    taking the conversation over, finds the answer in the engine's tracker and stores it,
    without sending the message again (a "Xác nhận gửi" would file a second case)."""
    db = gateway.app[DB]
    receipt = await gateway.flow.receive(web_message("d1", "xin chào"))
    async with db.session(read_only=True) as session:
        conversation = await session.get(Conversation, receipt.conversation_id)
        assert conversation is not None
        sender = conversation.engine_sender
    body = {"sender": sender, "message": "xin chào", "metadata": {"message_id": receipt.message_id}}
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{engine.url}/webhooks/rest/webhook", json=body) as resp:
            said_then = [r["text"] for r in await resp.json()]
    assert said_then, "the engine answered A"
    gone = await asyncio.create_subprocess_exec("true")
    await gone.wait()
    async with db.session() as session:
        await session.execute(
            Conversation.__table__.update()
            .where(Conversation.id == receipt.conversation_id)
            .values(
                lease_holder=f"{socket.gethostname()[:40]}:{gone.pid}:dead",
                lease_until=utcnow() + timedelta(seconds=30),
            )
        )
    gated = GatedEngine(engine.url)
    gated.gate.set()
    async with serve(gated.app()) as gated_url, flow_of(db, gated_url, tokens) as b:
        assert await b.process_conversation(receipt.conversation_id) is True
    assert gated.turns == [], "not sent to the engine again"
    async with db.session(read_only=True) as session:
        rows = (
            (
                await session.execute(
                    select(Message).where(Message.conversation_id == receipt.conversation_id)
                )
            )
            .scalars()
            .all()
        )
    [inbound] = [m for m in rows if m.direction is Direction.IN]
    assert inbound.status is MessageStatus.PROCESSED
    stored = [m.text for m in rows if m.direction is Direction.OUT and m.in_reply_to_id]
    assert stored == said_then, "the answer the engine gave A"
    async with aiohttp.ClientSession() as http:
        url = f"{engine.url}/conversations/{sender}/tracker"
        async with http.get(url, params={"token": tokens.rasa}) as resp:
            events = (await resp.json())["events"]
    taken = [e for e in events if e["event"] == "user"]
    assert [e["metadata"]["message_id"] for e in taken] == [receipt.message_id], "once"


async def test_the_retry_loop_leaves_a_fresh_message_to_the_gateway_that_received_it(
    database_url: str, tokens: Tokens
) -> None:
    """Another gateway's retry loop takes only messages already tried (refused, or waiting
    out an engine that was down) or stored a while ago: taking a fresh one would leave the
    receiving gateway's web request without its answer."""
    fake = FakeEngine(fail_on="")
    db = Database(database_url)
    try:
        async with serve(fake.app()) as engine_url, flow_of(db, engine_url, tokens) as other:
            receipt = await other.receive(web_message("f1", "xin chào"))
            assert await other.retry_pending() == 0, "fresh and untried: not the loop's"
            async with db.session() as session:
                stored = await session.get(Message, receipt.message_id)
                assert stored is not None
                stored.created_at = utcnow() - FRESH - timedelta(seconds=1)
            assert await other.retry_pending() == 1, "stored a while ago: its gateway died?"
        assert fake.received == ["xin chào"]
    finally:
        await db.dispose()
