"""The outbox's SQL: taking claimed rows, deferring, recording outcomes, copying sent rows
into the conversations' history, settling orphaned claims (which rows are due, and the
counts /healthz shows: bot/store/queue.py).

This is the broadcast hot path: every statement is Core on the tables (no ORM bookkeeping
per row), set-based where it can be (one UPDATE ... RETURNING claims a wave, one UPDATE
marks everything a wave sent, one INSERT ... SELECT copies it into the history), and batched
with executemany where rows differ (deferrals, failures).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    JSON,
    Row,
    Table,
    and_,
    bindparam,
    exists,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from bot.domain.delivery import IN_DOUBT, DeliveryKind, DeliveryStatus
from bot.domain.messages import Direction, MessageStatus
from bot.store.models import (
    Broadcast,
    Contact,
    Conversation,
    Delivery,
    Message,
    utcnow,
)
from bot.store.types import UTCDateTime

DELIVERIES: Table = Delivery.__table__  # type: ignore[assignment]
MESSAGES: Table = Message.__table__  # type: ignore[assignment]
CHUNK = 500  # ids per IN (...) list when settling orphans
# Every row a claim has touched has a due time; the dispatcher's index on (status, due time)
# holds only those (a broadcast's planned rows have none: bot/store/queue.py). A query by
# status names this too, so that the database can use that index.
HAS_DUE_TIME = DELIVERIES.c.next_attempt_at.is_not(None)


@dataclass(frozen=True, slots=True)
class Claimed:
    """A delivery taken by this worker."""

    id: int
    contact_id: int
    kind: DeliveryKind
    text: str
    buttons: list[Any]
    attempts: int
    message_id: int | None
    broadcast_id: int | None
    card: dict[str, Any] | None = None


# A claim's RETURNING columns, in Claimed's order.
CLAIMED = (
    DELIVERIES.c.id,
    DELIVERIES.c.contact_id,
    DELIVERIES.c.kind,
    DELIVERIES.c.text,
    DELIVERIES.c.buttons,
    DELIVERIES.c.attempts,
    DELIVERIES.c.message_id,
    DELIVERIES.c.broadcast_id,
    DELIVERIES.c.card,
)


@dataclass(frozen=True, slots=True)
class Unsent:
    """A claimed delivery that was not sent, and what the policy made of it."""

    delivery_id: int
    status: DeliveryStatus
    next_attempt_at: datetime
    error: str
    message_id: int | None  # the reply row it carries, if any
    attempt: bool = True  # False: held back by the platform's rules, not an attempt


def queue_reply(
    session: AsyncSession,
    message: Message,
    contact_id: int,
    due: datetime,
    status: DeliveryStatus = DeliveryStatus.PENDING,
    error: str | None = None,
) -> None:
    """Hand an immediate reply the channel refused for now to the outbox (once per reply):
    pending (tried again at `due`) or deferred (until the citizen writes)."""
    session.add(
        Delivery(
            contact_id=contact_id,
            kind=DeliveryKind.REPLY,
            dedupe_key=f"reply:{message.id}",
            text=message.text,
            buttons=message.buttons,
            message_id=message.id,
            next_attempt_at=due,
            status=status,
            error=error,
        )
    )


async def take(
    session: AsyncSession,
    ids: ColumnElement[Any] | list[int],
    status: DeliveryStatus,
    wave: str,
    now: datetime,
    lease: timedelta,
) -> list[Claimed]:
    """Claim the rows `ids` selects (or lists) that are still in `status` for `wave` (status
    'sending', a lease, one more attempt), in one UPDATE ... RETURNING, oldest first. A
    planned broadcast row gets its first due time now (bot/store/queue.py)."""
    table = DELIVERIES
    connection = await session.connection()  # Core: no ORM bookkeeping per row
    rows = (
        await connection.execute(
            update(table)
            .where(table.c.id.in_(ids), table.c.status == status)
            .values(
                status=DeliveryStatus.SENDING,
                claimed_until=now + lease,
                claimed_by=wave,
                attempts=table.c.attempts + 1,
                next_attempt_at=func.coalesce(table.c.next_attempt_at, literal(now, UTCDateTime)),
            )
            .returning(*CLAIMED)
        )
    ).all()
    return [Claimed(*row) for row in sorted(rows)]


async def mark_quota(session: AsyncSession, ids: list[int], pool: str) -> None:
    """These rows hold a unit of `pool` (taken in the same transaction)."""
    connection = await session.connection()
    for chunk in _chunks(ids, CHUNK):
        await connection.execute(
            update(DELIVERIES).where(DELIVERIES.c.id.in_(chunk)).values(quota_pool=pool)
        )


async def broadcast_messages(
    session: AsyncSession, ids: Iterable[int]
) -> dict[int, tuple[str, dict[str, Any] | None]]:
    """The message (text and card) of each broadcast (its deliveries do not copy it)."""
    rows = await session.execute(
        select(Broadcast.id, Broadcast.text, Broadcast.card).where(Broadcast.id.in_(ids))
    )
    return {broadcast_id: (text, card) for broadcast_id, text, card in rows.all()}


async def defer(session: AsyncSession, wave: str, rows: list[tuple[int, datetime]]) -> None:
    """Give (id, next attempt) rows of `wave` back to the queue untouched: not an attempt."""
    table = DELIVERIES
    await session.execute(
        update(table)
        .where(table.c.id == bindparam("b_id"), table.c.claimed_by == wave)
        .values(
            status=DeliveryStatus.PENDING,
            claimed_until=None,
            claimed_by=None,
            attempts=table.c.attempts - 1,
            next_attempt_at=bindparam("b_next"),
        ),
        [{"b_id": i, "b_next": at} for i, at in rows],
    )


async def record_wave(
    session: AsyncSession,
    wave: str,
    now: datetime,
    unsent: list[Unsent],
    sent_replies: list[int],
    external_ids: Sequence[tuple[int, str]] = (),
) -> None:
    """Every outcome of a wave: the rows that were not sent one by one (few), then all rows
    still 'sending' in this wave, which were sent, at once (history copy included); then
    the platform's ids of sent messages whose receipts will come."""
    table = DELIVERIES
    # Only rows this wave still holds: a row recovered meanwhile is not touched.
    held = and_(table.c.claimed_by == wave, table.c.status == DeliveryStatus.SENDING, HAS_DUE_TIME)
    connection = await session.connection()
    if unsent:
        await connection.execute(
            update(table)
            .where(table.c.id == bindparam("b_id"), held)
            .values(
                claimed_until=None,
                claimed_by=None,
                attempts=table.c.attempts - bindparam("b_undo"),
                quota_pool=None,  # its unit, if any, is settled with this wave
            ),
            [
                {
                    "b_id": u.delivery_id,
                    "status": u.status,
                    "next_attempt_at": u.next_attempt_at,
                    "error": u.error,
                    "b_undo": 0 if u.attempt else 1,
                }
                for u in unsent
            ],
        )
    if external_ids:  # while this wave still holds them
        await connection.execute(
            update(table)
            .where(table.c.id == bindparam("b_id"), held)
            .values(external_id=bindparam("b_external")),
            [{"b_id": i, "b_external": x[:64]} for i, x in external_ids],
        )
    await copy_to_history(session, and_(held, table.c.message_id.is_(None)))
    await connection.execute(
        update(table)
        .where(held)
        .values(
            status=DeliveryStatus.SENT,
            sent_at=now,
            error=None,
            claimed_until=None,
            claimed_by=None,
        )
    )
    if sent_replies:
        await session.execute(
            update(Message)
            .where(Message.id.in_(sent_replies))
            .values(status=MessageStatus.SENT, error=None)
        )
    failed_messages = [
        {"b_id": u.message_id, "error": u.error}
        for u in unsent
        if u.status not in (DeliveryStatus.PENDING, DeliveryStatus.DEFERRED)
        and u.message_id is not None
    ]
    if failed_messages:
        await connection.execute(
            update(MESSAGES)
            .where(MESSAGES.c.id == bindparam("b_id"))
            .values(status=MessageStatus.FAILED),
            failed_messages,
        )


