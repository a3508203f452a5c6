"""GET /metrics: real traffic through a gateway moves the counters by what happened, the
gauges say what the database holds, and only this host (or the token's holder) may read it.
Every scrape is parsed with prometheus-client's own parser."""

from __future__ import annotations

import asyncio
import math
import uuid
from datetime import timedelta
from typing import Any

from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr
from sqlalchemy import select

from bot.channels import InboundMessage
from bot.domain.cases import Kind, Status
from bot.domain.delivery import WHEN_THEY_WRITE, DeliveryKind, DeliveryStatus
from bot.domain.handoff import HandoffReason, HandoffStatus
from bot.domain.messages import Direction, MessageStatus
from bot.gateway import DB, LOOPS
from bot.store.models import Agency, Case, Delivery, Handoff, Message, utcnow
from tests.chat import post_update
from tests.conftest import (
    TELEGRAM_SECRET,
    RunningGateway,
    Tokens,
    free_port,
    gateway_settings,
    running_gateway,
    serve,
    telegram_settings,
)
from tests.fakes.engine_api import FakeEngine
from tests.fakes.telegram_api import FakeTelegram

BROKEN = "tin nhắn làm hỏng máy"
CHAT = 5550077

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(gw: RunningGateway, headers: dict[str, str] | None = None) -> Samples:
    """Every sample of /metrics, parsed by prometheus-client: (name, labels) → value."""
    async with gw.http.get(f"{gw.base_url}/metrics", headers=headers or {}) as resp:
        body = await resp.text()
        assert resp.status == 200, body
        assert resp.headers["Content-Type"].startswith("text/plain; version=0.0.4"), resp.headers
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(body)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    """One sample's value (0 when the series does not exist yet)."""
    return samples.get((name, frozenset(labels.items())), 0.0)


def moved(before: Samples, after: Samples) -> dict[str, float]:
    """The counters that changed, as `name{label=value,...}` → by how much."""
    changes = {}
    for key, now in after.items():
        name, labels = key
        if not name.endswith(("_total", "_count")):
            continue
        delta = now - before.get(key, 0.0)
        if delta:
            shown = ",".join(f"{k}={v}" for k, v in sorted(labels) if k != "le")
            changes[f"{name}{{{shown}}}"] = delta
    return changes


async def test_traffic_moves_the_counters_by_what_happened(
    database_url: str, tokens: Tokens, fake_telegram: FakeTelegram
) -> None:
    engine = FakeEngine(fail_on=BROKEN)
    fake_telegram.flood_once[CHAT] = 1  # the immediate reply meets flood control once
    async with serve(engine.app()) as engine_url:
        settings = gateway_settings(
            database_url,
            tokens,
            engine_url,
            retry_interval=3600,  # a refused message is not tried again during the test
            **telegram_settings(fake_telegram),
        )
        async with running_gateway(settings, free_port()) as gw:
            before = await scrape(gw)
            chat = await gw.chat()
            client_id = uuid.uuid4().hex
            await chat.say("xin chào", client_id=client_id)
            again = await chat.say("xin chào", client_id=client_id)  # the page retrying
            assert again["duplicate"] is True
            await chat.say(BROKEN)  # the engine answers HTTP 500
            status, _ = await chat.post({"session_id": chat.session_id, "text": "x"})
            assert status == 400, "no client message id: refused, nothing stored"
            assert await post_update(gw, CHAT, "xin chào", secret="wrong") == 403
            assert await post_update(gw, CHAT, "xin chào", secret=TELEGRAM_SECRET) == 200
            await gw.flow.drain()
            await _until_sent(gw)  # the dispatcher's second try
            after = await scrape(gw)
            loops = sorted(gw.app[LOOPS])
    assert moved(before, after) == {
        "giaitrinh_inbound_messages_total{channel=web,outcome=stored}": 2,
        "giaitrinh_inbound_messages_total{channel=web,outcome=duplicate}": 1,
        "giaitrinh_inbound_messages_total{channel=web,outcome=refused}": 1,
        "giaitrinh_inbound_messages_total{channel=telegram,outcome=stored}": 1,
        "giaitrinh_inbound_messages_total{channel=telegram,outcome=refused}": 1,
        "giaitrinh_engine_turn_seconds_count{outcome=answered}": 2,
        "giaitrinh_engine_turn_seconds_count{outcome=refused}": 1,
        "giaitrinh_engine_errors_total{kind=refused}": 1,
        # The web reply is delivered by being stored; Telegram's first try met flood control.
        "giaitrinh_outbound_messages_total{channel=web,outcome=sent}": 1,
        "giaitrinh_outbound_messages_total{channel=telegram,outcome=retry}": 1,
        "giaitrinh_outbound_messages_total{channel=telegram,outcome=sent}": 1,
        "giaitrinh_deliveries_total{kind=reply,status=sent}": 1,
    }
    assert value(after, "giaitrinh_engine_turn_seconds_sum", outcome="answered") > 0
    assert value(after, "giaitrinh_engine_errors_total", kind="unavailable") == 0
    assert loops, "the gateway runs its background loops"
    for loop in loops:
        assert value(after, "giaitrinh_loop_up", loop=loop) == 1, loop
    assert value(after, "giaitrinh_database_up") == 1
    labels = {v for (_, pairs) in after for _, v in pairs}
    assert not any("xin" in v or str(CHAT) in v for v in labels), labels


