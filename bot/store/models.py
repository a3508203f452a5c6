"""SQLAlchemy 2 models. Times are stored in UTC and always timezone-aware."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from bot.domain.cases import Kind as CaseKind
from bot.domain.cases import Status as CaseStatus
from bot.domain.delivery import DeliveryKind, DeliveryStatus
from bot.domain.messages import ConversationMode, Direction, MessageStatus
from bot.domain.roles import Role
from bot.domain.subscriptions import SubscriptionStatus
from bot.store.types import StrEnumType, UTCDateTime


def utcnow() -> datetime:
    """The current instant, timezone-aware, for defaults and comparisons."""
    return datetime.now(UTC)


_UNREDACTED = text("redacted_at IS NULL")


def _new_sender() -> str:
    return uuid.uuid4().hex


class Base(DeclarativeBase):
    """Declarative base with the project's column types."""

    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON, datetime: UTCDateTime}


class Agency(Base):
    """A public agency (or commune/ward people's committee) that answers citizens."""

    __tablename__ = "agencies"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    locality: Mapped[str] = mapped_column(String(300), default="")
    contact: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Topic(Base):
    """A subject citizens can ask about or subscribe to (đất đai, chính quyền hai cấp...)."""

    __tablename__ = "topics"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200))


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


class Contact(Base):
    """A person on one channel (a Telegram chat, a Zalo user, a web chat session)."""

    __tablename__ = "contacts"
    __table_args__ = (
        UniqueConstraint("channel", "channel_user_id", name="uq_contact_channel_user"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    channel_user_id: Mapped[str] = mapped_column(String(128))
    display_name: Mapped[str] = mapped_column(String(200), default="")
    locale: Mapped[str] = mapped_column(String(10), default="vi")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Set when the platform says we can no longer reach this person (blocked the bot,
    # unfollowed the OA); cleared when they write again.
    unreachable_at: Mapped[datetime | None] = mapped_column(nullable=True)


class Conversation(Base):
    """The running dialogue with one contact; `mode` says who answers (bot or operator)."""

    __tablename__ = "conversations"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The engine's sender id: random, so it stays unique across databases (tests, restores)
    # and does not reveal how many conversations exist.
    engine_sender: Mapped[str] = mapped_column(String(40), unique=True, default=_new_sender)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"), index=True)
    mode: Mapped[ConversationMode] = mapped_column(
        StrEnumType(ConversationMode), default=ConversationMode.BOT
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    contact: Mapped[Contact] = relationship()


class Message(Base):
    """Every message in or out, stored before anything acts on it.

    Inbound status: pending → processed (or handed_off). Outbound: queued → sent | failed.
    A retried webhook carries the same external id and is stored once
    (unique on channel + external_id; outbound rows have no external id).
    """

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("channel", "external_id", name="uq_message_channel_external"),
        Index("ix_messages_conversation_id_id", "conversation_id", "id"),
        Index("ix_messages_status", "status"),
        Index("ix_messages_in_reply_to_id", "in_reply_to_id"),
        # The retention job finds texts to erase by age; erased rows leave the index.
        Index(
            "ix_messages_unredacted_created",
            "created_at",
            sqlite_where=_UNREDACTED,
            postgresql_where=_UNREDACTED,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"))
    direction: Mapped[Direction] = mapped_column(StrEnumType(Direction, 3))
    channel: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    kind: Mapped[str] = mapped_column(String(20), default="text")
    text: Mapped[str] = mapped_column(Text, default="")
    payload: Mapped[str | None] = mapped_column(String(512), nullable=True)
    buttons: Mapped[list[Any]] = mapped_column(default=list)
    attachments: Mapped[list[Any]] = mapped_column(
        default=list
    )  # references only (image URL, location)
    status: Mapped[MessageStatus] = mapped_column(StrEnumType(MessageStatus))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    in_reply_to_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"), nullable=True)
    apologized_at: Mapped[datetime | None] = mapped_column(nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(nullable=True)
    redacted_at: Mapped[datetime | None] = mapped_column(nullable=True)  # text erased


class User(Base):
    """An agency officer, operator or admin; API calls authenticate with a hashed token."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[Role] = mapped_column(StrEnumType(Role))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), nullable=True)
    password_hash: Mapped[str | None] = mapped_column(String(200), nullable=True)
    api_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    token_expires_at: Mapped[datetime | None] = mapped_column(nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Case(Base):
    """An explanation request or a petition, tracked until it is answered and closed.

    Personal fields hold only what the case needs and only after consent (consent_at).
    """

    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_agency_status", "agency_id", "status"),
        Index("ix_cases_due_at", "due_at"),
        Index("ix_cases_contact_id", "contact_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)
    kind: Mapped[CaseKind] = mapped_column(StrEnumType(CaseKind))
    status: Mapped[CaseStatus] = mapped_column(StrEnumType(CaseStatus))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"), nullable=True)
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    requester_name: Mapped[str] = mapped_column(String(200), default="")
    requester_contact: Mapped[str] = mapped_column(String(300), default="")
    target: Mapped[str] = mapped_column(String(300), default="")  # agency/locality concerned
    subject: Mapped[str] = mapped_column(Text, default="")  # decision or act concerned / what
    content: Mapped[str] = mapped_column(Text, default="")
    location: Mapped[str] = mapped_column(String(300), default="")
    attachments: Mapped[list[Any]] = mapped_column(default=list)
    consent_at: Mapped[datetime | None] = mapped_column(nullable=True)
    due_at: Mapped[datetime | None] = mapped_column(nullable=True)
    extensions: Mapped[int] = mapped_column(Integer, default=0)
    due_soon_notified: Mapped[bool] = mapped_column(Boolean, default=False)
    overdue_notified: Mapped[bool] = mapped_column(Boolean, default=False)
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    answer: Mapped[str] = mapped_column(Text, default="")
    refusal_reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    agency: Mapped[Agency] = relationship()


class CaseEvent(Base):
    """Audit trail: every status change (and assignment), who, when, from, to, note."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(20), default="transition")
    from_status: Mapped[str | None] = mapped_column(String(20), nullable=True)
    to_status: Mapped[str | None] = mapped_column(String(20), nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")


class Rating(Base):
    """A citizen's 1-5 rating of an answer, feeding the satisfaction index."""

    __tablename__ = "ratings"
    __table_args__ = (UniqueConstraint("case_id", name="uq_rating_case"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"), nullable=True)
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


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


class OfficerNotice(Base):
    """Something an officer must see (case due soon, overdue, assigned), shown in the console."""

    __tablename__ = "officer_notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), nullable=True)
    kind: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(nullable=True)


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
    # When to send (the explanation's publish time); planned_at is set once the
    # deliveries exist, so a scheduled broadcast is planned for the subscribers of that day.
    send_at: Mapped[datetime | None] = mapped_column(nullable=True)
    planned_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # Planning goes range by range of contact ids; contacts up to this id are planned.
    planned_upto: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
