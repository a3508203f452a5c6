"""Outbox deliveries: their kinds and states."""

from __future__ import annotations

from enum import StrEnum


class DeliveryKind(StrEnum):
    """Why a delivery exists; the kind decides whether it is sent at most or at least once."""

    REPLY = "reply"  # an immediate reply the channel could not take at once
    CASE_UPDATE = "case_update"
    BROADCAST = "broadcast"
    OPERATOR = "operator"


class DeliveryStatus(StrEnum):
    """pending → sending (claimed) → sent | failed | blocked | pending (retry later);
    unknown: the worker died mid-send and the kind is sent at most once (broadcasts)."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    BLOCKED = "blocked"
    UNKNOWN = "unknown"
