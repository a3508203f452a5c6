"""Queries about staff accounts."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.models import User


async def by_username(session: AsyncSession, username: str) -> User | None:
    """The account with this username, if any."""
    return (
        await session.execute(select(User).where(User.username == username))
    ).scalar_one_or_none()
