"""Report queries: every figure is a SQL aggregate (GROUP BY), never a walk over the cases in
Python, so a report over a million cases reads indexes and counts. The rules they apply
("on time", the period, working days) are bot/domain/reports.py's; the service assembles."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, literal, or_, select
from sqlalchemy import case as when
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.cases import OPEN_STATUSES, Kind, Status
from bot.domain.delivery import DeliveryStatus
from bot.store.models import Broadcast, Case, Delivery, Explanation, Handoff, QuestionGap, Rating
from bot.store.models.cases import OPEN_CASES

# What a broadcast's reach counts as failed: refused, blocked, or lost with a dead worker.
FAILED = (DeliveryStatus.FAILED, DeliveryStatus.BLOCKED, DeliveryStatus.UNKNOWN)


@dataclass(frozen=True, slots=True)
class CaseScope:
    """Which cases a report covers: received in [starts, ends), of one agency (None: all),
    one topic, one place (a commune's code, or a province's, which includes its communes)."""

    starts: datetime
    ends: datetime
    agency_id: int | None = None
    topic: str | None = None
    commune: str | None = None
    province: str | None = None

    def where(self) -> list[ColumnElement[bool]]:
        """The conditions on `cases`."""
        conditions = [Case.created_at >= self.starts, Case.created_at < self.ends]
        if self.agency_id is not None:
            conditions.append(Case.agency_id == self.agency_id)
        if self.topic is not None:
            conditions.append(Case.topic == self.topic)
        if self.commune is not None:
            conditions.append(Case.locality == self.commune)
        if self.province is not None:
            conditions.append(Case.province == self.province)
        return conditions


def _count(condition: ColumnElement[bool]) -> Any:
    return func.coalesce(func.sum(when((condition, 1), else_=0)), 0)


def _group(by: str | None) -> Any:
    """The grouping column: none (one row, key ""), the commune, or the province."""
    if by == "locality":
        return Case.locality
    if by == "province":
        return Case.province
    return literal("")


# The per-case counts a report adds up, in this order (case_counts' columns).
COUNTS = (
    "received",
    "withdrawn",
    "acceptance_due",
    "acceptance_on_time",
    "answer_due",
    "answer_on_time",
    "answered",
    "extended",
    "extensions",
    "overdue_now",
    "ratings",
    "rating_sum",
    "satisfied",
    "comments",
)


@dataclass(frozen=True, slots=True)
class CountRow:
    """The counts of one group key's cases of one kind from one channel."""

    key: str
    kind: str
    channel: str
    counts: dict[str, int]


async def case_counts(
    session: AsyncSession, scope: CaseScope, by: str | None, as_of: datetime
) -> list[CountRow]:
    """One scan of the scope's cases (and their ratings), grouped by key, kind and channel:
    received, withdrawn, acceptance decided (on time / due so far), answers (on time / due
    so far), answered, extended, extensions used, overdue now, and the ratings (how many,
    their sum, 4s and 5s, comments); the rules of bot/domain/reports.py in SQL. Totals and
    coarser groups are sums of these rows."""
    key = _group(by).label("key")
    kept = Case.status != Status.WITHDRAWN
    accept_due = and_(
        kept,
        Case.kind == Kind.EXPLANATION,
        Case.accept_due_at.is_not(None),
        or_(Case.decided_at.is_not(None), Case.accept_due_at < as_of),
    )
    answer_due = and_(
        kept,
        Case.answer_due_at.is_not(None),
        or_(Case.answered_at.is_not(None), Case.answer_due_at < as_of),
    )
    columns = (
        func.count(),
        _count(Case.status == Status.WITHDRAWN),
        _count(accept_due),
        _count(and_(accept_due, Case.decided_at <= Case.accept_due_at)),
        _count(answer_due),
        _count(and_(answer_due, Case.answered_at <= Case.answer_due_at)),
        _count(Case.answered_at.is_not(None)),
        _count(Case.extensions > 0),
        func.coalesce(func.sum(Case.extensions), 0),
        _count(and_(Case.status.in_(sorted(OPEN_STATUSES)), Case.due_at < as_of)),
        func.count(Rating.id),
        func.coalesce(func.sum(Rating.score), 0),
        _count(Rating.score >= 4),
        _count(Rating.comment != ""),
    )
    rows = await session.execute(
        select(key, Case.kind, Case.channel, *columns)
        .outerjoin(Rating, Rating.case_id == Case.id)
        .where(*scope.where())
        .group_by(key, Case.kind, Case.channel)
    )
    return [
        CountRow(
            str(group),
            str(kind),
            str(channel),
            {name: int(value) for name, value in zip(COUNTS, values, strict=True)},
        )
        for group, kind, channel, *values in rows
    ]


async def open_counts(
    session: AsyncSession, scope: CaseScope, by: str | None, as_of: datetime
) -> list[CountRow]:
    """Per group key, kind and channel, what of the scope's open cases depends on when the
    report runs: undecided past the acceptance deadline, unanswered past the answer deadline,
    overdue now (the tallies keep the rest; only open cases can be any of these)."""
    key = _group(by).label("key")
    rows = await session.execute(
        select(
            key,
            Case.kind,
            Case.channel,
            _count(
                and_(
                    Case.kind == Kind.EXPLANATION,
                    Case.decided_at.is_(None),
                    Case.accept_due_at < as_of,
                )
            ),
            _count(and_(Case.answered_at.is_(None), Case.answer_due_at < as_of)),
            _count(Case.due_at < as_of),
        )
        .where(*scope.where(), OPEN_CASES)
        .group_by(key, Case.kind, Case.channel)
    )
    return [
        CountRow(
            str(group),
            str(kind),
            str(channel),
            {"acceptance_due": int(a), "answer_due": int(b), "overdue_now": int(c)},
        )
        for group, kind, channel, a, b, c in rows
    ]


