"""The supervised background loop: a failing round is logged and retried with backoff, the
loop's state says what happened, and a stop request ends it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from bot.services.loops import LoopState, backoff, stop_tasks, supervise


def test_backoff_doubles_from_the_base_up_to_the_cap_and_resets_after_success() -> None:
    assert backoff(5.0, 0) == 5.0
    assert [backoff(5.0, n, cap=60.0) for n in (1, 2, 3, 4, 5)] == [5.0, 10.0, 20.0, 40.0, 60.0]
    # A loop that runs back to back (interval 0) still backs off from its retry base.
    assert [backoff(0.0, n, cap=60.0, base=0.5) for n in (1, 2, 3)] == [0.5, 1.0, 2.0]
    assert backoff(0.0, 0, base=0.5) == 0.0
    assert backoff(1.0, 10_000, cap=300.0) == 300.0  # no overflow on a long outage


async def test_a_failing_round_does_not_stop_the_loop_and_is_reported() -> None:
    state = LoopState("sample")
    stop = asyncio.Event()
    calls = 0

    async def step() -> None:
        nonlocal calls
        calls += 1
        if calls <= 2:
            raise RuntimeError("database locked")
        stop.set()  # the third round succeeds and ends the test

    await asyncio.wait_for(supervise(state, step, 0.0, stop=stop, retry_base=0.001), 10)
    assert calls == 3
    assert state.rounds == 3 and state.failures == 0, state
    assert state.last_error == "RuntimeError" and state.last_error_at is not None
    assert state.last_ok_at is not None and state.last_ok_at >= state.last_error_at
    assert state.running is False


async def test_a_round_counts_once_it_has_ended_so_a_waiter_sees_its_outcome() -> None:
    state = LoopState("slow")
    stop = asyncio.Event()
    inside, release = asyncio.Event(), asyncio.Event()

    async def step() -> None:
        inside.set()
        await release.wait()
        stop.set()

    loop = asyncio.create_task(supervise(state, step, 0.0, stop=stop))
    await asyncio.wait_for(inside.wait(), 10)
    assert state.rounds == 0, "a round in progress is not a finished round"
    release.set()
    await asyncio.wait_for(state.wait_for(lambda s: s.rounds >= 1), 10)
    assert state.last_ok_at is not None, "the waiter woke after the round's outcome"
    await asyncio.wait_for(loop, 10)


async def test_the_state_shows_a_loop_that_keeps_failing() -> None:
    state = LoopState("broken")
    failed_twice = asyncio.Event()

    async def step() -> None:
        if state.failures == 1:
            failed_twice.set()
        raise ValueError("bad row")

    task = asyncio.create_task(supervise(state, step, 0.0, retry_base=0.001))
    await asyncio.wait_for(failed_twice.wait(), 10)
    assert state.running and state.failures >= 2 and state.last_ok_at is None
    assert state.as_json()["last_error"] == "ValueError"
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert state.running is False


def _state(**values: object) -> LoopState:
    state = LoopState("sample")
    for key, value in values.items():
        setattr(state, key, value)
    return state


def test_health_names_what_is_wrong_with_a_loop() -> None:
    now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    recent = now - timedelta(seconds=5)
    ok = _state(running=True, interval=1.0, started_at=recent, last_ok_at=recent)
    assert ok.problem(now) is None and ok.as_json(now)["state"] == "ok"
    assert _state(running=False, last_ok_at=recent).problem(now) == "not_running"
    failing = _state(running=True, interval=1.0, started_at=recent, last_ok_at=recent, failures=3)
    assert failing.problem(now) == "failing"
    assert _state(running=True, started_at=recent, failures=2).problem(now) is None, (
        "two failures in a row may be a blip"
    )
    # Running, not failing, but no round has succeeded for long (a hung round).
    hour_ago = now - timedelta(hours=1)
    stuck = _state(running=True, interval=1.0, started_at=hour_ago, last_ok_at=hour_ago)
    assert stuck.problem(now) == "stale" and stuck.as_json(now)["state"] == "stale"
    never = _state(running=True, interval=1.0, started_at=hour_ago)
    assert never.problem(now) == "stale"
    # A slow loop (every 5 minutes) is judged on its own interval.
    half_hour_ago = now - timedelta(minutes=30)
    slow = _state(running=True, interval=300.0, started_at=hour_ago, last_ok_at=half_hour_ago)
    assert slow.problem(now) is None


async def test_a_cancelled_error_from_inside_a_round_is_a_failed_round() -> None:
    """Only cancelling the loop's own task stops it; a CancelledError leaking out of a
    round (a cancelled inner future) is one bad round like any other."""
    state = LoopState("sample")
    stop = asyncio.Event()
    calls = 0

    async def step() -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise asyncio.CancelledError()
        stop.set()

    await asyncio.wait_for(supervise(state, step, 0.0, stop=stop, retry_base=0.001), 10)
    assert calls == 2 and state.last_error == "CancelledError" and state.failures == 0


async def test_waiting_for_a_loop_state_wakes_after_the_round_that_makes_it_true() -> None:
    state = LoopState("sample")
    calls = 0

    async def step() -> None:
        nonlocal calls
        calls += 1
        if calls <= 3:
            raise RuntimeError("locked")

    task = asyncio.create_task(supervise(state, step, 0.0, retry_base=0.001))
    await asyncio.wait_for(state.wait_for(lambda s: s.failures >= 3), 10)
    assert state.failures == 3 and state.last_ok_at is None
    await asyncio.wait_for(state.wait_for(lambda s: s.last_ok_at is not None), 10)
    assert state.failures == 0
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_stopping_delivers_a_swallowed_cancellation_again() -> None:
    """A loop that loses its first cancellation (as a timeout firing at the same instant can
    make it on Python 3.11) still stops: the cancellation comes again."""
    stopped = asyncio.Event()

    async def swallows_once() -> None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            asyncio.current_task().uncancel()  # type: ignore[union-attr]
        try:
            await asyncio.sleep(3600)
        finally:
            stopped.set()

    quiet = asyncio.create_task(asyncio.sleep(3600), name="quiet")
    stubborn = asyncio.create_task(swallows_once(), name="stubborn")
    await asyncio.sleep(0)
    assert await stop_tasks([quiet, stubborn], within=5) == []
    assert stopped.is_set() and quiet.cancelled() and stubborn.cancelled()


async def test_a_task_that_never_stops_is_named_and_left_behind() -> None:
    release = asyncio.Event()

    async def deaf() -> None:
        while not release.is_set():
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                asyncio.current_task().uncancel()  # type: ignore[union-attr]

    task = asyncio.create_task(deaf(), name="deaf")
    await asyncio.sleep(0)
    assert await stop_tasks([task], within=0.2) == ["deaf"]
    release.set()
    task.cancel()
    await asyncio.wait({task}, timeout=1)
    assert task.done()
