"""How fast the dispatcher may send: a token bucket per channel and a spacing per chat.

Platforms count what *arrives*, so the dispatcher keeps a little headroom below their
published limits: the channel-wide bucket runs at `headroom` x the limit with a burst of
2% of a second's worth, and a chat's next message waits until 1/rate after the previous
send to that chat *finished* (its arrival cannot be later than that), not after it started.
"""

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
    """Channel-wide token buckets (waited for, in order) and per-chat spacing (reserved)."""

    def __init__(
        self,
        limits: dict[str, Limit],
        clock: Callable[[], float] = time.monotonic,
        headroom: float = 0.97,
    ) -> None:
        self._limits = limits
        self._clock = clock
        self._headroom = headroom
        self._overall: dict[str, Bucket] = {}
        self._chats: dict[tuple[str, str], Bucket] = {}
        # Chats with a message reserved and not yet sent: its arrival time is unknown, so
        # no second message may be reserved for that chat until it is done.
        self._busy: set[tuple[str, str]] = set()
        self._locks: dict[str, asyncio.Lock] = {}

    def _chat_bucket(self, channel: str, chat: str) -> Bucket | None:
        limit = self._limits.get(channel)
        if limit is None:
            return None
        bucket = self._chats.get((channel, chat))
        if bucket is None:
            bucket = Bucket(limit.per_chat_per_second * self._headroom, 1.0, 1.0, self._clock())
            self._chats[(channel, chat)] = bucket
        return bucket

    def reserve_chat(self, channel: str, chat: str) -> float:
        """0 and the chat's turn is taken, or the seconds until it may be sent to."""
        bucket = self._chat_bucket(channel, chat)
        if bucket is None:
            return 0.0
        if (channel, chat) in self._busy:  # the previous message may still be waiting
            return 1.0 / bucket.rate
        wait = bucket.wait_time(self._clock())
        if wait == 0:
            bucket.take()
            self._busy.add((channel, chat))
        return wait

    def chat_done(self, channel: str, chat: str) -> None:
        """The send to `chat` has finished: the spacing to its next message starts now."""
        self._busy.discard((channel, chat))
        bucket = self._chats.get((channel, chat))
        if bucket is not None:
            bucket.tokens = min(bucket.tokens, 0.0)
            bucket.updated = self._clock()

    def release_chat(self, channel: str, chat: str) -> None:
        """A reserved message will not be sent now (held back after its reservation)."""
        self._busy.discard((channel, chat))

    def overall_delay(self, channel: str) -> float:
        """0 and a channel-wide token is taken, or the seconds until one is available."""
        limit = self._limits.get(channel)
        if limit is None:
            return 0.0
        bucket = self._overall.get(channel)
        if bucket is None:
            rate = limit.per_second * self._headroom
            burst = max(1.0, rate * 0.02)
            bucket = Bucket(rate, burst, burst, self._clock())
            self._overall[channel] = bucket
        wait = bucket.wait_time(self._clock())
        if wait == 0:
            bucket.take()
        return wait

    async def acquire_overall(self, channel: str) -> None:
        """Wait, first come first served, for a channel-wide token."""
        if channel not in self._limits:
            return
        lock = self._locks.setdefault(channel, asyncio.Lock())
        async with lock:
            wait = self.overall_delay(channel)
            while wait > 0:  # the bucket refills with time: nothing to wait for but the clock
                await asyncio.sleep(wait)
                wait = self.overall_delay(channel)

    def forget_idle(self, older_than: float = 300.0) -> None:
        """Drop per-chat buckets not used for a while (memory stays flat)."""
        now = self._clock()
        for key in [k for k, b in self._chats.items() if now - b.updated > older_than]:
            del self._chats[key]
