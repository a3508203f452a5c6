"""Conversation leases: which gateway process hands a conversation to the engine.

Several gateways may receive messages of one conversation; only the holder of its lease
sends them to the engine, one at a time and in order. A lease is taken, renewed and let go
with one conditional UPDATE each (two processes cannot both win it) and ends by itself at
`lease_until` when its holder dies.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.models import Conversation


async def take(
    session: AsyncSession, conversation_id: int, holder: str, now: datetime, until: datetime
) -> bool:
    """Take (or renew) the lease if it is free, expired or already this holder's; True when
    this holder has it until `until`."""
    free = or_(
        Conversation.lease_holder.is_(None),
        Conversation.lease_until < now,
        Conversation.lease_holder == holder,
    )
    result = await session.execute(
        update(Conversation)
        .where(Conversation.id == conversation_id, free)
        .values(lease_holder=holder, lease_until=until)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


async def release(session: AsyncSession, conversation_id: int, holder: str) -> None:
    """Let the lease go, if this holder still has it."""
    await session.execute(
        update(Conversation)
        .where(Conversation.id == conversation_id, Conversation.lease_holder == holder)
        .values(lease_holder=None, lease_until=None)
    )


async def holder(session: AsyncSession, conversation_id: int) -> str | None:
    """Who holds the lease now (None: nobody)."""
    return (
        await session.execute(
            select(Conversation.lease_holder).where(Conversation.id == conversation_id)
        )
    ).scalar_one_or_none()


async def take_over(
    session: AsyncSession, conversation_id: int, holder: str, dead: str, until: datetime
) -> bool:
    """Take the lease from a holder known to be dead, if it still has it."""
    result = await session.execute(
        update(Conversation)
        .where(Conversation.id == conversation_id, Conversation.lease_holder == dead)
        .values(lease_holder=holder, lease_until=until)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]