async def _until_sent(gw: RunningGateway) -> None:
    """Wait until every bot message to Telegram is sent (the outbox retried the first)."""
    for _ in range(100):
        async with gw.app[DB].session() as session:
            statuses = set(
                (
                    await session.execute(
                        select(Message.status).where(
                            Message.direction == Direction.OUT, Message.channel == "telegram"
                        )
                    )
                ).scalars()
            )
        if statuses == {MessageStatus.SENT}:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"Telegram replies not sent: {statuses}")


async def test_gauges_read_the_waiting_work_from_the_database(
    database_url: str, tokens: Tokens
) -> None:
    settings = gateway_settings(
        database_url, tokens, f"http://127.0.0.1:{free_port()}", background="deadlines"
    )
    async with running_gateway(settings, free_port()) as gw:
        empty = await scrape(gw)
        now = utcnow()
        await _waiting_work(gw, now)
        full = await scrape(gw)
        gw.app[LOOPS]["deadlines"].failures = 3  # as three failed rounds leave it
        failing = await scrape(gw)
    for state in ("due", "sending", "unknown", "deferred"):
        assert value(empty, "giaitrinh_outbox_deliveries", state=state) == 0, state
    assert value(empty, "giaitrinh_cases_overdue") == 0
    assert value(empty, "giaitrinh_handoffs_open", status="waiting") == 0
    assert value(empty, "giaitrinh_loop_up", loop="deadlines") == 1

    assert value(full, "giaitrinh_outbox_deliveries", state="due") == 2
    assert value(full, "giaitrinh_outbox_deliveries", state="deferred") == 1
    assert value(full, "giaitrinh_outbox_deliveries", state="sending") == 0
    assert 600 <= value(full, "giaitrinh_outbox_oldest_due_seconds") < 660
    assert value(full, "giaitrinh_cases_overdue") == 1, "open and late; not answered, not due"
    assert value(full, "giaitrinh_handoffs_open", status="waiting") == 2
    assert value(full, "giaitrinh_handoffs_open", status="claimed") == 1
    assert 300 <= value(full, "giaitrinh_handoff_oldest_seconds", status="waiting") < 360
    assert 60 <= value(full, "giaitrinh_handoff_oldest_seconds", status="claimed") < 120

    assert value(failing, "giaitrinh_loop_up", loop="deadlines") == 0
    assert value(failing, "giaitrinh_loop_failures", loop="deadlines") == 3


