"""Statements that erase personal data from the gateway's tables, and the queue of engine
sender ids whose tracker events must go (the `tracker_erasures` table, defined here)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import ForeignKey, String, delete, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from bot.domain.delivery import DeliveryStatus
from bot.domain.messages import Direction, MessageStatus
from bot.domain.privacy import REDACTED, ErasureReason
from bot.domain.subscriptions import SubscriptionStatus
from bot.store.models import (
    Base,
    Case,
    CaseEvent,
    Conversation,
    Delivery,
    Message,
    QuestionGap,
    Rating,
    Subscription,
    Topic,
    utcnow,
)
from bot.store.types import StrEnumType

# How far back to look for the messages of a form (a form has a handful of questions; a
# citizen who fixes every field a few times stays far below this).
FORM_LOOKBACK = 200
# Outbox rows that will not be sent (again): their copy of the text can go.
FINISHED = (
    DeliveryStatus.SENT,
    DeliveryStatus.FAILED,
    DeliveryStatus.BLOCKED,
    DeliveryStatus.UNKNOWN,
)


class TrackerErasure(Base):
    """A sender id whose events the engine's tracker store must lose: all of them once its
    conversation moved to a fresh sender (`before` None), else those older than `before`."""

    __tablename__ = "tracker_erasures"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id"), index=True)
    engine_sender: Mapped[str] = mapped_column(String(40))
    reason: Mapped[ErasureReason] = mapped_column(StrEnumType(ErasureReason))
    before: Mapped[datetime | None] = mapped_column(nullable=True)
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)


def _read_by_engine(message: Message) -> bool:
    """Whether the flow handed this inbound message to the engine (it skips empty ones)."""
    return bool((message.payload or message.text).strip())


async def form_messages(session: AsyncSession, conversation_id: int, count: int) -> list[int]:
    """Ids of the inbound messages of a form that is ending: the `count` latest the engine
    read, counting the one in the current turn (the conversation's oldest pending message),
    and everything the conversation received between them."""
    current = await session.scalar(
        select(Message.id)
        .where(
            Message.conversation_id == conversation_id,
            Message.direction == Direction.IN,
            Message.status == MessageStatus.PENDING,
        )
        .order_by(Message.id)
        .limit(1)
    )
    query = select(Message).where(
        Message.conversation_id == conversation_id, Message.direction == Direction.IN
    )
    if current is not None:
        query = query.where(Message.id <= current)
    rows = (
        (await session.execute(query.order_by(Message.id.desc()).limit(FORM_LOOKBACK)))
        .scalars()
        .all()
    )
    chosen: list[int] = []
    read = 0
    for row in rows:  # newest first
        if read >= count:
            break
        chosen.append(row.id)
        read += _read_by_engine(row)
    return chosen


async def redact(
    session: AsyncSession, message_ids: Sequence[int], now: datetime, with_replies: bool = False
) -> int:
    """Erase the texts (and payloads, buttons, attachments) of these messages, with the
    bot's replies to them when asked, and the outbox copies of those replies; returns how
    many rows were erased."""
    if not message_ids:
        return 0
    ids = set(message_ids)
    if with_replies:
        replies = await session.execute(
            select(Message.id).where(Message.in_reply_to_id.in_(message_ids))
        )
        ids.update(replies.scalars().all())
    return await _redact_rows(session, sorted(ids), now)


async def _redact_rows(session: AsyncSession, ids: Sequence[int], now: datetime) -> int:
    erased = 0
    for start in range(0, len(ids), 500):  # bounded IN lists
        chunk = list(ids[start : start + 500])
        result = await session.execute(
            update(Message)
            .where(Message.id.in_(chunk), Message.redacted_at.is_(None))
            .values(
                text=REDACTED, payload=None, buttons=[], attachments=[], error=None, redacted_at=now
            )
        )
        erased += int(result.rowcount or 0)  # type: ignore[attr-defined]
        # A reply the channel refused for a while waits in the outbox with a copy of its text.
        await session.execute(
            update(Delivery)
            .where(Delivery.dedupe_key.in_([f"reply:{i}" for i in chunk]))
            .values(text=REDACTED, buttons=[], card=None)
        )
    return erased


async def redact_conversations(
    session: AsyncSession, conversation_ids: Sequence[int], now: datetime
) -> int:
    """Erase every message of these conversations; returns how many were still readable."""
    ids = (
        await session.execute(
            select(Message.id).where(
                Message.conversation_id.in_(conversation_ids), Message.redacted_at.is_(None)
            )
        )
    ).scalars()
    return await _redact_rows(session, list(ids), now)


async def expired_messages(
    session: AsyncSession, cutoff: datetime, limit: int
) -> list[tuple[int, int]]:
    """(message id, conversation id) of readable messages stored before `cutoff`."""
    rows = await session.execute(
        select(Message.id, Message.conversation_id)
        .where(Message.redacted_at.is_(None), Message.created_at < cutoff)
        .order_by(Message.created_at)
        .limit(limit)
    )
    return [(message_id, conversation_id) for message_id, conversation_id in rows.all()]


def add_erasure(
    session: AsyncSession,
    conversation_id: int,
    sender: str,
    reason: ErasureReason,
    before: datetime | None = None,
) -> None:
    """Queue a sender id's tracker events for deletion (all of them, or those before)."""
    session.add(
        TrackerErasure(
            conversation_id=conversation_id, engine_sender=sender, reason=reason, before=before
        )
    )


async def retire_sender(
    session: AsyncSession, conversation_id: int, sender: str, idle_since: datetime | None = None
) -> bool:
    """Give the conversation a fresh engine sender id if it still uses `sender` (and, with
    `idle_since`, received nothing since then and has nothing waiting for the engine: no
    turn can be running); False when the conversation moved on."""
    query = update(Conversation).where(
        Conversation.id == conversation_id, Conversation.engine_sender == sender
    )
    if idle_since is not None:
        waiting = exists().where(
            Message.conversation_id == conversation_id,
            Message.direction == Direction.IN,
            Message.status == MessageStatus.PENDING,
        )
        query = query.where(Conversation.updated_at < idle_since, ~waiting)
    result = await session.execute(query.values(engine_sender=uuid.uuid4().hex))
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def waiting_restarts(
    session: AsyncSession,
    conversation_id: int | None = None,
    requested_before: datetime | None = None,
) -> Sequence[TrackerErasure]:
    """Erasures whose conversation still talks to the engine under the sender to forget
    (they wait for the end of the turn that asked for them)."""
    query = (
        select(TrackerErasure)
        .join(Conversation, Conversation.id == TrackerErasure.conversation_id)
        .where(
            TrackerErasure.before.is_(None),
            TrackerErasure.engine_sender == Conversation.engine_sender,
        )
    )
    if conversation_id is not None:
        query = query.where(TrackerErasure.conversation_id == conversation_id)
    if requested_before is not None:
        query = query.where(TrackerErasure.requested_at < requested_before)
    return (await session.execute(query.order_by(TrackerErasure.id))).scalars().all()


async def ready_erasures(session: AsyncSession, limit: int) -> Sequence[TrackerErasure]:
    """Erasures that can run now: a retired sender's, or a live sender's old events."""
    query = (
        select(TrackerErasure)
        .join(Conversation, Conversation.id == TrackerErasure.conversation_id)
        .where(
            or_(
                TrackerErasure.before.is_not(None),
                TrackerErasure.engine_sender != Conversation.engine_sender,
            )
        )
        .order_by(TrackerErasure.id)
        .limit(limit)
    )
    return (await session.execute(query)).scalars().all()


async def drop_erasures(session: AsyncSession, ids: Sequence[int]) -> None:
    """Forget erasures that are done."""
    await session.execute(delete(TrackerErasure).where(TrackerErasure.id.in_(ids)))


async def delete_old_gaps(session: AsyncSession, cutoff: datetime) -> int:
    """Unanswered questions (citizens' own words) older than the retention period."""
    result = await session.execute(delete(QuestionGap).where(QuestionGap.created_at < cutoff))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# -- a contact's own data: what is held, and erasing it ------------------------------------


async def conversation_ids(session: AsyncSession, contact_id: int) -> list[int]:
    """Every conversation of a contact."""
    rows = await session.execute(
        select(Conversation.id).where(Conversation.contact_id == contact_id)
    )
    return list(rows.scalars().all())


async def readable_messages(session: AsyncSession, contact_id: int) -> tuple[int, datetime | None]:
    """How many of a contact's messages still hold their text, and the oldest one's date."""
    row = (
        await session.execute(
            select(func.count(), func.min(Message.created_at))
            .join(Conversation, Conversation.id == Message.conversation_id)
            .where(Conversation.contact_id == contact_id, Message.redacted_at.is_(None))
        )
    ).one()
    oldest = row[1]
    if oldest is not None and oldest.tzinfo is None:  # SQLite's min() loses the type
        oldest = oldest.replace(tzinfo=UTC)
    return int(row[0]), oldest


async def subscriptions_of(session: AsyncSession, contact_id: int) -> list[tuple[str, str]]:
    """(topic name, locality code) of a contact's subscriptions that are not cancelled."""
    rows = await session.execute(
        select(Topic.name, Subscription.locality)
        .join(Topic, Topic.slug == Subscription.topic)
        .where(
            Subscription.contact_id == contact_id,
            Subscription.status != SubscriptionStatus.CANCELLED,
        )
        .order_by(Subscription.id)
    )
    return [(name, locality) for name, locality in rows.all()]


async def cases_of(session: AsyncSession, contact_id: int) -> Sequence[Case]:
    """A contact's cases, oldest first."""
    rows = await session.execute(
        select(Case).where(Case.contact_id == contact_id).order_by(Case.id)
    )
    return rows.scalars().all()


async def delete_subscriptions(session: AsyncSession, contact_id: int) -> int:
    """Remove every subscription of a contact; returns how many were not cancelled."""
    live = await session.scalar(
        select(func.count()).where(
            Subscription.contact_id == contact_id,
            Subscription.status != SubscriptionStatus.CANCELLED,
        )
    )
    await session.execute(delete(Subscription).where(Subscription.contact_id == contact_id))
    return int(live or 0)


async def redact_finished_deliveries(session: AsyncSession, contact_id: int) -> None:
    """Erase the texts of what the outbox already sent (or gave up on) to a contact."""
    await session.execute(
        update(Delivery)
        .where(
            Delivery.contact_id == contact_id,
            Delivery.status.in_(FINISHED),
            Delivery.text != "",
        )
        .values(text=REDACTED, buttons=[], card=None)
    )


async def unlink_case_events(session: AsyncSession, case_ids: Sequence[int], actor: str) -> None:
    """Audit entries name the citizen as `citizen:<contact>`; keep only `citizen`."""
    if case_ids:
        await session.execute(
            update(CaseEvent)
            .where(CaseEvent.case_id.in_(case_ids), CaseEvent.actor == actor)
            .values(actor="citizen")
        )


async def ratings_of(session: AsyncSession, contact_id: int) -> Sequence[Rating]:
    """A contact's ratings (their comments are free text)."""
    rows = await session.execute(select(Rating).where(Rating.contact_id == contact_id))
    return rows.scalars().all()
