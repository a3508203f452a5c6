"""Deferred deliveries: what the platform's rules held back (a spent quota, a message kind
the account may not send, a closed reply window) and when it goes again: at once when the
citizen writes (what is addressed to them personally), or when its quota resets."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, exists, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.delivery import PERSONAL, DeliveryStatus
from bot.store.models import Conversation
from bot.store.outbox import DELIVERIES, Claimed, take

# Spelled as the partial index ix_deliveries_deferred_contact is (a bound parameter would
# keep SQLite from using it).
IS_DEFERRED = text("deliveries.status = 'deferred'")
# What waits for one citizen personally (a broadcast waits for its quota instead).
WAITING = and_(IS_DEFERRED, DELIVERIES.c.kind.in_([k.value for k in PERSONAL]))


async def claim_waiting(
    session: AsyncSession, contact_id: int, wave: str, now: datetime, lease: timedelta
) -> list[Claimed]:
    """Take the deferred deliveries addressed to this contact personally (case updates,
    replies, operator messages), oldest first: the citizen just wrote, so they go now."""
    table = DELIVERIES
    waiting = select(table.c.id).where(table.c.contact_id == contact_id, WAITING)
    return await take(session, waiting.scalar_subquery(), DeliveryStatus.DEFERRED, wave, now, lease)


async def waiting_for(session: AsyncSession, conversation_id: int) -> int | None:
    """The conversation's contact when something deferred waits for them personally."""
    table = DELIVERIES
    contact_id = await session.scalar(
        select(Conversation.contact_id).where(
            Conversation.id == conversation_id,
            exists().where(table.c.contact_id == Conversation.contact_id, WAITING),
        )
    )
    return int(contact_id) if contact_id is not None else None


async def wake_deferred(session: AsyncSession, now: datetime) -> int:
    """Deferred deliveries whose time came (a quota that reset) are due again."""
    connection = await session.connection()
    result = await connection.execute(
        update(DELIVERIES)
        .where(
            DELIVERIES.c.status == DeliveryStatus.DEFERRED,
            DELIVERIES.c.next_attempt_at <= now,
        )
        .values(status=DeliveryStatus.PENDING, error=None)
    )
    return int(result.rowcount or 0)
