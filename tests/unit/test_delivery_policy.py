"""The one delivery policy (bot/domain/delivery.py): what a send's outcome means for a
delivery, for every kind, and what a crashed worker's rows become."""

from __future__ import annotations

import pytest

from bot.channels import DeliveryOutcome, DeliveryResult
from bot.domain.delivery import (
    MAX_ATTEMPTS,
    MAX_BACKOFF,
    REPLY_RETRY_WAIT,
    Decision,
    DeliveryKind,
    DeliveryStatus,
    SendVerdict,
    decide,
    recovered,
    retry_wait,
    send_verdict,
)

AT_LEAST_ONCE = [DeliveryKind.REPLY, DeliveryKind.CASE_UPDATE, DeliveryKind.OPERATOR]
ALL_KINDS = list(DeliveryKind)


def result(
    outcome: DeliveryOutcome, *, ambiguous: bool = False, retry_after: float | None = None
) -> DeliveryResult:
    return DeliveryResult(outcome, "reason", retry_after=retry_after, ambiguous=ambiguous)


@pytest.mark.parametrize("kind", ALL_KINDS)
@pytest.mark.parametrize("ambiguous", [False, True])
@pytest.mark.parametrize("attempts", [0, 1, MAX_ATTEMPTS])
def test_a_sent_delivery_is_sent_whatever_else(
    kind: DeliveryKind, ambiguous: bool, attempts: int
) -> None:
    decision = decide(result(DeliveryOutcome.SENT, ambiguous=ambiguous), kind, attempts)
    assert decision == Decision(DeliveryStatus.SENT), decision
    assert not decision.unreachable


@pytest.mark.parametrize("kind", ALL_KINDS)
@pytest.mark.parametrize("ambiguous", [False, True])
@pytest.mark.parametrize("attempts", [0, 1, MAX_ATTEMPTS])
def test_a_blocked_user_blocks_the_delivery_and_the_contact(
    kind: DeliveryKind, ambiguous: bool, attempts: int
) -> None:
    decision = decide(result(DeliveryOutcome.UNREACHABLE, ambiguous=ambiguous), kind, attempts)
    assert decision == Decision(DeliveryStatus.BLOCKED), decision
    assert decision.unreachable, "the contact is marked unreachable"


@pytest.mark.parametrize("kind", ALL_KINDS)
@pytest.mark.parametrize("ambiguous", [False, True])
@pytest.mark.parametrize("attempts", [0, 1, MAX_ATTEMPTS])
def test_a_refused_message_fails_at_once(
    kind: DeliveryKind, ambiguous: bool, attempts: int
) -> None:
    decision = decide(result(DeliveryOutcome.FAILED, ambiguous=ambiguous), kind, attempts)
    assert decision == Decision(DeliveryStatus.FAILED), decision
    assert not decision.unreachable


@pytest.mark.parametrize("attempts", [0, 1, MAX_ATTEMPTS - 1, MAX_ATTEMPTS])
def test_a_broadcast_that_may_have_arrived_is_never_resent(attempts: int) -> None:
    in_doubt = result(DeliveryOutcome.RETRY, ambiguous=True, retry_after=3)
    decision = decide(in_doubt, DeliveryKind.BROADCAST, attempts)
    assert decision == Decision(DeliveryStatus.UNKNOWN), decision


@pytest.mark.parametrize("kind", AT_LEAST_ONCE)
def test_other_kinds_that_may_have_arrived_are_sent_again(kind: DeliveryKind) -> None:
    decision = decide(result(DeliveryOutcome.RETRY, ambiguous=True), kind, 1)
    assert decision == Decision(DeliveryStatus.PENDING, 2.0), decision


@pytest.mark.parametrize("kind", ALL_KINDS)
@pytest.mark.parametrize("attempts", [1, 2, MAX_ATTEMPTS - 1])
def test_a_transient_failure_waits_as_the_platform_asked(kind: DeliveryKind, attempts: int) -> None:
    decision = decide(result(DeliveryOutcome.RETRY, retry_after=17), kind, attempts)
    assert decision == Decision(DeliveryStatus.PENDING, 17), decision