async def copy_to_history(session: AsyncSession, which: ColumnElement[bool]) -> None:
    """The deliveries `which` selects become outbound messages of their contacts' latest
    conversations (the web chat shows them from there; Zalo's window counts them),
    copied by the database in one INSERT ... SELECT."""
    deliveries, messages = DELIVERIES, MESSAGES
    missing = (  # usually none: subscribers came by chat
        await session.execute(
            select(deliveries.c.contact_id)
            .distinct()
            .where(which, ~exists().where(Conversation.contact_id == deliveries.c.contact_id))
        )
    ).scalars()
    starting = sorted(missing)
    if starting:  # someone reached only by broadcasts: start their history
        session.add_all(Conversation(contact_id=c) for c in starting)
        await session.flush()
    latest = (
        select(func.max(Conversation.id))
        .where(Conversation.contact_id == deliveries.c.contact_id)
        .scalar_subquery()
    )
    text = func.coalesce(func.nullif(deliveries.c.text, ""), Broadcast.text, "")
    rows = (
        select(
            latest,
            literal(Direction.OUT, messages.c.direction.type),
            Contact.channel,
            deliveries.c.kind,
            text,
            deliveries.c.buttons,
            literal([], JSON),  # not cast('[]' AS JSON): SQLite reads that as the number 0
            literal(MessageStatus.SENT, messages.c.status.type),
            literal(1),
            literal(utcnow(), UTCDateTime),
        )
        .select_from(deliveries)
        .join(Contact, Contact.id == deliveries.c.contact_id)
        .outerjoin(Broadcast, Broadcast.id == deliveries.c.broadcast_id)
        .where(which)
    )
    columns = ["conversation_id", "direction", "channel", "kind", "text", "buttons"]
    columns += ["attachments", "status", "attempts", "created_at"]
    connection = await session.connection()
    await connection.execute(insert(messages).from_select(columns, rows))


