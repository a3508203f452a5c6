"""The metrics port: what the core counts where it happens (messages in and out, engine turns,
outbox outcomes), defined in the core and implemented at the edge (`bot/web/metrics.py`,
Prometheus). Services and the engine client take a `Metrics` and default to `NO_METRICS`, so
a core built without the web app (the CLI, unit tests) counts nothing and needs nothing.

Every label is from a small fixed set (channel names, outcomes, kinds, statuses): never an
id, a phone number or a text, so nothing personal reaches the metrics.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol

from bot.channels import DeliveryOutcome
from bot.domain.delivery import DeliveryKind, DeliveryStatus


class Inbound(StrEnum):
    """What became of one inbound message."""

    STORED = "stored"  # new: stored, and will be answered
    DUPLICATE = "duplicate"  # a platform's retry of one already stored
    REFUSED = "refused"  # answered with an error, not stored (signature, malformed, limit)


class EngineOutcome(StrEnum):
    """How one engine turn ended (the names of bot.errors' engine errors)."""

    ANSWERED = "answered"
    REFUSED = "refused"  # EngineRefused: the engine answered this message with an error
    UNAVAILABLE = "unavailable"  # EngineUnavailable: no answer (down, dropped, too slow)


class Metrics(Protocol):
    """Counts events as they happen; never raises, never blocks."""

    def inbound(self, channel: str, outcome: Inbound) -> None:
        """One inbound message (or request refused) on `channel`."""
        ...

    def outbound(self, channel: str, outcome: DeliveryOutcome) -> None:
        """One outbound message sent (or not) to a platform: an immediate reply or an
        outbox delivery; a web chat reply counts as sent when stored (the page polls)."""
        ...

    def delivery(self, kind: DeliveryKind, status: DeliveryStatus) -> None:
        """What the delivery policy made of one outbox send (sent, retry later as pending,
        failed, blocked, unknown, deferred)."""
        ...

    def engine_turn(self, seconds: float, outcome: EngineOutcome) -> None:
        """One call to the engine's REST channel and how long it took."""
        ...


class NoMetrics:
    """Counts nothing (the default where no app wires a real one)."""

    def inbound(self, channel: str, outcome: Inbound) -> None:
        """Nothing."""

    def outbound(self, channel: str, outcome: DeliveryOutcome) -> None:
        """Nothing."""

    def delivery(self, kind: DeliveryKind, status: DeliveryStatus) -> None:
        """Nothing."""

    def engine_turn(self, seconds: float, outcome: EngineOutcome) -> None:
        """Nothing."""


NO_METRICS: Metrics = NoMetrics()
