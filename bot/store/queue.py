"""What the outbox has to send: claiming the next wave, and the counts /healthz shows.

Two kinds of due row. Replies, case updates, retries and everything a claim has touched
have a due time (`next_attempt_at`) and are found by the dispatcher's index on (status,
due time), which holds only rows with one. A broadcast's planned rows have none: a plan of
a million rows would spend a quarter of its time entering that index (docs/benchmarks.md).
They are found instead in the range of ids their plan recorded on the broadcast
(`delivery_ids_after/upto`), walked by a cursor (`delivery_ids_claimed`) that a claim moves
under the broadcast row's lock in its own transaction: a claim rolled back moves nothing.
A planned row gets its due time when first claimed, and is an indexed row from then on.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from bot.domain.delivery import DeliveryStatus
from bot.store.models import Broadcast, Delivery
from bot.store.outbox import DELIVERIES, HAS_DUE_TIME, Claimed, take

# Where a broadcast's planned rows not yet looked at begin (exclusive).
CLAIMED_UPTO = func.coalesce(Broadcast.delivery_ids_claimed, Broadcast.delivery_ids_after)


async def claim(
    session: AsyncSession,
    now: datetime,
    wave: str,
    batch: int,
    lease: timedelta,
    skip_locked: bool,
) -> list[Claimed]:
    """Take up to `batch` due rows for `wave`: those with a due time first, oldest first, in
    one UPDATE ... RETURNING (PostgreSQL: locked with SKIP LOCKED, so workers never wait for
    each other); the rest of the wave from a broadcast's planned rows."""
    due = (
        select(Delivery.id)
        .where(Delivery.status == DeliveryStatus.PENDING, Delivery.next_attempt_at <= now)
        .order_by(Delivery.id)
        .limit(batch)
    )
    if skip_locked:
        due = due.with_for_update(skip_locked=True)
    claimed = await take(session, due.scalar_subquery(), DeliveryStatus.PENDING, wave, now, lease)
    if len(claimed) < batch:
        claimed += await claim_planned(session, now, wave, batch - len(claimed), lease, skip_locked)
    return claimed


async def claim_planned(
    session: AsyncSession,
    now: datetime,
    wave: str,
    batch: int,
    lease: timedelta,
    lock: bool,
) -> list[Claimed]:
    """Up to `batch` planned rows of the oldest broadcast that has some left, in id order;
    its cursor moves past every row looked at. `lock` (PostgreSQL): the broadcast's row is
    locked, so a worker claiming from it meanwhile waits for this claim's transaction (a
    wave's claim, not its sending) and then takes the rows after these."""
    left = select(Broadcast.id, CLAIMED_UPTO, Broadcast.delivery_ids_upto).where(
        Broadcast.delivery_ids_upto > CLAIMED_UPTO
    )
    if lock:
        left = left.with_for_update()
    found = (await session.execute(left.order_by(Broadcast.id).limit(1))).first()
    if found is None:
        return []
    broadcast_id, after, upto = found
    rows = (
        select(DELIVERIES.c.id)
        .where(DELIVERIES.c.id > after, DELIVERIES.c.id <= upto, *_planned(broadcast_id))
        .order_by(DELIVERIES.c.id)
        .limit(batch)
    )
    if lock:  # wait for whoever changes one of them: it is looked at once only
        rows = rows.with_for_update()
    ids = list((await session.execute(rows)).scalars())
    # Fewer than asked: every planned row up to `upto` has been looked at.
    reached = ids[-1] if len(ids) == batch else upto
    await session.execute(
        update(Broadcast).where(Broadcast.id == broadcast_id).values(delivery_ids_claimed=reached)
    )
    return await take(session, ids, DeliveryStatus.PENDING, wave, now, lease) if ids else []


def _planned(broadcast_id: Any) -> tuple[ColumnElement[bool], ...]:
    """A broadcast's planned rows (an id, or the column of a joined broadcast)."""
    return (
        DELIVERIES.c.broadcast_id == broadcast_id,
        DELIVERIES.c.status == DeliveryStatus.PENDING,
        DELIVERIES.c.next_attempt_at.is_(None),
    )


async def planned_waiting(session: AsyncSession) -> tuple[int, datetime | None]:
    """Planned rows no claim has looked at yet, and when the oldest was planned."""
    count, oldest = (
        await session.execute(
            select(func.count(), func.min(DELIVERIES.c.created_at))
            .select_from(DELIVERIES)
            .join(
                Broadcast,
                and_(
                    DELIVERIES.c.id > CLAIMED_UPTO,
                    DELIVERIES.c.id <= Broadcast.delivery_ids_upto,
                    *_planned(Broadcast.id),
                ),
            )
            .where(Broadcast.delivery_ids_upto > CLAIMED_UPTO)
        )
    ).one()
    return int(count or 0), oldest


async def status_counts(session: AsyncSession, now: datetime) -> dict[str, Any]:
    """What is due (planned broadcast rows included) and how long the oldest has waited,
    what is being sent, what is in doubt, what waits for a quota or for the citizen."""
    due, oldest = (
        await session.execute(
            select(func.count(), func.min(Delivery.next_attempt_at)).where(
                Delivery.status == DeliveryStatus.PENDING, Delivery.next_attempt_at <= now
            )
        )
    ).one()
    planned, oldest_planned = await planned_waiting(session)
    oldest = min((t for t in (oldest, oldest_planned) if t is not None), default=None)
    rows = await session.execute(
        select(Delivery.status, func.count())
        .where(
            Delivery.status.in_(
                [DeliveryStatus.SENDING, DeliveryStatus.UNKNOWN, DeliveryStatus.DEFERRED]
            ),
            HAS_DUE_TIME,
        )
        .group_by(Delivery.status)
    )
    by_status = {str(status): int(n) for status, n in rows.all()}
    return {
        "due": int(due or 0) + planned,
        "oldest_due_seconds": round((now - oldest).total_seconds(), 1) if oldest else 0.0,
        "sending": int(by_status.get(DeliveryStatus.SENDING, 0)),
        "unknown": int(by_status.get(DeliveryStatus.UNKNOWN, 0)),
        # Held back by a platform's rules (quota, message kind, reply window).
        "deferred": int(by_status.get(DeliveryStatus.DEFERRED, 0)),
    }
