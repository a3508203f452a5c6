"""Agencies, staff, contacts, their conversations and every message."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.domain.messages import ConversationMode, Direction, MessageStatus
from bot.domain.roles import Role
from bot.store.models.base import Base, utcnow
from bot.store.types import StrEnumType

_UNREDACTED = text("redacted_at IS NULL")
_UNREACHABLE = text("unreachable_at IS NOT NULL")


def _new_sender() -> str:
    return uuid.uuid4().hex


class Agency(Base):
    """A public agency (or commune/ward people's committee) that answers citizens."""

    __tablename__ = "agencies"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    locality: Mapped[str] = mapped_column(String(300), default="")
    contact: Mapped[str] = mapped_column(Text, default="")
    # Working hours of its operators ("07:30-11:30,13:30-17:00"); empty: the deployment's.
    office_hours: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Topic(Base):
    """A subject citizens can ask about or subscribe to (đất đai, chính quyền hai cấp...)."""

    __tablename__ = "topics"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200))


class Contact(Base):
    """A person on one channel (a Telegram chat, a Zalo user, a web chat session)."""

    __tablename__ = "contacts"
    __table_args__ = (
        UniqueConstraint("channel", "channel_user_id", name="uq_contact_channel_user"),
        # The few a broadcast plan leaves out (bot/store/broadcasts.py).
        Index(
            "ix_contacts_unreachable",
            "id",
            sqlite_where=_UNREACHABLE,
            postgresql_where=_UNREACHABLE,
        ),
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
    # Which gateway process hands this conversation to the engine, until when (a lease that
    # ends by itself when its holder dies: bot/store/leases.py).
    lease_holder: Mapped[str | None] = mapped_column(String(80), default=None)
    lease_until: Mapped[datetime | None] = mapped_column(default=None)

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
    # The operator who wrote an outbound message (None: the bot).
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)


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
    # A set-password link (its token's hash), shown once, valid until it expires or is used.
    password_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    password_token_expires_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # Console sessions started before this instant are over (password changed, logged out
    # everywhere, account disabled).
    sessions_valid_after: Mapped[datetime | None] = mapped_column(nullable=True)
    disabled_at: Mapped[datetime | None] = mapped_column(nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
