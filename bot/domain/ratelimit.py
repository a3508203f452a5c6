"""Token buckets: how fast the dispatcher may send, per channel and per chat."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Bucket:
    """`rate` tokens per second, holding at most `burst`."""

    rate: float
    burst: float
    tokens: float
    updated: float

    def wait_time(self, now: float) -> float:
        """Seconds until one token is available (0 when there is one now)."""
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate

    def take(self) -> None:
        """Spend one token (after wait_time returned 0)."""
        self.tokens -= 1


@dataclass(frozen=True, slots=True)
class Limit:
    """A channel's published limits: overall messages/s and per-chat messages/s."""

    per_second: float
    per_chat_per_second: float


class RateLimiter:
    """Waits as long as needed so that no channel or chat limit is exceeded."""

    def __init__(
        self, limits: dict[str, Limit], clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._limits = limits
        self._clock = clock
        self._buckets: dict[tuple[str, str], Bucket] = {}
        self._lock = asyncio.Lock()

    def _bucket(self, key: tuple[str, str], rate: float) -> Bucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            # Burst of one second's worth overall, one message per chat.
            burst = max(1.0, rate) if key[1] == "*" else 1.0
            bucket = Bucket(rate, burst, burst, self._clock())
            self._buckets[key] = bucket
        return bucket

    def delay(self, channel: str, chat: str) -> float:
        """Seconds to wait before sending to `chat` on `channel`; 0 takes the tokens now."""
        limit = self._limits.get(channel)
        if limit is None:
            return 0.0
        now = self._clock()
        overall = self._bucket((channel, "*"), limit.per_second)
        per_chat = self._bucket((channel, chat), limit.per_chat_per_second)
        wait = max(overall.wait_time(now), per_chat.wait_time(now))
        if wait == 0:
            overall.take()
            per_chat.take()
        return wait

    async def acquire(self, channel: str, chat: str) -> None:
        """Block until a message to `chat` may be sent."""
        while True:
            async with self._lock:
                wait = self.delay(channel, chat)
            if wait == 0:
                return
            await asyncio.sleep(wait)

    def forget_idle(self, older_than: float = 300.0) -> None:
        """Drop per-chat buckets not used for a while (memory stays flat)."""
        now = self._clock()
        for key in [
            k for k, b in self._buckets.items() if k[1] != "*" and now - b.updated > older_than
        ]:
            del self._buckets[key]
