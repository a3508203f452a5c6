"""Queries about contacts (a person on one channel)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.models import Contact


async def by_channel_user(
    session: AsyncSession, channel: str, channel_user_id: str
) -> Contact | None:
    """The contact a platform knows as `channel_user_id` (unique per channel), if any."""
    return (
        await session.execute(
            select(Contact).where(
                Contact.channel == channel, Contact.channel_user_id == channel_user_id
            )
        )
    ).scalar_one_or_none()


async def add(session: AsyncSession, channel: str, channel_user_id: str) -> Contact:
    """A new contact, flushed so its id is known."""
    contact = Contact(channel=channel, channel_user_id=channel_user_id)
    session.add(contact)
    await session.flush()
    return contact
