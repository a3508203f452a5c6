"""Queries about broadcasts: the planning cursor, the one INSERT ... SELECT that writes a
range of deliveries, and the delivery report's aggregates.

The planner (bot/services/broadcasts.py) owns the transactions; every statement here runs in
the session it is given.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import (
    JSON,
    Integer,
    String,
    and_,
    exists,
    false,
    func,
    insert,
    literal,
    or_,
    select,
    union,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from bot.domain.delivery import DeliveryKind, DeliveryStatus
from bot.domain.localities import COUNTRY
from bot.domain.subscriptions import SubscriptionStatus
from bot.store.models import (
    Broadcast,
    Contact,
    Delivery,
    Explanation,
    Subscription,
    utcnow,
)
from bot.store.types import UTCDateTime

# --- planning ------------------------------------------------------------------------------


async def due_for_planning(
    session: AsyncSession, now: datetime, resume_after: timedelta
) -> list[int]:
    """Unplanned broadcasts whose time has come: scheduled ones (sent later than created)
    and plans untouched for `resume_after` (cut short by a crash), oldest first."""
    due = await session.execute(
        select(Broadcast.id)
        .where(
            Broadcast.planned_at.is_(None),
            Broadcast.send_at <= now,
            or_(
                Broadcast.send_at > Broadcast.created_at,
                Broadcast.created_at < now - resume_after,
            ),
        )
        .order_by(Broadcast.id)
    )
    return list(due.scalars())


async def last_contact_id(session: AsyncSession) -> int:
    """The highest contact id (0 without contacts): where a plan's ranges end."""
    return int(await session.scalar(select(func.coalesce(func.max(Contact.id), 0))) or 0)


async def sent_before(session: AsyncSession, explanation_id: int, broadcast_id: int) -> bool:
    """Whether an earlier broadcast of the same version exists (this one is then a resend)."""
    return bool(
        await session.scalar(
            select(
                exists().where(
                    Broadcast.explanation_id == explanation_id, Broadcast.id < broadcast_id
                )
            )
        )
    )


async def take_range(session: AsyncSession, broadcast_id: int, cursor: int, upto: int) -> bool:
    """Move the planning cursor from `cursor` to `upto` if no other planner moved it: the
    conditional UPDATE decides who writes that range (False: another planner has it)."""
    moved = await session.execute(
        update(Broadcast)
        .where(
            Broadcast.id == broadcast_id,
            Broadcast.planned_upto == cursor,
            Broadcast.planned_at.is_(None),
        )
        .values(planned_upto=upto)
    )
    return bool(moved.rowcount == 1)  # type: ignore[attr-defined]


async def last_delivery_id(session: AsyncSession) -> int:
    """The highest delivery id this transaction sees (0 without deliveries).

    Read before a range is written, in the range's transaction: every id the range then
    gets is higher (ids are handed out in order; rows of transactions not yet committed
    have ids of their own, never the range's).
    """
    return int(await session.scalar(select(func.coalesce(func.max(Delivery.id), 0))) or 0)


async def add_recipients(
    session: AsyncSession, broadcast_id: int, added: int, ids_after: int
) -> None:
    """Count a written range's deliveries on the broadcast and widen the id range they lie
    in: from `ids_after` (read before the range was written, see `last_delivery_id`) up to
    the highest id now."""
    if not added:
        return
    await session.execute(
        update(Broadcast)
        .where(Broadcast.id == broadcast_id)
        .values(
            recipients=Broadcast.recipients + added,
            delivery_ids_after=func.coalesce(Broadcast.delivery_ids_after, ids_after),
            delivery_ids_upto=await last_delivery_id(session),
        )
    )


async def record_range(session: AsyncSession, broadcast: Broadcast) -> None:
    """Find and record once the id range of a broadcast planned without recording it (by a
    process of the release before migration 0015, during an upgrade): its rows have a due
    time, so the dispatcher's cursor starts at their end."""
    ids = select(func.min(Delivery.id) - 1, func.max(Delivery.id)).where(
        Delivery.broadcast_id == broadcast.id
    )
    after, upto = (await session.execute(ids)).one()
    if upto is not None:
        broadcast.delivery_ids_after = after
        broadcast.delivery_ids_upto = broadcast.delivery_ids_claimed = upto


def of_broadcast(broadcast: Broadcast) -> tuple[ColumnElement[bool], ...]:
    """Conditions for a broadcast's deliveries: its id, within the id range its planner
    recorded (a range of the primary key, not a search of every delivery)."""
    after, upto = broadcast.delivery_ids_after, broadcast.delivery_ids_upto
    if after is None or upto is None:
        return (false(),)  # nothing written yet
    return (Delivery.id > after, Delivery.id <= upto, Delivery.broadcast_id == broadcast.id)


async def finish_plan(session: AsyncSession, broadcast_id: int) -> None:
    """Mark the plan complete (once: a finished plan keeps its time)."""
    await session.execute(
        update(Broadcast)
        .where(Broadcast.id == broadcast_id, Broadcast.planned_at.is_(None))
        .values(planned_at=utcnow())
    )


async def recipients(session: AsyncSession, broadcast_id: int) -> int:
    """The recipients counted so far."""
    count = await session.scalar(select(Broadcast.recipients).where(Broadcast.id == broadcast_id))
    return int(count or 0)


