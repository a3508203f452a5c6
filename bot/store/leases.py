"""Conversation leases: which gateway process hands a conversation to the engine.

Several gateways may receive messages of one conversation; only the holder of its lease
sends them to the engine, one at a time and in order. A lease is taken, renewed and let go
with one conditional UPDATE each (two processes cannot both win it) and ends by itself at
`lease_until` when its holder dies. Each is a statement in the caller's unit of work, so a
turn takes its lease and reads its message in one transaction.

Storing an inbound message also writes its conversation's row (`updated_at`): on
PostgreSQL that row lock orders a receipt against a holder letting go (see
bot/services/conversations.py), on SQLite every writer is serialised anyway.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from bot.store.models import Conversation


async def _set(
    session: AsyncSession, conversation_id: int, held_by: ColumnElement[bool], **values: object
) -> bool:
    """One conditional UPDATE of the conversation's lease columns: True when it applied."""
    result = await session.execute(
        update(Conversation).where(Conversation.id == conversation_id, held_by).values(**values)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


async def take_free(
    session: AsyncSession, conversation_id: int, holder: str, until: datetime
) -> bool:
    """Take (or renew) the lease only if nobody else has it, ended or not."""
    free = or_(Conversation.lease_holder.is_(None), Conversation.lease_holder == holder)
    return await _set(session, conversation_id, free, lease_holder=holder, lease_until=until)


async def renew(session: AsyncSession, conversation_id: int, holder: str, until: datetime) -> bool:
    """Extend the lease if this holder still has it."""
    mine = Conversation.lease_holder == holder
    return await _set(session, conversation_id, mine, lease_until=until)


async def release(session: AsyncSession, conversation_id: int, holder: str) -> bool:
    """Let the lease go, if this holder still has it (True: it had)."""
    mine = Conversation.lease_holder == holder
    return await _set(session, conversation_id, mine, lease_holder=None, lease_until=None)


async def current(
    session: AsyncSession, conversation_id: int
) -> tuple[str | None, datetime | None]:
    """Who holds the lease now and until when ((None, None): nobody)."""
    row = (
        await session.execute(
            select(Conversation.lease_holder, Conversation.lease_until).where(
                Conversation.id == conversation_id
            )
        )
    ).one_or_none()
    return (None, None) if row is None else (row[0], row[1])


async def take_over(
    session: AsyncSession, conversation_id: int, holder: str, dead: str, until: datetime
) -> bool:
    """Take the lease from a holder known to be dead (or whose lease ended), if it still
    has it."""
    previous = Conversation.lease_holder == dead
    return await _set(session, conversation_id, previous, lease_holder=holder, lease_until=until)
