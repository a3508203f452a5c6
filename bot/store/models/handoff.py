"""Conversations handed over to operators, and the canned replies they use."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from bot.domain.handoff import HandoffReason, HandoffStatus
from bot.store.models.base import Base, utcnow
from bot.store.types import StrEnumType

_OPEN = text("status IN ('waiting', 'claimed')")


class Handoff(Base):
    """One request for a person in one conversation, from the queue to its end.

    At most one is open per conversation (a partial unique index). The claim is a lease:
    `lease_until` runs out when the operator's console stops renewing it.
    """

    __tablename__ = "handoffs"
    __table_args__ = (
        Index("ix_handoffs_agency_status", "agency_id", "status"),
        Index(
            "uq_handoffs_open_conversation",
            "conversation_id",
            unique=True,
            sqlite_where=_OPEN,
            postgresql_where=_OPEN,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    status: Mapped[HandoffStatus] = mapped_column(
        StrEnumType(HandoffStatus), default=HandoffStatus.WAITING
    )
    reason: Mapped[HandoffReason] = mapped_column(StrEnumType(HandoffReason))
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    claimed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(nullable=True)
    first_response_at: Mapped[datetime | None] = mapped_column(nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(nullable=True)
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), nullable=True)


class CannedReply(Base):
    """A prepared answer operators insert and adapt (an agency's own, or everyone's)."""

    __tablename__ = "canned_replies"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), nullable=True)
    title: Mapped[str] = mapped_column(String(120))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