async def _waiting_work(gw: RunningGateway, now: Any) -> None:
    """Rows of every kind the gauges count, and rows they must not count."""
    conversations = []
    for n in range(4):
        receipt = await gw.flow.receive(
            InboundMessage(channel="web", channel_user_id=f"u{n}", external_id=f"m{n}", text="a")
        )
        conversations.append(receipt.conversation_id)
    ago = lambda seconds: now - timedelta(seconds=seconds)  # noqa: E731
    async with gw.app[DB].session() as session:
        agency = Agency(slug="metrics-test", name="Sở thử")
        session.add(agency)
        await session.flush()
        session.add_all(
            [
                Handoff(conversation_id=conversations[0], agency_id=agency.id,
                        reason=HandoffReason.ASKED, requested_at=ago(300)),
                Handoff(conversation_id=conversations[1], agency_id=agency.id,
                        reason=HandoffReason.ASKED, requested_at=ago(30)),
                Handoff(conversation_id=conversations[2], agency_id=agency.id,
                        reason=HandoffReason.ASKED, requested_at=ago(60),
                        status=HandoffStatus.CLAIMED, claimed_at=ago(10)),
                Handoff(conversation_id=conversations[3], agency_id=agency.id,
                        reason=HandoffReason.ASKED, requested_at=ago(9000),
                        status=HandoffStatus.CLOSED),
                Case(code="MT0000000001", kind=Kind.PETITION, status=Status.IN_PROGRESS,
                     agency_id=agency.id, due_at=ago(86400)),
                Case(code="MT0000000002", kind=Kind.PETITION, status=Status.ANSWERED,
                     agency_id=agency.id, due_at=ago(86400)),
                Case(code="MT0000000003", kind=Kind.PETITION, status=Status.RECEIVED,
                     agency_id=agency.id, due_at=now + timedelta(days=3)),
                Delivery(contact_id=1, kind=DeliveryKind.CASE_UPDATE, text="a",
                         status=DeliveryStatus.PENDING, next_attempt_at=ago(600)),
                Delivery(contact_id=1, kind=DeliveryKind.CASE_UPDATE, text="a",
                         status=DeliveryStatus.PENDING, next_attempt_at=ago(5)),
                Delivery(contact_id=1, kind=DeliveryKind.CASE_UPDATE, text="a",
                         status=DeliveryStatus.PENDING, next_attempt_at=now + timedelta(hours=1)),
                Delivery(contact_id=1, kind=DeliveryKind.CASE_UPDATE, text="a",
                         status=DeliveryStatus.DEFERRED, next_attempt_at=WHEN_THEY_WRITE),
                Delivery(contact_id=1, kind=DeliveryKind.CASE_UPDATE, text="a",
                         status=DeliveryStatus.SENT, next_attempt_at=ago(900)),
            ]
        )  # fmt: skip


async def test_only_this_host_or_the_token_holder_reads_metrics(
    database_url: str, tokens: Tokens
) -> None:
    engine_url = f"http://127.0.0.1:{free_port()}"
    open_settings = gateway_settings(database_url, tokens, engine_url, background="none")
    async with running_gateway(open_settings, free_port()) as gw:
        assert await scrape(gw), "a direct request from this host"
        proxied = {"X-Forwarded-For": "203.0.113.9"}  # through the load balancer
        async with gw.http.get(f"{gw.base_url}/metrics", headers=proxied) as resp:
            assert resp.status == 403, await resp.text()
            assert (await resp.json())["error"]["code"] == "metrics_forbidden"
    token = "metrics-" + uuid.uuid4().hex
    guarded = gateway_settings(
        database_url, tokens, engine_url, background="none", metrics_token=SecretStr(token)
    )
    async with running_gateway(guarded, free_port()) as gw:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": token}):
            async with gw.http.get(f"{gw.base_url}/metrics", headers=headers) as resp:
                assert resp.status == 403, headers
        with_token = {"Authorization": f"Bearer {token}", **proxied}
        samples = await scrape(gw, with_token)
    assert not math.isnan(value(samples, "giaitrinh_cases_overdue"))


async def test_an_engine_that_does_not_answer_counts_as_unavailable(
    database_url: str, tokens: Tokens
) -> None:
    closed = f"http://127.0.0.1:{free_port()}"  # nothing listens: the engine is down
    settings = gateway_settings(database_url, tokens, closed, background="none")
    async with running_gateway(settings, free_port()) as gw:
        chat = await gw.chat()
        await chat.say("xin chào")  # stored, apologised for, waiting for the engine
        samples = await scrape(gw)
    assert value(samples, "giaitrinh_engine_errors_total", kind="unavailable") == 1
    assert value(samples, "giaitrinh_engine_turn_seconds_count", outcome="unavailable") == 1
    assert value(samples, "giaitrinh_engine_turn_seconds_count", outcome="answered") == 0
    assert value(samples, "giaitrinh_inbound_messages_total", channel="web", outcome="stored") == 1
    assert value(samples, "giaitrinh_outbound_messages_total", channel="web", outcome="sent") == 1
    created = [name for name, _ in samples if name.endswith("_created")]
    assert not created, created
