"""Subscription states."""

from __future__ import annotations

from enum import StrEnum


class SubscriptionStatus(StrEnum):
    """active; paused while the platform says we cannot reach the contact; cancelled."""

    ACTIVE = "active"
    PAUSED = "paused"
    CANCELLED = "cancelled"
