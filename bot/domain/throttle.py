"""Limits on public endpoints: who is asking, and how often they may.

Each limit is a token bucket per (rule, key), a key being a client address or a session: a
burst after a quiet spell, then `per_minute` sustained. A request under several limits spends
from all of them or from none, so a refusal by one does not eat the allowance of another.
Where the buckets live is a port (`Throttle`): this process (`MemoryThrottle`), or a shared
store when several gateways serve one site.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network
from typing import Protocol

from bot.domain.ratelimit import Bucket

Network = IPv4Network | IPv6Network
# (rule name, who): ("message_per_session", "<session id>"), ("session_per_ip", "192.0.2.1").
Key = tuple[str, str]


@dataclass(frozen=True, slots=True)
class Rule:
    """`per_minute` requests sustained, `burst` at once after a quiet spell."""

    per_minute: float
    burst: int

    @property
    def rate(self) -> float:
        """Tokens per second."""
        return self.per_minute / 60

    def new_bucket(self, now: float) -> Bucket:
        """A full bucket: what a key that was never seen (or quiet long enough) has."""
        return Bucket(self.rate, float(self.burst), float(self.burst), now)

    def full_after(self) -> float:
        """Seconds of quiet after which any bucket of this rule is full again."""
        return self.burst / self.rate


class Throttle(Protocol):
    """Where the buckets live (the seam for a shared store)."""

    async def take(self, keys: Sequence[Key]) -> float:
        """0 when every key's bucket had a token (one is spent from each), else the seconds
        until they all will (nothing spent)."""
        ...


class MemoryThrottle:
    """Buckets in this process, in least-recently-used order, at most `max_keys` of them.

    A bucket full again is the same as no bucket, so those are dropped as they come to the
    front; past `max_keys` (a flood of new addresses or sessions) the least recently used
    go first, which at worst gives such a key a fresh allowance.
    """

    def __init__(
        self,
        rules: Mapping[str, Rule],
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
    ) -> None:
        self._rules = dict(rules)
        self._clock = clock
        self._max_keys = max_keys
        self._buckets: OrderedDict[Key, Bucket] = OrderedDict()

    def __len__(self) -> int:
        return len(self._buckets)

    def take_now(self, keys: Sequence[Key]) -> float:
        """The policy itself, synchronous: see `Throttle.take`."""
        now = self._clock()
        self._forget_full(now)
        buckets = [self._bucket(key, now) for key in keys]
        wait = max((bucket.wait_time(now) for bucket in buckets), default=0.0)
        if wait == 0:
            for bucket in buckets:
                bucket.take()
        while len(self._buckets) > self._max_keys:
            self._buckets.popitem(last=False)
        return wait

    async def take(self, keys: Sequence[Key]) -> float:
        """`Throttle.take` for one process."""
        return self.take_now(keys)

    def _bucket(self, key: Key, now: float) -> Bucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._rules[key[0]].new_bucket(now)
            self._buckets[key] = bucket
        else:
            self._buckets.move_to_end(key)
        return bucket

    def _forget_full(self, now: float) -> None:
        while self._buckets:
            key, bucket = next(iter(self._buckets.items()))
            if now - bucket.updated < self._rules[key[0]].full_after():
                return
            del self._buckets[key]


def _address(text: str) -> IPv4Address | IPv6Address | None:
    """An address as a proxy writes it; an IPv4 address on a dual-stack socket as IPv4."""
    try:
        address = ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def client_address(peer: str | None, forwarded_for: str | None, trusted: Iterable[Network]) -> str:
    """Who is asking: the peer; or, when the peer is a trusted proxy, the right-most address
    of X-Forwarded-For that no trusted proxy added (left of it, anyone can write anything)."""
    networks = list(trusted)
    current = _address(peer) if peer else None
    if current is None:
        return peer or "unknown"

    def is_trusted(address: IPv4Address | IPv6Address) -> bool:
        return any(address in network for network in networks)

    for entry in reversed((forwarded_for or "").split(",") if forwarded_for else []):
        if not is_trusted(current):
            break
        hop = _address(entry)
        if hop is None:  # unreadable: the last address vouched for is the client
            break
        current = hop
    return str(current)


def limit_key(address: str) -> str:
    """The bucket an address counts against: itself, or for IPv6 its /64 (one subscriber
    usually holds a whole /64, and could otherwise change address at will)."""
    parsed = _address(address)
    if parsed is None:
        return address
    if isinstance(parsed, IPv6Address):
        return str(ip_network(f"{parsed}/64", strict=False))
    return str(parsed)