async def claims_in_progress(session: AsyncSession) -> Sequence[Row[Any]]:
    """(id, kind, claimed_by, claimed_until, quota_pool) of every row being sent, oldest
    first."""
    rows = await session.execute(
        select(
            Delivery.id,
            Delivery.kind,
            Delivery.claimed_by,
            Delivery.claimed_until,
            Delivery.quota_pool,
        )
        .where(Delivery.status == DeliveryStatus.SENDING, HAS_DUE_TIME)
        .order_by(Delivery.id)
    )
    return rows.all()


async def settle(
    session: AsyncSession, status: DeliveryStatus, ids: list[int], now: datetime
) -> None:
    """Release orphaned claims `ids` (still 'sending') with `status`, 500 ids a statement;
    rows the platform confirmed are sent and copied into the history."""
    by_status: dict[DeliveryStatus, dict[str, Any]] = {
        DeliveryStatus.SENT: {"sent_at": now},
        # Not an attempt; a unit it held was settled by the caller.
        DeliveryStatus.PENDING: {"attempts": DELIVERIES.c.attempts - 1, "quota_pool": None},
        DeliveryStatus.UNKNOWN: {"error": IN_DOUBT},
    }
    values = by_status[status]
    connection = await session.connection()
    for chunk in _chunks(ids, CHUNK):
        held = and_(DELIVERIES.c.id.in_(chunk), DELIVERIES.c.status == DeliveryStatus.SENDING)
        if status is DeliveryStatus.SENT:  # confirmed by the platform: in the history too
            await copy_to_history(session, held)
        await connection.execute(
            update(DELIVERIES)
            .where(held)
            .values(status=status, claimed_until=None, claimed_by=None, **values)
        )


def _chunks(items: list[int], size: int) -> Iterable[list[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