@pytest.mark.parametrize("kind", ALL_KINDS)
@pytest.mark.parametrize(("attempts", "wait"), [(1, 2.0), (2, 4.0), (5, 32.0), (7, 128.0)])
def test_without_retry_after_the_wait_doubles_per_attempt(
    kind: DeliveryKind, attempts: int, wait: float
) -> None:
    decision = decide(result(DeliveryOutcome.RETRY), kind, attempts)
    assert decision == Decision(DeliveryStatus.PENDING, wait), decision


@pytest.mark.parametrize("kind", ALL_KINDS)
@pytest.mark.parametrize("ambiguous", [False, True])
@pytest.mark.parametrize("attempts", [MAX_ATTEMPTS, MAX_ATTEMPTS + 1])
def test_a_transient_failure_on_the_last_attempt_is_final(
    kind: DeliveryKind, ambiguous: bool, attempts: int
) -> None:
    expected = (
        DeliveryStatus.UNKNOWN
        if ambiguous and kind is DeliveryKind.BROADCAST
        else DeliveryStatus.FAILED
    )
    decision = decide(result(DeliveryOutcome.RETRY, ambiguous=ambiguous), kind, attempts)
    assert decision == Decision(expected), decision


@pytest.mark.parametrize("ambiguous", [False, True])
def test_an_immediate_reply_the_channel_refused_for_now_goes_to_the_outbox(
    ambiguous: bool,
) -> None:
    """Attempts 0: the reply was sent at once, not by the outbox; it waits 5 s, or what
    the platform asked."""
    plain = decide(result(DeliveryOutcome.RETRY, ambiguous=ambiguous), DeliveryKind.REPLY, 0)
    assert plain == Decision(DeliveryStatus.PENDING, REPLY_RETRY_WAIT), plain
    asked = decide(
        result(DeliveryOutcome.RETRY, ambiguous=ambiguous, retry_after=1), DeliveryKind.REPLY, 0
    )
    assert asked == Decision(DeliveryStatus.PENDING, 1), asked


def test_backoff_is_capped() -> None:
    assert retry_wait(9, None) == 300.0 == MAX_BACKOFF
    assert retry_wait(30, None) == MAX_BACKOFF
    assert retry_wait(8, None) == 256.0
    assert retry_wait(3, 0) == 8.0, "a zero retry_after means: no advice"


@pytest.mark.parametrize(
    ("outcome", "ambiguous", "verdict"),
    [
        (DeliveryOutcome.SENT, False, SendVerdict.OK),
        (DeliveryOutcome.SENT, True, SendVerdict.OK),
        (DeliveryOutcome.RETRY, False, SendVerdict.SAFE),
        (DeliveryOutcome.RETRY, True, SendVerdict.DOUBT),
        (DeliveryOutcome.FAILED, False, SendVerdict.SAFE),
        (DeliveryOutcome.UNREACHABLE, False, SendVerdict.SAFE),
    ],
)
def test_the_journal_verdict_of_a_send(
    outcome: DeliveryOutcome, ambiguous: bool, verdict: SendVerdict
) -> None:
    assert send_verdict(result(outcome, ambiguous=ambiguous)) is verdict


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_recovery_follows_the_journal_where_it_knows(kind: DeliveryKind) -> None:
    assert recovered(SendVerdict.OK, kind) is DeliveryStatus.SENT
    assert recovered(SendVerdict.UNSENT, kind) is DeliveryStatus.PENDING
    assert recovered(SendVerdict.SAFE, kind) is DeliveryStatus.PENDING


def test_recovery_in_doubt_follows_the_kind() -> None:
    assert recovered(SendVerdict.DOUBT, DeliveryKind.BROADCAST) is DeliveryStatus.UNKNOWN
    for kind in AT_LEAST_ONCE:
        assert recovered(SendVerdict.DOUBT, kind) is DeliveryStatus.PENDING, kind
