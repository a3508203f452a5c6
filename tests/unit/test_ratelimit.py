"""Token buckets per channel and per chat, on a fake clock."""

from __future__ import annotations

from bot.domain.ratelimit import Limit, RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_overall_rate_and_burst() -> None:
    clock = Clock()
    limiter = RateLimiter({"telegram": Limit(per_second=30, per_chat_per_second=1)}, clock)
    sent = sum(limiter.delay("telegram", str(chat)) == 0 for chat in range(100))
    assert sent == 30, "one second's burst, then wait"
    wait = limiter.delay("telegram", "100")
    assert 0 < wait <= 1 / 30 + 1e-9
    clock.now += 1.0
    assert sum(limiter.delay("telegram", str(chat)) == 0 for chat in range(200, 300)) == 30


def test_one_message_per_second_per_chat() -> None:
    clock = Clock()
    limiter = RateLimiter({"telegram": Limit(per_second=30, per_chat_per_second=1)}, clock)
    assert limiter.delay("telegram", "7") == 0
    assert 0.99 <= limiter.delay("telegram", "7") <= 1.0
    clock.now += 0.5
    assert 0.49 <= limiter.delay("telegram", "7") <= 0.5
    clock.now += 0.5
    assert limiter.delay("telegram", "7") == 0


def test_unlimited_channel_and_idle_buckets_are_forgotten() -> None:
    clock = Clock()
    limiter = RateLimiter({"telegram": Limit(30, 1)}, clock)
    assert all(limiter.delay("web", "x") == 0 for _ in range(1000))
    for chat in range(20):
        limiter.delay("telegram", str(chat))
    clock.now += 600
    limiter.forget_idle()
    assert len(limiter._buckets) == 1  # only the channel-wide bucket stays
