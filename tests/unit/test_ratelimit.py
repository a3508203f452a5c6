"""Channel-wide token buckets and per-chat spacing, on a fake clock."""

from __future__ import annotations

from bot.domain.ratelimit import Limit, RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_overall_rate_keeps_headroom_and_a_small_burst() -> None:
    clock = Clock()
    limiter = RateLimiter({"telegram": Limit(per_second=200, per_chat_per_second=1)}, clock)
    burst = sum(limiter.overall_delay("telegram") == 0 for _ in range(100))
    assert burst == 3, "2% of 194/s, then wait"
    wait = limiter.overall_delay("telegram")
    assert 0 < wait <= 1 / 194 + 1e-9
    taken = 0
    for _ in range(1000):  # one second in 1 ms steps
        clock.now += 0.001
        taken += limiter.overall_delay("telegram") == 0
    assert 190 <= taken <= 195, "97% of the published limit, never more"


def test_a_chat_waits_from_the_end_of_its_previous_send() -> None:
    clock = Clock()
    limiter = RateLimiter({"telegram": Limit(per_second=30, per_chat_per_second=1)}, clock)
    assert limiter.reserve_chat("telegram", "7") == 0
    clock.now += 0.3  # the send took 0.3 s
    limiter.chat_done("telegram", "7")
    wait = limiter.reserve_chat("telegram", "7")
    assert 1.0 < wait <= 1 / 0.97 + 1e-9, "spacing counts from when the send finished"
    clock.now += wait + 1e-9
    assert limiter.reserve_chat("telegram", "7") == 0
    assert limiter.reserve_chat("telegram", "8") == 0, "other chats are independent"


def test_a_chat_is_not_reserved_again_while_its_message_waits_to_be_sent() -> None:
    clock = Clock()
    limiter = RateLimiter({"zalo": Limit(per_second=10, per_chat_per_second=1)}, clock)
    assert limiter.reserve_chat("zalo", "7") == 0
    clock.now += 5.0  # the message still waits for the channel-wide bucket
    assert limiter.reserve_chat("zalo", "7") > 0, "a second message would arrive too close"
    limiter.release_chat("zalo", "7")  # held back after all (no quota): not on its way
    assert limiter.reserve_chat("zalo", "7") == 0
    limiter.chat_done("zalo", "7")
    assert limiter.reserve_chat("zalo", "7") > 0, "spacing from the end of the send"


def test_unlimited_channel_and_idle_buckets_are_forgotten() -> None:
    clock = Clock()
    limiter = RateLimiter({"telegram": Limit(30, 1)}, clock)
    assert all(limiter.reserve_chat("web", "x") == 0 for _ in range(1000))
    assert all(limiter.overall_delay("web") == 0 for _ in range(1000))
    for chat in range(20):
        limiter.reserve_chat("telegram", str(chat))
    clock.now += 600
    limiter.forget_idle()
    assert not limiter._chats
