"""One supervised background loop for every periodic job of a process.

A round that raises is logged and retried after a growing pause (capped), so one bad
round never stops the job for good; the loop's state (running, last success, last error,
consecutive failures) is kept in a `LoopState` that /healthz can show.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

import structlog

from bot.store.models import utcnow

log = structlog.get_logger(__name__)


@dataclass(slots=True)
class LoopState:
    """What a supervised loop reports about itself."""

    name: str
    running: bool = False
    rounds: int = 0
    failures: int = 0  # consecutive failed rounds (0 after a success)
    last_ok_at: datetime | None = None
    last_error: str | None = None  # the exception type of the last failure
    last_error_at: datetime | None = None

    def as_json(self) -> dict[str, object]:
        """For /healthz."""
        return {
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
    state.running = True
    try:
        pause = interval if first_wait else 0.0
        while not stop.is_set():
            if pause > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), pause)
                if stop.is_set():
                    break
            state.rounds += 1
            try:
                await step()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # one bad round must not stop the job for good
                state.failures += 1
                state.last_error, state.last_error_at = type(exc).__name__, utcnow()
                log.exception("loop_round_failed", loop=state.name, failures=state.failures)
            else:
                state.failures = 0
                state.last_ok_at = utcnow()
            pause = backoff(interval, state.failures, max_backoff, retry_base)
    finally:
        state.running = False
