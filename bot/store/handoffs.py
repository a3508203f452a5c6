"""Queries about handed-over conversations: the queue, claims (a lease taken in one UPDATE,
so two operators cannot both win), and the transcript an operator reads."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, literal, or_, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from bot.domain.handoff import OPEN, HandoffStatus
from bot.domain.messages import Direction
from bot.store.models import Case, Contact, Conversation, Handoff, Message, User


async def open_for_conversation(session: AsyncSession, conversation_id: int) -> Handoff | None:
    """The conversation's handoff still waiting or claimed, if any (at most one)."""
    return (
        await session.execute(
            select(Handoff).where(
                Handoff.conversation_id == conversation_id, Handoff.status.in_(OPEN)
            )
        )
    ).scalar_one_or_none()


async def release_expired(session: AsyncSession, now: datetime) -> int:
    """Claims whose lease ran out go back to the queue (the operator left)."""
    result = await session.execute(
        update(Handoff)
        .where(Handoff.status == HandoffStatus.CLAIMED, Handoff.lease_until <= now)
        .values(status=HandoffStatus.WAITING, claimed_by_id=None, lease_until=None)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def take(
    session: AsyncSession, handoff_id: int, user_id: int, until: datetime, now: datetime
) -> bool:
    """Claim for `user_id` in one UPDATE: it succeeds only if the handoff is waiting, already
    theirs, or its holder's lease ran out, so of two claims at once only one can win."""
    result = await session.execute(
        update(Handoff)
        .where(
            Handoff.id == handoff_id,
            or_(
                Handoff.status == HandoffStatus.WAITING,
                and_(
                    Handoff.status == HandoffStatus.CLAIMED,
                    or_(Handoff.claimed_by_id == user_id, Handoff.lease_until <= now),
                ),
            ),
        )
        .values(
            status=HandoffStatus.CLAIMED,
            claimed_by_id=user_id,
            lease_until=until,
            # Typed, so SQLite stores it in UTC like every other time.
            claimed_at=func.coalesce(Handoff.claimed_at, literal(now, Handoff.claimed_at.type)),
        )
    )
    return bool(getattr(result, "rowcount", 0))


async def renew(session: AsyncSession, user_id: int, until: datetime, now: datetime) -> int:
    """Extend every live claim of this operator (their console is still open)."""
    result = await session.execute(
        update(Handoff)
        .where(
            Handoff.status == HandoffStatus.CLAIMED,
            Handoff.claimed_by_id == user_id,
            Handoff.lease_until > now,
        )
        .values(lease_until=until)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def waiting_before(session: AsyncSession, handoff: Handoff) -> int:
    """How many of the agency's waiting requests came before this one."""
    return int(
        await session.scalar(
            select(func.count())
            .select_from(Handoff)
            .where(
                Handoff.agency_id == handoff.agency_id,
                Handoff.status == HandoffStatus.WAITING,
                Handoff.id < handoff.id,
            )
        )
        or 0
    )


_HOLDER = aliased(User)


def _listing(agency_id: int | None) -> Any:
    last_said = (
        select(Message.text)
        .where(
            Message.conversation_id == Handoff.conversation_id, Message.direction == Direction.IN
        )
        .order_by(Message.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    query = (
        select(Handoff, Contact, _HOLDER.display_name, Case.code, last_said)
        .join(Conversation, Conversation.id == Handoff.conversation_id)
        .join(Contact, Contact.id == Conversation.contact_id)
        .outerjoin(_HOLDER, _HOLDER.id == Handoff.claimed_by_id)
        .outerjoin(Case, Case.id == Handoff.case_id)
    )
    if agency_id is not None:
        query = query.where(Handoff.agency_id == agency_id)
    return query


async def queue(session: AsyncSession, agency_id: int | None) -> Sequence[Row[Any]]:
    """Open handoffs (of one agency, or all): waiting ones first, oldest first; each row is
    (handoff, contact, holder's name, case code, the citizen's last message)."""
    waiting_first = (Handoff.status != HandoffStatus.WAITING).label("claimed")
    query = _listing(agency_id).where(Handoff.status.in_(OPEN))
    return (await session.execute(query.order_by(waiting_first, Handoff.id))).all()


async def one(session: AsyncSession, handoff_id: int) -> Row[Any] | None:
    """One handoff with what the queue shows of it."""
    return (await session.execute(_listing(None).where(Handoff.id == handoff_id))).first()


async def transcript(session: AsyncSession, conversation_id: int, limit: int) -> Sequence[Row[Any]]:
    """The conversation's last `limit` messages, both ways, oldest first, each with the name
    of the operator who wrote it (None: the citizen or the bot)."""
    rows = (
        await session.execute(
            select(Message, User.display_name)
            .outerjoin(User, User.id == Message.sent_by_id)
            .where(Message.conversation_id == conversation_id)
            .order_by(Message.id.desc())
            .limit(limit)
        )
    ).all()
    return rows[::-1]


async def changes(session: AsyncSession, agency_id: int | None, now: datetime) -> tuple[Any, ...]:
    """A fingerprint of the agency's queue and its open conversations: it changes when a
    request arrives or ends (the count, or the newest id when one ends as another comes), a
    claim is taken, lapses or moves, or a message comes in or goes out in one of them (the
    console's live view re-renders when it changes)."""
    scope: list[ColumnElement[bool]] = [Handoff.status.in_(OPEN)]
    if agency_id is not None:
        scope.append(Handoff.agency_id == agency_id)
    handoffs = (
        await session.execute(
            select(
                func.count(),
                func.max(Handoff.id),
                func.sum(Handoff.claimed_by_id),
                func.count(Handoff.claimed_by_id),
                func.count().filter(Handoff.lease_until <= now),
            ).where(*scope)
        )
    ).one()
    newest = await session.scalar(
        select(func.max(Message.id))
        .join(Handoff, Handoff.conversation_id == Message.conversation_id)
        .where(*scope)
    )
    return (*handoffs, newest)


async def newest_inbound(session: AsyncSession, conversation_id: int) -> int | None:
    """The id of the citizen's newest message in the conversation."""
    newest = await session.scalar(
        select(func.max(Message.id)).where(
            Message.conversation_id == conversation_id, Message.direction == Direction.IN
        )
    )
    return int(newest) if newest is not None else None


async def open_by_status(
    session: AsyncSession,
) -> dict[HandoffStatus, tuple[int, datetime | None]]:
    """Open handoffs (waiting, claimed): how many, and when the oldest was asked for."""
    rows = await session.execute(
        select(Handoff.status, func.count(), func.min(Handoff.requested_at))
        .where(Handoff.status.in_(OPEN))
        .group_by(Handoff.status)
    )
    found = {status: (int(count), oldest) for status, count, oldest in rows.all()}
    return {status: found.get(status, (0, None)) for status in sorted(OPEN)}
