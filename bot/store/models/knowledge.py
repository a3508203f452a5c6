"""Published explanations, what citizens subscribe to, broadcasts and question gaps."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.domain.subscriptions import SubscriptionStatus
from bot.store.models.base import Base, utcnow
from bot.store.models.people import Agency
from bot.store.types import StrEnumType


class Explanation(Base):
    """One version of a published policy explanation; editing adds a version."""

    __tablename__ = "explanations"
    __table_args__ = (UniqueConstraint("slug", "version", name="uq_explanation_slug_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    slug: Mapped[str] = mapped_column(String(120))
    version: Mapped[int] = mapped_column(Integer, default=1)
    is_current: Mapped[bool] = mapped_column(Boolean, default=True)
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")
    source_document: Mapped[str] = mapped_column(String(300), default="")
    source_url: Mapped[str] = mapped_column(String(500), default="")
    topics: Mapped[list[Any]] = mapped_column(default=list)
    localities: Mapped[list[Any]] = mapped_column(default=list)
    questions: Mapped[list[Any]] = mapped_column(default=list)  # typical ones it answers
    published_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    agency: Mapped[Agency] = relationship()


class Subscription(Base):
    """A contact's wish to receive explanations on a topic for a locality.

    locality: "country", "p:<province code>" or "w:<commune code>" (vietnam-provinces codes).
    status: active | paused (the platform says we cannot reach them) | cancelled.
    """

    __tablename__ = "subscriptions"
    __table_args__ = (
        UniqueConstraint("contact_id", "topic", "locality", name="uq_subscription"),
        # Place-targeted broadcasts are planned range by range of contact ids: the id ends
        # both indexes so that each range is an index range scan.
        Index("ix_subscriptions_topic_locality", "topic", "locality", "status", "contact_id"),
        Index("ix_subscriptions_topic_province", "topic", "province", "status", "contact_id"),
        # A whole-country plan merges a range of contacts with this index alone.
        Index("ix_subscriptions_contact_topic_status", "contact_id", "topic", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"), index=True)
    topic: Mapped[str] = mapped_column(String(80))
    locality: Mapped[str] = mapped_column(String(20))
    # The locality's province ("p:<code>"; "country" for a whole-country subscription), so a
    # commune subscriber also matches what targets their province, in plain SQL.
    province: Mapped[str] = mapped_column(String(20), default="country")
    status: Mapped[SubscriptionStatus] = mapped_column(
        StrEnumType(SubscriptionStatus), default=SubscriptionStatus.ACTIVE
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Broadcast(Base):
    """Sending one explanation version to the subscribers it concerns (one delivery each)."""

    __tablename__ = "broadcasts"

    id: Mapped[int] = mapped_column(primary_key=True)
    explanation_id: Mapped[int] = mapped_column(ForeignKey("explanations.id"))
    created_by: Mapped[str] = mapped_column(String(120), default="")
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    # The message every recipient gets (deliveries of a broadcast do not copy it).
    text: Mapped[str] = mapped_column(Text, default="")
    # The same message laid out for structured messages (bot.channels.Card).
    card: Mapped[dict[str, Any] | None] = mapped_column(nullable=True)
    # When to send (the explanation's publish time); planned_at is set once the
    # deliveries exist, so a scheduled broadcast is planned for the subscribers of that day.
    send_at: Mapped[datetime | None] = mapped_column(nullable=True)
    planned_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # Planning goes range by range of contact ids; contacts up to this id are planned.
    planned_upto: Mapped[int] = mapped_column(Integer, default=0)
    # Its deliveries' ids lie in (after, upto]: how they are found without an index on
    # deliveries.broadcast_id (bot/store/models/outbox.py). None until one is written.
    delivery_ids_after: Mapped[int | None] = mapped_column(Integer, nullable=True)
    delivery_ids_upto: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # The dispatcher has looked at its planned deliveries up to this id (None: none yet).
    delivery_ids_claimed: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class QuestionGap(Base):
    """A question the knowledge base could not answer, or whose answer was rated unhelpful:
    what agencies should explain next."""

    __tablename__ = "question_gaps"

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(String(20))  # unanswered | unhelpful
    explanation_slug: Mapped[str | None] = mapped_column(String(120), nullable=True)
    locality: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
