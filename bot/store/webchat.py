"""Queries the web chat needs: a browser's history and the replies to one message."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.models import Conversation, Message


async def messages_after(
    session: AsyncSession, contact_id: int, after: int, limit: int
) -> Sequence[Message]:
    """The contact's messages (every conversation, both directions) with an id above `after`,
    oldest first."""
    return (
        (
            await session.execute(
                select(Message)
                .join(Conversation, Conversation.id == Message.conversation_id)
                .where(Conversation.contact_id == contact_id, Message.id > after)
                .order_by(Message.id)
                .limit(limit)
            )
        )
        .scalars()
        .all()
    )


async def with_replies(session: AsyncSession, message_id: int) -> Sequence[Message]:
    """An inbound message that exists, then the replies stored for it, in order (replies
    come after what they answer, so the ids sort it)."""
    query = select(Message).where(
        or_(Message.id == message_id, Message.in_reply_to_id == message_id)
    )
    rows = (await session.execute(query.order_by(Message.id))).scalars().all()
    assert rows and rows[0].id == message_id, message_id
    return rows
