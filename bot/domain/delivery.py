"""Outbox deliveries: their kinds and states, and the one policy for what a send's outcome
means for a delivery (used by the dispatcher and by immediate replies alike).

Kinds differ in one rule. Broadcasts are sent at most once: a send that may have reached
the platform (a timeout, a dropped connection, a worker killed mid-send) is never repeated,
so nobody gets a policy message twice. Replies, case updates and operator messages are sent
at least once: a citizen who misses "your case was answered" is worse off than one who
reads it twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from bot.channels import Category, DeferReason, DeliveryOutcome, DeliveryResult, defer_reason
from bot.domain.quota import period

MAX_ATTEMPTS = 8  # a transient failure on the 8th attempt is final
MAX_BACKOFF = 300.0  # seconds: exponential backoff never waits longer
# An immediate reply the channel refused for now becomes a delivery due this much later
# (unless the platform said how long to wait); it has not been through the outbox yet.
REPLY_RETRY_WAIT = 5.0
IN_DOUBT = "worker stopped while sending; not resent (sent at most once)"
# A deferred delivery that nothing but the citizen's next message can release (a closed
# reply window, a message kind the agency's account may not send) waits until then.
WHEN_THEY_WRITE = datetime(9999, 12, 31, tzinfo=UTC)


class DeliveryKind(StrEnum):
    """Why a delivery exists; the kind decides whether it is sent at most or at least once."""

    REPLY = "reply"  # an immediate reply the channel could not take at once
    CASE_UPDATE = "case_update"
    BROADCAST = "broadcast"
    OPERATOR = "operator"


class DeliveryStatus(StrEnum):
    """pending → sending (claimed) → sent | failed | blocked | pending (retry later) |
    deferred (the platform's rules hold it back: quota, message kind, reply window; pending
    again when the quota resets or when the citizen writes); unknown: the worker died
    mid-send and the kind is sent at most once (broadcasts)."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    BLOCKED = "blocked"
    UNKNOWN = "unknown"
    DEFERRED = "deferred"


AT_MOST_ONCE = frozenset({DeliveryKind.BROADCAST})
# Deliveries addressed to one citizen personally: a deferred one goes out, before anything
# else, as soon as that citizen writes again (a broadcast waits for the quota instead).
PERSONAL = frozenset({DeliveryKind.REPLY, DeliveryKind.CASE_UPDATE, DeliveryKind.OPERATOR})
CATEGORIES: dict[DeliveryKind, Category] = {
    DeliveryKind.REPLY: Category.CONVERSATION,
    DeliveryKind.OPERATOR: Category.CONVERSATION,
    DeliveryKind.CASE_UPDATE: Category.TRANSACTION,
    DeliveryKind.BROADCAST: Category.PROMOTION,
}


class SendVerdict(StrEnum):
    """What the send journal knows of one delivery (bot/services/journal.py)."""

    UNSENT = "unsent"  # never left the process
    OK = "ok"  # the platform confirmed it
    SAFE = "safe"  # the platform answered: certainly not delivered
    DOUBT = "doubt"  # in flight, a timeout or a dropped connection: it may have arrived


@dataclass(frozen=True, slots=True)
class Decision:
    """What becomes of a delivery after one send: its new status and, when it is tried
    again, how many seconds later."""

    status: DeliveryStatus
    wait: float = 0.0

    @property
    def unreachable(self) -> bool:
        """The contact can no longer be messaged (blocked the bot, unfollowed the OA)."""
        return self.status is DeliveryStatus.BLOCKED


SENT = Decision(DeliveryStatus.SENT)


def retry_wait(attempts: int, retry_after: float | None) -> float:
    """Seconds before the next try: what the platform asked for, else 2^attempts (capped);
    an immediate reply not yet in the outbox (0 attempts) waits REPLY_RETRY_WAIT."""
    if retry_after:
        return retry_after
    if attempts <= 0:
        return REPLY_RETRY_WAIT
    return min(MAX_BACKOFF, 2.0**attempts)


def decide(result: DeliveryResult, kind: DeliveryKind, attempts: int) -> Decision:
    """The delivery's fate after a send that was its `attempts`-th attempt (0: an
    immediate reply, before any outbox attempt)."""
    outcome = result.outcome
    if outcome is DeliveryOutcome.SENT:
        return SENT
    if outcome is DeliveryOutcome.RETRY:
        if result.ambiguous and kind in AT_MOST_ONCE:
            return Decision(DeliveryStatus.UNKNOWN)
        if attempts < MAX_ATTEMPTS:
            return Decision(DeliveryStatus.PENDING, retry_wait(attempts, result.retry_after))
        return Decision(DeliveryStatus.FAILED)
    if outcome is DeliveryOutcome.UNREACHABLE:
        return Decision(DeliveryStatus.BLOCKED)
    if outcome is DeliveryOutcome.DEFERRED:
        return Decision(DeliveryStatus.DEFERRED)
    return Decision(DeliveryStatus.FAILED)


def deferred_until(reason: str, now: datetime) -> datetime:
    """When a deferred delivery is tried again by itself: a spent quota when it resets (the
    1st of next month, Vietnam time); anything else only when the citizen writes."""
    if defer_reason(reason) == DeferReason.QUOTA.value:
        return period(now).resets_at
    return WHEN_THEY_WRITE


def send_verdict(result: DeliveryResult) -> SendVerdict:
    """For the journal: delivered, certainly not delivered, or in doubt."""
    if result.outcome is DeliveryOutcome.SENT:
        return SendVerdict.OK
    return SendVerdict.DOUBT if result.ambiguous else SendVerdict.SAFE


def recovered(verdict: SendVerdict, kind: DeliveryKind) -> DeliveryStatus:
    """The status of a row whose worker died while holding it: confirmed → sent, never sent
    or certainly not delivered → pending; in doubt → the kind's rule (unknown for at-most-
    once kinds, pending for the others). Without a journal every row is in doubt."""
    if verdict is SendVerdict.OK:
        return DeliveryStatus.SENT
    if verdict in (SendVerdict.UNSENT, SendVerdict.SAFE) or kind not in AT_MOST_ONCE:
        return DeliveryStatus.PENDING
    return DeliveryStatus.UNKNOWN
