"""Message and conversation states, in the same words for every channel and every path."""

from __future__ import annotations

from enum import StrEnum


class Direction(StrEnum):
    """Which way a stored message went."""

    IN = "in"
    OUT = "out"


class MessageStatus(StrEnum):
    """Inbound: pending → processed (or handed_off; or failed when the engine refused it
    `engine_max_attempts` times). Outbound: queued → sent | failed."""

    PENDING = "pending"  # stored, not yet handled by the engine
    PROCESSED = "processed"
    HANDED_OFF = "handed_off"  # the conversation is with an operator
    QUEUED = "queued"  # a reply stored, not yet sent
    SENT = "sent"
    FAILED = "failed"


class ConversationMode(StrEnum):
    """Who answers a conversation."""

    BOT = "bot"
    OPERATOR = "operator"
