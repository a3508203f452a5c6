"""Queries about contacts and their conversations."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import replace
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.channels import Recipient
from bot.domain.messages import Direction, MessageStatus
from bot.store.models import Contact, Conversation, Message


async def find_contact(session: AsyncSession, channel: str, channel_user_id: str) -> Contact | None:
    """The contact a channel knows by this user id, if they wrote or subscribed before."""
    result = await session.execute(
        select(Contact).where(
            Contact.channel == channel, Contact.channel_user_id == channel_user_id
        )
    )
    return result.scalar_one_or_none()


async def add_contact(
    session: AsyncSession,
    channel: str,
    channel_user_id: str,
    display_name: str = "",
    locale: str = "vi",
) -> Contact:
    """A new contact (the sender of a first message, a follower, a web chat session),
    flushed so its id is known."""
    contact = Contact(
        channel=channel,
        channel_user_id=channel_user_id,
        display_name=display_name[:200],
        locale=locale or "vi",
    )
    session.add(contact)
    await session.flush()
    return contact


async def current_conversation(session: AsyncSession, contact_id: int) -> Conversation:
    """The contact's current conversation (the newest one), started if they have none."""
    conversation = (
        await session.execute(
            select(Conversation)
            .where(Conversation.contact_id == contact_id)
            .order_by(Conversation.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    if conversation is None:
        conversation = Conversation(contact_id=contact_id)
        session.add(conversation)
        await session.flush()
    return conversation


async def conversation_with_contact(
    session: AsyncSession, conversation_id: int
) -> tuple[Conversation, Contact]:
    """A conversation that exists and its contact (both loaded into the session)."""
    row = (
        await session.execute(
            select(Conversation, Contact)
            .join(Contact, Contact.id == Conversation.contact_id)
            .where(Conversation.id == conversation_id)
        )
    ).one_or_none()
    assert row is not None, conversation_id
    return row[0], row[1]


async def recipient_for(
    session: AsyncSession, contact: Contact, window_channels: Collection[str] | None = None
) -> Recipient:
    """The contact as a channel sees it, with what sending-window rules need when its
    channel has a reply window (see `recipients`)."""
    if window_channels is not None and contact.channel not in window_channels:
        return Recipient(contact.channel, contact.channel_user_id)  # nothing more to read
    return (await recipients(session, [contact.id], window_channels))[contact.id]


async def recipients(
    session: AsyncSession,
    contact_ids: Sequence[int],
    window_channels: Collection[str] | None = None,
    active_since: datetime | None = None,
) -> dict[int, Recipient]:
    """Contacts as channels see them, in a few set-based queries (the dispatcher's hot
    path), with what reply-window rules need for contacts of `window_channels` (None: every
    contact): when they last wrote, that message's platform id (a reply quotes it) and how
    many messages were sent to them since; details only for contacts seen since
    `active_since` (the others are outside any window anyway)."""
    rows = (
        await session.execute(
            select(
                Contact.id, Contact.channel, Contact.channel_user_id, Contact.last_seen_at
            ).where(Contact.id.in_(contact_ids))
        )
    ).all()
    windowed = {
        cid for cid, channel, _, _ in rows if window_channels is None or channel in window_channels
    }
    found = {
        cid: Recipient(channel, user_id, last_inbound_at=seen if cid in windowed else None)
        for cid, channel, user_id, seen in rows
    }
    active = [
        cid
        for cid, _, _, seen in rows
        if cid in windowed and (active_since is None or seen >= active_since)
    ]
    if not active:
        return found
    last_in = (
        select(Conversation.contact_id, func.max(Message.id).label("last_id"))
        .join(Message, Message.conversation_id == Conversation.id)
        .where(Conversation.contact_id.in_(active), Message.direction == Direction.IN)
        .group_by(Conversation.contact_id)
        .subquery()
    )
    refs = dict(
        (
            await session.execute(
                select(last_in.c.contact_id, Message.external_id).join(
                    Message, Message.id == last_in.c.last_id
                )
            )
        )
        .tuples()
        .all()
    )
    since = func.coalesce(last_in.c.last_id, 0)
    sent = dict(
        (
            await session.execute(
                select(Conversation.contact_id, func.count(Message.id))
                .join(Message, Message.conversation_id == Conversation.id)
                .outerjoin(last_in, last_in.c.contact_id == Conversation.contact_id)
                .where(
                    Conversation.contact_id.in_(active),
                    Message.direction == Direction.OUT,
                    Message.status == MessageStatus.SENT,
                    Message.id > since,
                )
                .group_by(Conversation.contact_id)
            )
        )
        .tuples()
        .all()
    )
    for cid in active:
        found[cid] = replace(
            found[cid], sent_since_inbound=int(sent.get(cid, 0)), last_inbound_ref=refs.get(cid)
        )
    return found


async def contact_id_for_sender(session: AsyncSession, engine_sender: str) -> int | None:
    """The contact of the conversation the engine knows by this sender id, if any."""
    result = await session.execute(
        select(Conversation.contact_id).where(Conversation.engine_sender == engine_sender)
    )
    return result.scalar_one_or_none()


async def conversation_for_sender(session: AsyncSession, engine_sender: str) -> Conversation | None:
    """The conversation the engine knows by this sender id, if the gateway gave it out."""
    result = await session.execute(
        select(Conversation).where(Conversation.engine_sender == engine_sender)
    )
    return result.scalar_one_or_none()
