"""Queries about stored messages: finding one again, and the inbound messages that wait for
the engine (`pending`), oldest first."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from bot.channels import BUTTON_REF, InboundMessage
from bot.domain.messages import Direction, MessageStatus
from bot.store.models import Message

MAX_ID = 2**31 - 1  # ids are INTEGER columns


def _pending_inbound() -> ColumnElement[bool]:
    """Inbound messages stored and not yet handled by the engine (nor handed off)."""
    return and_(Message.direction == Direction.IN, Message.status == MessageStatus.PENDING)


async def find_by_external_id(
    session: AsyncSession, channel: str, external_id: str
) -> Message | None:
    """The message a channel already delivered under this id (a retried webhook)."""
    result = await session.execute(
        select(Message).where(Message.channel == channel, Message.external_id == external_id)
    )
    return result.scalar_one_or_none()


async def add_inbound(
    session: AsyncSession, conversation_id: int, inbound: InboundMessage
) -> Message:
    """Store an inbound message, `pending` until the engine has handled it (flushed: the
    unique (channel, external id) is checked here)."""
    message = Message(
        conversation_id=conversation_id,
        direction=Direction.IN,
        channel=inbound.channel,
        external_id=inbound.external_id,
        text=inbound.text,
        payload=inbound.payload,
        attachments=[a.as_json() for a in inbound.attachments],
        status=MessageStatus.PENDING,
    )
    session.add(message)
    await session.flush()
    return message


async def next_pending(session: AsyncSession, conversation_id: int) -> Message | None:
    """The conversation's oldest message that waits for the engine."""
    result = await session.execute(
        select(Message)
        .where(Message.conversation_id == conversation_id, _pending_inbound())
        .order_by(Message.id)
        .limit(1)
    )
    return result.scalar_one_or_none()


async def mark_processed(session: AsyncSession, message_id: int, when: datetime) -> None:
    """The engine has handled this inbound message."""
    await session.execute(
        update(Message)
        .where(Message.id == message_id)
        .values(status=MessageStatus.PROCESSED, processed_at=when)
    )


async def pending_unacknowledged(session: AsyncSession, conversation_id: int) -> Sequence[Message]:
    """The conversation's waiting messages that got no apology yet, oldest first."""
    result = await session.execute(
        select(Message)
        .where(
            Message.conversation_id == conversation_id,
            _pending_inbound(),
            Message.apologized_at.is_(None),
        )
        .order_by(Message.id)
    )
    return result.scalars().all()


async def conversations_with_pending(
    session: AsyncSession, stored_before: datetime | None = None
) -> Sequence[int]:
    """Conversations that have messages waiting for the engine; with `stored_before`, only
    messages already tried (refused, or waiting out an engine that was down) or stored before
    then: a fresh one is the gateway's that received it."""
    waiting = _pending_inbound()
    if stored_before is not None:
        tried = or_(Message.attempts > 0, Message.apologized_at.is_not(None))
        waiting = and_(waiting, or_(tried, Message.created_at < stored_before))
    result = await session.execute(select(Message.conversation_id).where(waiting).distinct())
    return result.scalars().all()


async def resolve_button_ref(
    session: AsyncSession, payload: str | None, conversation_id: int
) -> str | None:
    """The real payload behind a button_ref (channels with short button data), else as is;
    None when the referenced button no longer exists or was not sent in this conversation
    (message ids are easy to guess: another citizen's buttons are expired buttons here)."""
    if payload is None:
        return None
    match = BUTTON_REF.match(payload)
    if match is None:
        return payload
    message_id, index = int(match.group(1)), int(match.group(2))
    if message_id > MAX_ID:  # typed by hand: no such row, and out of the column's range
        return None
    row = await session.get(Message, message_id)
    if (
        row is None
        or row.conversation_id != conversation_id
        or row.direction is not Direction.OUT
        or index >= len(row.buttons or [])
    ):
        return None
    return str(row.buttons[index]["payload"])
