"""The outbox of deliveries and the Zalo token row."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from bot.domain.delivery import DeliveryKind, DeliveryStatus
from bot.store.models.base import Base, utcnow
from bot.store.types import StrEnumType

_DEFERRED = text("status = 'deferred'")
_WITH_EXTERNAL_ID = text("external_id IS NOT NULL")
_OF_A_CASE = text("case_id IS NOT NULL")
_WITH_DEDUPE_KEY = text("dedupe_key IS NOT NULL")
_HAS_DUE_TIME = text("next_attempt_at IS NOT NULL")


class Delivery(Base):
    """Outbox: a message to send outside an immediate reply, written in the same transaction
    as the change it reports, so it survives restarts and is sent once.

    Its ids of a contact, case, broadcast and message are not foreign keys: on PostgreSQL a
    foreign key is a trigger fired for every inserted row, which made a million-row
    broadcast plan several times slower than writing the rows. Every writer takes them from
    rows it has just read or written in the same transaction, and nothing deletes contacts,
    cases, broadcasts or messages (privacy erasure redacts; tests/unit/test_no_dangling.py
    keeps it so, and tests/integration/test_privacy.py checks that erasure leaves no
    delivery dangling).

    Nor is a broadcast's id indexed here, for the same reason (each index entry is a
    quarter of a plan's time): the planner records on the broadcast the range of ids its
    deliveries were written in (Broadcast.delivery_ids_after/upto), and what looks for
    them reads that range of the primary key. That needs the ids in the order they were
    handed out: the sequence must stay uncached (PostgreSQL's default). Planned rows have
    no due time, so they stay out of the dispatcher's index too (bot/store/queue.py).
    """

    __tablename__ = "deliveries"
    __table_args__ = (
        # The dispatcher's: rows with a due time (planned broadcast rows have none until
        # claimed, bot/store/queue.py; a query by status names HAS_DUE_TIME to use it).
        Index(
            "ix_deliveries_status_next",
            "status",
            "next_attempt_at",
            sqlite_where=_HAS_DUE_TIME,
            postgresql_where=_HAS_DUE_TIME,
        ),
        # Only replies and case updates have a key: planned broadcast rows stay out.
        Index(
            "uq_delivery_dedupe_key",
            "dedupe_key",
            unique=True,
            sqlite_where=_WITH_DEDUPE_KEY,
            postgresql_where=_WITH_DEDUPE_KEY,
        ),
        # What waits for a citizen's next message (few rows: the planner never writes here).
        Index(
            "ix_deliveries_deferred_contact",
            "contact_id",
            sqlite_where=_DEFERRED,
            postgresql_where=_DEFERRED,
        ),
        # A case's updates to the citizen, for its page (broadcast rows stay out).
        Index(
            "ix_deliveries_case", "case_id", sqlite_where=_OF_A_CASE, postgresql_where=_OF_A_CASE
        ),
        # Receipts name the platform's message id.
        Index(
            "ix_deliveries_external_id",
            "external_id",
            sqlite_where=_WITH_EXTERNAL_ID,
            postgresql_where=_WITH_EXTERNAL_ID,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(Integer)
    kind: Mapped[DeliveryKind] = mapped_column(StrEnumType(DeliveryKind))
    case_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    broadcast_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    dedupe_key: Mapped[str | None] = mapped_column(String(120), nullable=True)
    text: Mapped[str] = mapped_column(Text)
    buttons: Mapped[list[Any]] = mapped_column(default=list)
    # The message laid out for platforms with structured messages (bot.channels.Card).
    card: Mapped[dict[str, Any] | None] = mapped_column(nullable=True)
    status: Mapped[DeliveryStatus] = mapped_column(
        StrEnumType(DeliveryStatus), default=DeliveryStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # None only for a broadcast's planned rows, until first claimed (bot/store/queue.py).
    next_attempt_at: Mapped[datetime | None] = mapped_column(default=utcnow, nullable=True)
    claimed_until: Mapped[datetime | None] = mapped_column(nullable=True)
    # The worker holding the claim ("host:pid:nonce"), so a restarted worker on the same
    # host can tell its dead predecessor's rows from a live neighbour's.
    claimed_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
    error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    message_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # The platform's id of the sent message, kept where the platform sends receipts (Zalo),
    # and when the citizen's phone received it and when they saw it.
    external_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # The monthly quota a send of this row drew on (bot/store/quotas.py): set with the unit
    # when the wave takes it, cleared when an unsent row's unit is settled, so that a worker
    # killed in between leaves rows whose units recovery can give back.
    quota_pool: Mapped[str | None] = mapped_column(String(40), nullable=True)
    received_at: Mapped[datetime | None] = mapped_column(nullable=True)
    seen_at: Mapped[datetime | None] = mapped_column(nullable=True)


class PlatformQuota(Base):
    """How much of a monthly message quota is used (a Zalo OA's proactive messages), one
    row per pool and month, counted by conditional UPDATEs so processes share it."""

    __tablename__ = "platform_quotas"

    pool: Mapped[str] = mapped_column(String(40), primary_key=True)
    period: Mapped[str] = mapped_column(String(7), primary_key=True)  # "2026-11"
    used: Mapped[int] = mapped_column(Integer, default=0)
    # What the last UPDATE granted (computed in that UPDATE, from the row it locked).
    granted: Mapped[int] = mapped_column(Integer, default=0)


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