async def answer_days(
    session: AsyncSession, scope: CaseScope, by: str | None
) -> dict[str, dict[int, int]]:
    """Per group key, a histogram {working days to answer: cases}: percentiles come from it
    (the values are small integers, so it is short whatever the number of cases)."""
    key = _group(by).label("key")
    rows = await session.execute(
        select(key, Case.answer_working_days, func.count())
        .where(*scope.where(), Case.answer_working_days.is_not(None))
        .group_by(key, Case.answer_working_days)
    )
    result: dict[str, dict[int, int]] = defaultdict(dict)
    for group, days, n in rows:
        result[str(group)][int(days)] = int(n)
    return dict(result)


def _seconds(session: AsyncSession, later: Any, earlier: Any) -> Any:
    """Seconds between two timestamp columns, in the dialect's words."""
    if session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", later - earlier)
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


async def handoffs(
    session: AsyncSession, starts: datetime, ends: datetime, agency_id: int | None
) -> dict[str, Any]:
    """Handoffs requested in [starts, ends): how many, how many got a first response and
    the mean seconds to it, how many ended and the mean seconds from request to end."""
    query = select(
        func.count(),
        func.count(Handoff.first_response_at),
        func.avg(_seconds(session, Handoff.first_response_at, Handoff.requested_at)),
        func.count(Handoff.ended_at),
        func.avg(_seconds(session, Handoff.ended_at, Handoff.requested_at)),
    ).where(Handoff.requested_at >= starts, Handoff.requested_at < ends)
    if agency_id is not None:
        query = query.where(Handoff.agency_id == agency_id)
    total, responded, first, ended, handling = (await session.execute(query)).one()
    return {
        "requested": int(total),
        "responded": int(responded),
        "mean_first_response_s": round(float(first)) if first is not None else None,
        "ended": int(ended),
        "mean_handling_s": round(float(handling)) if handling is not None else None,
    }


async def gap_counts(
    session: AsyncSession,
    starts: datetime,
    ends: datetime,
    agency_id: int | None,
    places: Collection[str] | None,
) -> list[tuple[str, int]]:
    """How many times each question gap's text (outer spaces aside) was recorded in the
    period; an agency's are those naming its explanations or none (as bot/store/gaps.py's).
    Letter case is merged by the service: SQLite's lower() knows only ASCII letters."""
    text = func.trim(QuestionGap.text).label("text")
    query = (
        select(text, func.count())
        .where(QuestionGap.created_at >= starts, QuestionGap.created_at < ends)
        .group_by(text)
    )
    if places is not None:
        query = query.where(QuestionGap.locality.in_(sorted(places)))
    if agency_id is not None:
        named = select(Explanation.id).where(Explanation.slug == QuestionGap.explanation_slug)
        query = query.where(
            or_(
                QuestionGap.explanation_slug.is_(None),
                ~exists(named),
                exists(named.where(Explanation.agency_id == agency_id)),
            )
        )
    return [(str(t), int(n)) for t, n in await session.execute(query)]


async def broadcast_reach(
    session: AsyncSession, starts: datetime, ends: datetime, agency_id: int | None
) -> dict[str, int]:
    """Deliveries of the broadcasts started in [starts, ends), counted by outcome in one
    query: each broadcast's rows are the id range its planner recorded (a range of the
    primary key, as its delivery report reads them; bot/store/broadcasts.py)."""
    chosen = (
        select(Broadcast.id, Broadcast.delivery_ids_after, Broadcast.delivery_ids_upto)
        .join(Explanation, Explanation.id == Broadcast.explanation_id)
        .where(Broadcast.created_at >= starts, Broadcast.created_at < ends)
    )
    if agency_id is not None:
        chosen = chosen.where(Explanation.agency_id == agency_id)
    plans = chosen.subquery()
    broadcasts = (await session.execute(select(func.count()).select_from(plans))).scalar_one()
    rows = await session.execute(
        select(
            Delivery.status,
            func.count(),
            func.count(Delivery.received_at),
            func.count(Delivery.seen_at),
        )
        .join(
            plans,
            and_(
                Delivery.id > plans.c.delivery_ids_after,
                Delivery.id <= plans.c.delivery_ids_upto,
                Delivery.broadcast_id == plans.c.id,
            ),
        )
        .group_by(Delivery.status)
    )
    counts: dict[DeliveryStatus, int] = {}
    reach = dict.fromkeys(
        ("broadcasts", "recipients", "sent", "received", "seen", "deferred", "failed", "pending"),
        0,
    )
    reach["broadcasts"] = int(broadcasts)
    for status, n, got, seen in rows:
        counts[status] = int(n)
        reach["received"] += int(got)
        reach["seen"] += int(seen)
    reach["recipients"] = sum(counts.values())
    reach["sent"] = counts.get(DeliveryStatus.SENT, 0)
    reach["deferred"] = counts.get(DeliveryStatus.DEFERRED, 0)
    reach["failed"] = sum(counts.get(s, 0) for s in FAILED)
    reach["pending"] = counts.get(DeliveryStatus.PENDING, 0) + counts.get(DeliveryStatus.SENDING, 0)
    return reach
