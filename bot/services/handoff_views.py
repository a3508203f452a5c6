"""What the console and the API show of a handed-over conversation: the queue entry with
its timings, and the transcript's lines."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.domain.handoff import HandoffReason, HandoffStatus
from bot.domain.messages import Direction, MessageStatus
from bot.store.models import Message


@dataclass(frozen=True, slots=True)
class HandoffView:
    """One handed-over conversation as the queue and the console show it."""

    id: int
    status: HandoffStatus
    reason: HandoffReason
    agency_id: int
    conversation_id: int
    channel: str
    citizen: str  # the name the channel gave, as typed (escape it when showing it)
    requested_at: datetime
    claimed_by_id: int | None
    claimed_by: str | None
    claimed_at: datetime | None
    lease_until: datetime | None
    first_response_at: datetime | None
    ended_at: datetime | None
    case_code: str | None
    asked_in_id: int | None
    last_text: str = ""

    def as_json(self) -> dict[str, Any]:
        """The API's shape: times in ISO 8601, waits and handling times in seconds."""
        when = {
            "requested_at": self.requested_at,
            "claimed_at": self.claimed_at,
            "lease_until": self.lease_until,
            "first_response_at": self.first_response_at,
            "ended_at": self.ended_at,
        }
        return {
            "id": self.id,
            "status": self.status.value,
            "reason": self.reason.value,
            "channel": self.channel,
            "citizen": self.citizen,
            "claimed_by": self.claimed_by,
            "case_code": self.case_code,
            "last_text": self.last_text,
            **{k: v.isoformat() if v else None for k, v in when.items()},
            "first_response_s": _seconds(self.requested_at, self.first_response_at),
            "handling_s": _seconds(self.claimed_at, self.ended_at),
        }


@dataclass(frozen=True, slots=True)
class Line:
    """One message of the transcript: who said it (citizen, bot, or an operator by name)."""

    id: int
    at: datetime
    direction: Direction
    author: str
    text: str
    kind: str
    status: MessageStatus
    attachments: list[Any]
    intent: str | None = None  # what the bot understood (filled from the engine's tracker)

    def as_json(self) -> dict[str, Any]:
        """The API's shape."""
        return {
            "id": self.id,
            "at": self.at.isoformat(),
            "direction": self.direction.value,
            "author": self.author,
            "text": self.text,
            "kind": self.kind,
            "status": self.status.value,
            "attachments": self.attachments,
            "intent": self.intent,
        }


def _seconds(start: datetime | None, end: datetime | None) -> int | None:
    return None if start is None or end is None else int((end - start).total_seconds())


def view(row: Any) -> HandoffView:
    """A row of `bot.store.handoffs.queue` / `one` as the console and the API show it."""
    handoff, contact, holder, case_code, last_said = row
    return HandoffView(
        id=handoff.id,
        status=handoff.status,
        reason=handoff.reason,
        agency_id=handoff.agency_id,
        conversation_id=handoff.conversation_id,
        channel=contact.channel,
        citizen=contact.display_name,
        requested_at=handoff.requested_at,
        claimed_by_id=handoff.claimed_by_id,
        claimed_by=holder,
        claimed_at=handoff.claimed_at,
        lease_until=handoff.lease_until,
        first_response_at=handoff.first_response_at,
        ended_at=handoff.ended_at,
        case_code=case_code,
        asked_in_id=handoff.asked_in_id,
        last_text=last_said or "",
    )


def author(message: Message, operator: str | None) -> str:
    """Who wrote a message: "citizen", "bot", or "operator:<name>"."""
    if message.direction is Direction.IN:
        return "citizen"
    return f"operator:{operator}" if operator is not None else "bot"


def case_draft(lines: list[Line], asked_in: int | None) -> dict[str, Any]:
    """What a case opened from the conversation starts with: the citizen's words after they
    asked for a person (or, if none, their last ones) and what they attached."""
    citizen = [line for line in lines if line.direction is Direction.IN]
    said = [line for line in citizen if asked_in is None or line.id > asked_in] or citizen[-3:]
    texts = [line.text.strip() for line in said if line.text.strip()]
    return {
        "kind": "petition",
        "content": "\n".join(texts),
        "attachments": [item for line in said for item in line.attachments],
    }
