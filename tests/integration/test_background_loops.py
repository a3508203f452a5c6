"""Background loops under faults: a locked database stops no loop for good, the failure is
logged and shown on /healthz (degraded), and the work is done once the fault is gone."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import structlog
from sqlalchemy import func, select

from bot.domain.messages import Direction
from bot.gateway import DB, LOOPS
from bot.services.loops import LoopState
from bot.settings import Settings
from bot.store.models import Message, utcnow
from tests.conftest import (
    RunningGateway,
    Tokens,
    free_port,
    gateway_settings,
    lock_error,
    running_gateway,
    telegram_settings,
    write_lock,
)
from tests.fakes.telegram_api import FakeTelegram

DATA = Path(__file__).resolve().parent.parent / "data" / "telegram"
GUARD = 60  # seconds: only so that a broken loop fails the test instead of hanging it


@pytest.fixture
async def polling_gateway(
    database_url: str, tokens: Tokens, fake_telegram: FakeTelegram
) -> AsyncIterator[RunningGateway]:
    """Telegram by long polling, no engine (messages stay queued), a short wait for locks."""
    settings = gateway_settings(
        database_url,
        tokens,
        f"http://127.0.0.1:{free_port()}",
        retry_interval=3600,
        database_busy_timeout_s=0.2,
        **{**telegram_settings(fake_telegram), "telegram_mode": "polling"},
    )
    async with running_gateway(settings, free_port()) as running:
        yield running


async def health(gw: RunningGateway) -> dict[str, Any]:
    async with gw.http.get(f"{gw.base_url}/healthz") as resp:
        assert resp.status == 200, await resp.text()
        return dict(await resp.json())


async def inbound_count(gw: RunningGateway) -> int:
    async with gw.app[DB].session(read_only=True) as session:
        query = select(func.count()).select_from(Message).where(Message.direction == Direction.IN)
        return int(await session.scalar(query) or 0)


async def until(state: LoopState, check: Any) -> None:
    try:
        await asyncio.wait_for(state.wait_for(check), GUARD)
    except TimeoutError:
        raise AssertionError(f"the loop never got there: {state}") from None


async def test_polling_survives_a_locked_database_and_healthz_shows_it(
    polling_gateway: RunningGateway, fake_telegram: FakeTelegram, database_url: str
) -> None:
    gw = polling_gateway
    loops = gw.app[LOOPS]
    polling = loops["telegram_polling"]
    for name in ("telegram_polling", "outbox", "deadlines"):  # first rounds before the fault
        await until(loops[name], lambda s: s.rounds >= 1 and s.failures == 0)
    assert (await health(gw))["status"] == "ok"

    update = json.loads((DATA / "telegram_update_message.json").read_text(encoding="utf-8"))
    with structlog.testing.capture_logs() as logs:
        async with write_lock(database_url):
            fake_telegram.push_update(update)
            await until(polling, lambda s: s.failures >= 3)
            during = await health(gw)
            assert await inbound_count(gw) == 0, "nothing could be stored while locked"

    assert during["status"] == "degraded", during
    shown = during["loops"]["telegram_polling"]
    assert shown["state"] == "failing" and shown["running"], shown
    locked = lock_error(database_url)
    assert shown["last_error"] == locked and shown["failures"] >= 3, shown
    failures = [e for e in logs if e["event"] == "loop_round_failed"]
    assert any(e["loop"] == "telegram_polling" and e["error"] == locked for e in failures), failures

    # The lock is gone: the same update is stored (once) and every loop recovers.
    await until(polling, lambda s: s.failures == 0)
    assert await inbound_count(gw) == 1, "the update that arrived during the lock is stored"
    for state in loops.values():
        await until(state, lambda s: s.problem(utcnow()) is None)
    after = await health(gw)
    assert after["status"] == "ok", after
    assert after["loops"]["telegram_polling"]["state"] == "ok"
    assert after["loops"]["telegram_polling"]["last_error"] == locked


async def test_a_stopped_loop_makes_healthz_degraded(polling_gateway: RunningGateway) -> None:
    gw = polling_gateway
    deadlines = gw.app[LOOPS]["deadlines"]
    await until(deadlines, lambda s: s.rounds >= 1)
    assert (await health(gw))["status"] == "ok"
    deadlines.running = False  # as a loop whose task ended
    body = await health(gw)
    assert body["status"] == "degraded" and body["loops"]["deadlines"]["state"] == "not_running"


@pytest.mark.parametrize(
    ("background", "expected"),
    [
        ("all", {"engine_retry", "outbox", "deadlines", "retention", "telegram_polling"}),
        ("engine_retry", {"engine_retry"}),
        ("outbox, deadlines,retention", {"outbox", "deadlines", "retention"}),
        ("none", set()),
    ],
)
async def test_each_process_runs_the_loops_it_is_given(
    database_url: str,
    tokens: Tokens,
    fake_telegram: FakeTelegram,
    background: str,
    expected: set[str],
) -> None:
    """Gateways run engine retries, dispatchers the outbox and the scans: /healthz shows
    what this process runs, and only that runs."""
    settings = gateway_settings(
        database_url,
        tokens,
        f"http://127.0.0.1:{free_port()}",
        background=background,
        **{**telegram_settings(fake_telegram), "telegram_mode": "polling"},
    )
    async with running_gateway(settings, free_port()) as gw:
        assert set(gw.app[LOOPS]) == expected
        for state in gw.app[LOOPS].values():
            await until(state, lambda s: s.running)
        assert set((await health(gw))["loops"]) == expected
        if "telegram_polling" not in expected:
            assert fake_telegram.polls == 0, "no process but the one given it polls Telegram"


def test_an_unknown_loop_name_is_refused_at_start() -> None:
    with pytest.raises(ValueError, match="outbx"):
        Settings(_env_file=None, background="engine_retry,outbx")  # type: ignore[call-arg]
