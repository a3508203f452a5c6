"""Queries about contacts and their conversations."""

from __future__ import annotations

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
    conversation = await session.get(Conversation, conversation_id)
    assert conversation is not None, conversation_id
    contact = await session.get(Contact, conversation.contact_id)
    assert contact is not None, conversation.contact_id
    return conversation, contact


async def recipient_for(session: AsyncSession, contact: Contact) -> Recipient:
    """The contact as a channel sees it, with what sending-window rules need: when they
    last wrote (and that message's platform id, which a reply quotes) and how many messages
    were sent to them since."""
    last_inbound = (
        await session.execute(
            select(Message.id, Message.external_id)
            .join(Conversation, Conversation.id == Message.conversation_id)
            .where(Conversation.contact_id == contact.id, Message.direction == Direction.IN)
            .order_by(Message.id.desc())
            .limit(1)
        )
    ).first()
    last_inbound_id, last_ref = last_inbound if last_inbound is not None else (None, None)
    sent = await session.scalar(
        select(func.count())
        .select_from(Message)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(
            Conversation.contact_id == contact.id,
            Message.direction == Direction.OUT,
            Message.status == MessageStatus.SENT,
            Message.id > (last_inbound_id or 0),
        )
    )
    return Recipient(
        contact.channel,
        contact.channel_user_id,
        last_inbound_at=contact.last_seen_at,
        sent_since_inbound=int(sent or 0),
        last_inbound_ref=last_ref,
    )


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
