"""The outbox of deliveries and the Zalo token row."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.domain.delivery import DeliveryKind, DeliveryStatus
from bot.store.models.base import Base, utcnow
from bot.store.types import StrEnumType


class Delivery(Base):
    """Outbox: a message to send outside an immediate reply, written in the same transaction
    as the change it reports, so it survives restarts and is sent once."""

    __tablename__ = "deliveries"
    __table_args__ = (
        Index("ix_deliveries_status_next", "status", "next_attempt_at"),
        UniqueConstraint("dedupe_key", name="uq_delivery_dedupe_key"),
        Index("uq_delivery_broadcast_contact", "broadcast_id", "contact_id", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"))
    kind: Mapped[DeliveryKind] = mapped_column(StrEnumType(DeliveryKind))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), nullable=True)
    broadcast_id: Mapped[int | None] = mapped_column(ForeignKey("broadcasts.id"), nullable=True)
    dedupe_key: Mapped[str | None] = mapped_column(String(120), nullable=True)
    text: Mapped[str] = mapped_column(Text)
    buttons: Mapped[list[Any]] = mapped_column(default=list)
    status: Mapped[DeliveryStatus] = mapped_column(
        StrEnumType(DeliveryStatus), default=DeliveryStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_until: Mapped[datetime | None] = mapped_column(nullable=True)
    # The worker holding the claim ("host:pid:nonce"), so a restarted worker on the same
    # host can tell its dead predecessor's rows from a live neighbour's.
    claimed_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
    error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(nullable=True)


class ZaloToken(Base):
    """The Zalo OA token pair (one row) and the lease that lets one process refresh it.

    The refresh token is single-use: the new pair is written in one UPDATE, and only by the
    holder of the lease, which outlives the HTTP timeout of the refresh call.
    """

    __tablename__ = "zalo_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    access_token: Mapped[str] = mapped_column(Text, default="")
    refresh_token: Mapped[str] = mapped_column(Text, default="")
    expires_at: Mapped[datetime | None] = mapped_column(nullable=True)
    refreshed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(nullable=True)
    lease_holder: Mapped[str | None] = mapped_column(String(80), nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    last_error_at: Mapped[datetime | None] = mapped_column(nullable=True)