async def plan_range(
    session: AsyncSession,
    broadcast_id: int,
    explanation: Explanation,
    after: int,
    upto: int,
    skip_received: bool = False,
) -> int:
    """The deliveries for contacts with after < id <= upto, written by the database
    (INSERT ... SELECT); returns how many.

    A subscriber matches when the topic is one of the explanation's and the explanation
    targets the whole country, their locality, or their locality's province. Contacts with
    several matching subscriptions get one delivery (each range selects distinct contact ids,
    and the ranges of one plan are disjoint: see `take_range`). The text is kept once, on the
    broadcast, not on every row.
    """
    now = utcnow()
    targets = list(explanation.localities)
    wanted = (
        Subscription.status == SubscriptionStatus.ACTIVE,
        Subscription.topic.in_(explanation.topics),
    )
    # Each matching contact once, without GROUP BY or a sort of the range.
    in_range = (Subscription.contact_id > after, Subscription.contact_id <= upto)
    recipient: ColumnElement[int]
    chosen: tuple[ColumnElement[bool], ...]
    if COUNTRY in targets:  # most match: the range's contacts, each probed in one index
        recipient = Contact.id.expression
        subscribed = exists().where(Subscription.contact_id == Contact.id, *wanted, *in_range)
        chosen = (Contact.id > after, Contact.id <= upto, Contact.unreachable_at.is_(None))
        chosen += (subscribed,)
    else:  # few match: the union of a (topic, locality) and a (topic, province) index range,
        # less the few contacts that cannot be reached (a partial index holds just them)
        found = union(
            select(Subscription.contact_id).where(
                *wanted, *in_range, Subscription.locality.in_(targets)
            ),
            select(Subscription.contact_id).where(
                *wanted, *in_range, Subscription.province.in_(targets)
            ),
        ).subquery()
        recipient = found.c.contact_id
        unreachable = select(Contact.id).where(
            Contact.unreachable_at.is_not(None), Contact.id > after, Contact.id <= upto
        )
        chosen = (recipient.not_in(unreachable),)
    # Plain string literals (the values, not the members): the statement and its binds stay
    # what they were before the columns were typed with the enums.
    matching = select(
        recipient,
        literal(DeliveryKind.BROADCAST.value, String),
        literal(broadcast_id, Integer),
        literal("", String),
        literal([], JSON),  # not cast('[]' AS JSON): SQLite reads that as the number 0
        literal(DeliveryStatus.PENDING.value, String),
        literal(0, Integer),
        literal(now, UTCDateTime),
    ).where(*chosen)
    if skip_received:  # an explicit resend: not to whoever already has this version
        had = select(Delivery.contact_id).join(
            Broadcast,
            and_(
                Delivery.broadcast_id == Broadcast.id,
                Delivery.id > Broadcast.delivery_ids_after,
                Delivery.id <= Broadcast.delivery_ids_upto,
            ),
        )
        matching = matching.where(
            recipient.not_in(
                had.where(
                    Broadcast.explanation_id == explanation.id,
                    Broadcast.id != broadcast_id,
                    Delivery.contact_id > after,
                    Delivery.contact_id <= upto,
                )
            )
        )
    result = await session.execute(
        insert(Delivery).from_select(
            [
                "contact_id",
                "kind",
                "broadcast_id",
                "text",
                "buttons",
                "status",
                "attempts",
                "created_at",  # no due time: claimed by the plan's id range (store/queue.py)
            ],
            matching,
            include_defaults=False,  # the model's default due time is not for planned rows
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# --- the delivery report ---------------------------------------------------------------------


async def count_by_status(session: AsyncSession, broadcast: Broadcast) -> dict[DeliveryStatus, int]:
    """How many of a broadcast's deliveries are in each status."""
    rows = await session.execute(
        select(Delivery.status, func.count())
        .where(*of_broadcast(broadcast))
        .group_by(Delivery.status)
    )
    return {status: int(n) for status, n in rows}


async def failure_reasons(session: AsyncSession, broadcast: Broadcast) -> dict[str, int]:
    """Failed and blocked deliveries counted by the platform's reason."""
    reasons = await session.execute(
        select(Delivery.error, func.count())
        .where(
            *of_broadcast(broadcast),
            Delivery.status.in_([DeliveryStatus.FAILED, DeliveryStatus.BLOCKED]),
        )
        .group_by(Delivery.error)
    )
    return {str(reason): int(n) for reason, n in reasons}


async def deferred_reasons(session: AsyncSession, broadcast: Broadcast) -> dict[str, int]:
    """Deferred deliveries counted by their full reason (the service groups them)."""
    reasons = await session.execute(
        select(Delivery.error, func.count())
        .where(*of_broadcast(broadcast), Delivery.status == DeliveryStatus.DEFERRED)
        .group_by(Delivery.error)
    )
    return {str(reason or ""): int(n) for reason, n in reasons}


async def receipts(session: AsyncSession, broadcast: Broadcast) -> tuple[int, int]:
    """How many of a broadcast's messages the platform says were received, and seen."""
    received, seen = (
        await session.execute(
            select(func.count(Delivery.received_at), func.count(Delivery.seen_at)).where(
                *of_broadcast(broadcast)
            )
        )
    ).one()
    return int(received or 0), int(seen or 0)


async def sending_span(
    session: AsyncSession, broadcast: Broadcast
) -> tuple[datetime | None, datetime | None]:
    """When the first and the last of a broadcast's deliveries were sent."""
    first, last = (
        await session.execute(
            select(func.min(Delivery.sent_at), func.max(Delivery.sent_at)).where(
                *of_broadcast(broadcast)
            )
        )
    ).one()
    return first, last
