"""One supervised background loop for every periodic job of a process.

A round that raises is logged and retried after a growing pause (capped), so one bad
round never stops the job for good; the loop's state (running, last success, last error,
consecutive failures) is kept in a `LoopState` that /healthz can show, with what is wrong
with it (`problem`: not running, failing, or stale) so /healthz can say "degraded".
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import structlog

from bot.store.models import utcnow

log = structlog.get_logger(__name__)

# A loop is "failing" after this many failed rounds in a row (one or two may be a blip), and
# "stale" when no round has succeeded for STALE_ROUNDS intervals (at least STALE_MIN): a
# round that hangs, or a loop that never got going.
FAILING_AFTER = 3
STALE_ROUNDS = 10
STALE_MIN = timedelta(minutes=10)


@dataclass(slots=True)
class LoopState:
    """What a supervised loop reports about itself."""

    name: str
    running: bool = False
    rounds: int = 0  # finished rounds
    failures: int = 0  # consecutive failed rounds (0 after a success)
    last_ok_at: datetime | None = None
    last_error: str | None = None  # the exception type of the last failure
    last_error_at: datetime | None = None
    interval: float = 0.0  # seconds between rounds, as supervise() was told
    started_at: datetime | None = None
    _changed: asyncio.Event = field(default_factory=asyncio.Event, repr=False)

    def problem(self, now: datetime) -> str | None:
        """What is wrong with the loop (None: nothing): not_running, failing or stale."""
        if not self.running:
            return "not_running"
        if self.failures >= FAILING_AFTER:
            return "failing"
        since = self.last_ok_at or self.started_at
        if since is not None and now - since > max(
            STALE_MIN, timedelta(seconds=STALE_ROUNDS * self.interval)
        ):
            return "stale"
        return None

    def round_ended(self) -> None:
        """Wake whoever waits on this loop's state (`wait_for`)."""
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    async def wait_for(self, check: Callable[[LoopState], bool]) -> None:
        """Return once `check(state)` holds, looking again after each round (for tests and
        for anything that must wait on a loop rather than on the clock)."""
        while not check(self):
            await self._changed.wait()

    def as_json(self, now: datetime | None = None) -> dict[str, object]:
        """For /healthz: `state` is "ok" or the problem."""
        return {
            "state": self.problem(now or utcnow()) or "ok",
            "running": self.running,
            "rounds": self.rounds,
            "failures": self.failures,
            "last_ok_at": self.last_ok_at.isoformat() if self.last_ok_at else None,
            "last_error": self.last_error,
            "last_error_at": self.last_error_at.isoformat() if self.last_error_at else None,
        }


def backoff(interval: float, failures: int, cap: float = 300.0, base: float | None = None) -> float:
    """The pause after `failures` failed rounds in a row: `base` (default: the interval)
    doubled per failure, never more than `cap` and never less than the interval; the
    interval itself after a success."""
    if failures <= 0:
        return interval
    start = interval if base is None else base
    return max(interval, min(cap, start * 2.0 ** min(failures - 1, 20)))


async def supervise(
    state: LoopState,
    step: Callable[[], Awaitable[object]],
    interval: float,
    *,
    stop: asyncio.Event | None = None,
    first_wait: bool = False,
    max_backoff: float = 300.0,
    retry_base: float | None = None,
) -> None:
    """Run `step` every `interval` seconds until cancelled or `stop` is set; log and back
    off on failure (from `retry_base`, by default the interval, doubling up to `max_backoff`).
    With `first_wait` the first round waits one interval."""
    stop = stop or asyncio.Event()
    state.running, state.interval, state.started_at = True, interval, utcnow()
    try:
        pause = interval if first_wait else 0.0
        while not stop.is_set():
            if pause > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), pause)
                if stop.is_set():
                    break
            else:  # back to back, but never without letting the rest of the process run
                await asyncio.sleep(0)
            try:
                await step()
            except asyncio.CancelledError as exc:
                if _being_cancelled():  # the loop itself is stopped
                    raise
                _failed(state, exc)  # a cancelled inner future: one bad round, no more
            except Exception as exc:  # one bad round must not stop the job for good
                _failed(state, exc)
            else:
                state.failures = 0
                state.last_ok_at = utcnow()
            state.rounds += 1  # counted when it ends: a waiter on `rounds` sees its outcome
            state.round_ended()
            pause = backoff(interval, state.failures, max_backoff, retry_base)
    finally:
        state.running = False
        state.round_ended()


def _being_cancelled() -> bool:
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


def _failed(state: LoopState, exc: BaseException) -> None:
    state.failures += 1
    state.last_error, state.last_error_at = type(exc).__name__, utcnow()
    log.error(
        "loop_round_failed",
        loop=state.name,
        failures=state.failures,
        error=type(exc).__name__,
        exc_info=exc,
    )


async def stop_tasks(tasks: Sequence[asyncio.Task[Any]], within: float = 10.0) -> list[str]:
    """Cancel background tasks and wait for them, at most `within` seconds; returns the names
    of those that did not stop (logged). A cancellation a task swallowed (on Python 3.11 an
    inner timeout firing at the same instant can turn it into a TimeoutError, and a
    supervised loop then goes on) is delivered again every second, so a shutdown never waits
    forever on one loop."""
    pending = {task for task in tasks if not task.done()}
    deadline = asyncio.get_running_loop().time() + within
    while pending:
        for task in pending:
            task.cancel()
        left = deadline - asyncio.get_running_loop().time()
        if left <= 0:
            break
        _, pending = await asyncio.wait(pending, timeout=min(1.0, left))
    names = sorted(task.get_name() for task in pending)
    if names:
        log.error("background_tasks_did_not_stop", tasks=names, within=within)
    return names
