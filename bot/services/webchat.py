"""The web chat's use cases: anonymous sessions, a browser's history, a message's replies.

A session id is a random bearer token the browser keeps; it is the web contact's
channel user id, so the same browser finds its history after a reload.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.channels import OutboundMessage
from bot.domain.messages import Direction, MessageStatus
from bot.store import contacts, webchat
from bot.store.db import Database
from bot.store.models import Conversation, Message

CHANNEL = "web"
HISTORY_LIMIT = 500  # one page of history per request


@dataclass(frozen=True, slots=True)
class WebContact:
    """The contact behind a session id."""

    id: int
    session_id: str


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """A stored message as the chat page shows it."""

    id: int
    direction: Direction
    text: str
    buttons: list[Any]
    created_at: datetime


def _chat_message(row: Message) -> ChatMessage:
    return ChatMessage(row.id, row.direction, row.text, row.buttons or [], row.created_at)


async def start_session(db: Database, greeting: OutboundMessage | None = None) -> str:
    """A new anonymous contact and its conversation, greeted in its history (a stored, sent
    message: the page shows it on first open and never again); returns the session id (its
    bearer token: 24 random bytes)."""
    session_id = secrets.token_urlsafe(24)
    async with db.session() as session:
        contact = await contacts.add_contact(session, CHANNEL, session_id)
        conversation = Conversation(contact_id=contact.id)
        session.add(conversation)
        if greeting is not None:
            await session.flush()
            session.add(
                Message(
                    conversation_id=conversation.id,
                    direction=Direction.OUT,
                    channel=CHANNEL,
                    kind="greeting",
                    text=greeting.text,
                    buttons=[{"title": b.title, "payload": b.payload} for b in greeting.buttons],
                    status=MessageStatus.SENT,  # the web chat delivers what is stored
                )
            )
    return session_id


async def contact_for(db: Database, session_id: str) -> WebContact | None:
    """The contact of a session id, or None when no browser was given it."""
    async with db.session(read_only=True) as session:
        contact = await contacts.find_contact(session, CHANNEL, session_id)
    return None if contact is None else WebContact(contact.id, contact.channel_user_id)


async def history(db: Database, contact_id: int, after: int = 0) -> list[ChatMessage]:
    """The contact's messages after a message id (0 for all), oldest first, one page."""
    async with db.session(read_only=True) as session:
        rows = await webchat.messages_after(session, contact_id, after, HISTORY_LIMIT)
        return [_chat_message(row) for row in rows]


async def with_replies(db: Database, message_id: int) -> tuple[ChatMessage, list[ChatMessage]]:
    """An inbound message and the replies stored for it so far."""
    async with db.session(read_only=True) as session:
        inbound, *replies = await webchat.with_replies(session, message_id)
        return _chat_message(inbound), [_chat_message(row) for row in replies]
