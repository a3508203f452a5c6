"""Limits on public endpoints (bot/domain/throttle.py), on a fake clock."""

from __future__ import annotations

from ipaddress import ip_network

import pytest

from bot.domain.throttle import MemoryThrottle, Network, Rule, client_address, limit_key


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


RULES = {"session_per_ip": Rule(per_minute=6, burst=3), "message_per_session": Rule(60, 2)}


def test_a_burst_then_one_every_interval_and_the_wait_is_exact() -> None:
    clock = Clock()
    throttle = MemoryThrottle(RULES, clock)
    key = [("session_per_ip", "192.0.2.1")]
    assert [throttle.take_now(key) for _ in range(3)] == [0, 0, 0]
    assert throttle.take_now(key) == pytest.approx(10.0), "6 a minute: the next in 10 s"
    clock.now += 4
    assert throttle.take_now(key) == pytest.approx(6.0), "a refusal spends nothing"
    clock.now += 6
    assert throttle.take_now(key) == 0
    assert throttle.take_now(key) == pytest.approx(10.0)


def test_keys_and_rules_have_their_own_buckets() -> None:
    throttle = MemoryThrottle(RULES, Clock())
    for _ in range(3):
        throttle.take_now([("session_per_ip", "192.0.2.1")])
    assert throttle.take_now([("session_per_ip", "192.0.2.1")]) > 0
    assert throttle.take_now([("session_per_ip", "192.0.2.2")]) == 0
    assert throttle.take_now([("message_per_session", "192.0.2.1")]) == 0


def test_a_request_under_two_limits_spends_from_both_or_neither() -> None:
    clock = Clock()
    throttle = MemoryThrottle({"ip": Rule(60, 3), "session": Rule(60, 1)}, clock)
    both = [("ip", "192.0.2.1"), ("session", "s1")]
    assert throttle.take_now(both) == 0
    assert throttle.take_now(both) == pytest.approx(1.0), "the session's bucket is empty"
    assert throttle.take_now(both) == pytest.approx(1.0)
    # The refused requests took nothing from the address: two more sessions still fit.
    assert throttle.take_now([("ip", "192.0.2.1"), ("session", "s2")]) == 0
    assert throttle.take_now([("ip", "192.0.2.1"), ("session", "s3")]) == 0
    assert throttle.take_now([("ip", "192.0.2.1"), ("session", "s4")]) > 0


async def test_the_async_port_answers_as_the_policy() -> None:
    throttle = MemoryThrottle({"ip": Rule(60, 1)}, Clock())
    assert await throttle.take([("ip", "a")]) == 0
    assert await throttle.take([("ip", "a")]) == pytest.approx(1.0)


def test_buckets_full_again_are_forgotten_and_memory_is_capped() -> None:
    clock = Clock()
    throttle = MemoryThrottle({"ip": Rule(60, 5)}, clock, max_keys=100)
    throttle.take_now([("ip", "busy")])
    for n in range(50):
        throttle.take_now([("ip", f"idle-{n}")])
    assert len(throttle) == 51
    clock.now += 5  # 5 s at 1/s: every bucket is full again, as if never used
    throttle.take_now([("ip", "busy")])
    assert len(throttle) == 1, "only the bucket just used remains"
    for n in range(1000):  # a flood of new keys within a second
        throttle.take_now([("ip", f"flood-{n}")])
    assert len(throttle) == 100, "never more keys than max_keys"
    assert throttle.take_now([("ip", "flood-999")]) == 0, "the newest keys are the ones kept"


NETS = [ip_network("10.0.0.0/8"), ip_network("127.0.0.1/32"), ip_network("fd00::/8")]


@pytest.mark.parametrize(
    ("peer", "forwarded", "trusted", "client"),
    [
        ("198.51.100.4", None, [], "198.51.100.4"),
        ("198.51.100.4", "203.0.113.7", [], "198.51.100.4"),  # nothing trusted: header ignored
        ("198.51.100.4", "203.0.113.7", NETS, "198.51.100.4"),  # peer not a trusted proxy
        ("127.0.0.1", None, NETS, "127.0.0.1"),
        ("127.0.0.1", "203.0.113.7", NETS, "203.0.113.7"),
        ("127.0.0.1", "1.2.3.4, 203.0.113.7", NETS, "203.0.113.7"),  # left part is the client's
        ("127.0.0.1", "203.0.113.7, 10.1.2.3", NETS, "203.0.113.7"),  # through two proxies
        ("127.0.0.1", "10.9.9.9 ,10.1.2.3", NETS, "10.9.9.9"),  # all trusted: the first
        ("127.0.0.1", "203.0.113.7, junk", NETS, "127.0.0.1"),  # unreadable: the last we trust
        ("127.0.0.1", "", NETS, "127.0.0.1"),
        ("fd00::1", "2001:db8::5", NETS, "2001:db8::5"),
        ("::ffff:127.0.0.1", "203.0.113.7", NETS, "203.0.113.7"),  # dual-stack socket
        (None, "203.0.113.7", NETS, "unknown"),
    ],
)
def test_client_address_believes_forwarded_for_only_from_trusted_proxies(
    peer: str | None, forwarded: str | None, trusted: list[Network], client: str
) -> None:
    assert client_address(peer, forwarded, trusted) == client


def test_limit_key_groups_an_ipv6_subscriber_prefix() -> None:
    assert limit_key("2001:db8:1:2:aaaa::1") == limit_key("2001:db8:1:2:bbbb::9")
    assert limit_key("2001:db8:1:2::1") != limit_key("2001:db8:1:3::1")
    assert limit_key("2001:db8:1:2::1") == "2001:db8:1:2::/64"
    assert limit_key("::ffff:192.0.2.1") == "192.0.2.1"
    assert limit_key("192.0.2.1") == "192.0.2.1"
    assert limit_key("unknown") == "unknown"
