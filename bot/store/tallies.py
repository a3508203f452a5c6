"""Case tallies: per month received, agency, province, topic, kind and channel, the report
counts that no longer change with time (bot.domain.reports.case_tally, rating_tally), and the
working-days histogram. The case services add each change's difference in its own
transaction (INSERT ... ON CONFLICT DO UPDATE adding to the row, so concurrent changes add
up); reports over whole months read these rows instead of every case."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import Table, func, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.reports import month_of
from bot.store.models import Case, CaseTally, CaseTallyDays
from bot.store.reports import CountRow

TALLIES: Table = CaseTally.__table__  # type: ignore[assignment]
DAYS: Table = CaseTallyDays.__table__  # type: ignore[assignment]
KEY = ("month", "agency_id", "province", "topic", "kind", "channel")
COUNTED = tuple(c.name for c in TALLIES.columns if c.name not in KEY)


def key_of(case: Case) -> dict[str, Any]:
    """The tally row a case counts in."""
    return {
        "month": month_of(case.created_at),
        "agency_id": case.agency_id,
        "province": case.province,
        "topic": case.topic,
        "kind": case.kind.value,
        "channel": case.channel,
    }


async def _add(
    session: AsyncSession, table: Table, key: dict[str, Any], delta: dict[str, int]
) -> None:
    if not delta:
        return
    connection = await session.connection()
    insert = pg_insert if connection.dialect.name == "postgresql" else sqlite_insert
    statement = insert(table).values(**key, **delta)
    await connection.execute(
        statement.on_conflict_do_update(
            index_elements=list(key),
            set_={name: table.c[name] + statement.excluded[name] for name in delta},
        )
    )


async def add(session: AsyncSession, case: Case, delta: dict[str, int]) -> None:
    """Add `delta` (names of COUNTED) to the case's tally row (created when missing)."""
    await _add(session, TALLIES, key_of(case), delta)


async def add_days(session: AsyncSession, case: Case, days: int, n: int) -> None:
    """Count `n` (±1) more cases of this one's row that took `days` working days."""
    key = {k: v for k, v in key_of(case).items() if k not in ("kind", "channel")}
    await _add(session, DAYS, {**key, "days": days}, {"cases": n})


async def counts(
    session: AsyncSession,
    first: date,
    last: date,
    agency_id: int | None,
    topic: str | None,
    province: str | None,
) -> list[CountRow]:
    """The tallies of the months first..last (first days), per province, kind and channel."""
    query = (
        select(
            CaseTally.province,
            CaseTally.kind,
            CaseTally.channel,
            *(func.sum(TALLIES.c[name]) for name in COUNTED),
        )
        .where(CaseTally.month >= first, CaseTally.month <= last)
        .group_by(CaseTally.province, CaseTally.kind, CaseTally.channel)
    )
    if agency_id is not None:
        query = query.where(CaseTally.agency_id == agency_id)
    if topic is not None:
        query = query.where(CaseTally.topic == topic)
    if province is not None:
        query = query.where(CaseTally.province == province)
    return [
        CountRow(
            str(group),
            str(kind),
            str(channel),
            {name: int(value or 0) for name, value in zip(COUNTED, values, strict=True)},
        )
        for group, kind, channel, *values in await session.execute(query)
    ]


async def days(
    session: AsyncSession,
    first: date,
    last: date,
    agency_id: int | None,
    topic: str | None,
    province: str | None,
) -> dict[str, dict[int, int]]:
    """Per province, the working-days histogram of the months first..last."""
    query = (
        select(CaseTallyDays.province, CaseTallyDays.days, func.sum(CaseTallyDays.cases))
        .where(CaseTallyDays.month >= first, CaseTallyDays.month <= last)
        .group_by(CaseTallyDays.province, CaseTallyDays.days)
    )
    if agency_id is not None:
        query = query.where(CaseTallyDays.agency_id == agency_id)
    if topic is not None:
        query = query.where(CaseTallyDays.topic == topic)
    if province is not None:
        query = query.where(CaseTallyDays.province == province)
    result: dict[str, dict[int, int]] = defaultdict(dict)
    for group, n_days, n in await session.execute(query):
        if n:
            result[str(group)][int(n_days)] = int(n)
    return dict(result)


def _month(dialect: str) -> str:
    if dialect == "postgresql":
        return "CAST(date_trunc('month', c.created_at AT TIME ZONE 'Asia/Ho_Chi_Minh') AS DATE)"
    return "date(c.created_at, '+7 hours', 'start of month')"  # Vietnam: UTC+7, no DST


REBUILD = (
    "DELETE FROM case_tallies",
    "DELETE FROM case_tally_days",
    """
    INSERT INTO case_tallies (month, agency_id, province, topic, kind, channel, received,
        withdrawn, acceptance_due, acceptance_on_time, answer_due, answer_on_time, answered,
        extended, extensions, ratings, rating_sum, satisfied, comments)
    SELECT {month}, c.agency_id, c.province, c.topic, c.kind, c.channel, COUNT(*),
        SUM(CASE WHEN c.status = 'withdrawn' THEN 1 ELSE 0 END),
        SUM(CASE WHEN c.status <> 'withdrawn' AND c.kind = 'explanation'
                  AND c.accept_due_at IS NOT NULL AND c.decided_at IS NOT NULL
             THEN 1 ELSE 0 END),
        SUM(CASE WHEN c.status <> 'withdrawn' AND c.kind = 'explanation'
                  AND c.decided_at <= c.accept_due_at THEN 1 ELSE 0 END),
        SUM(CASE WHEN c.status <> 'withdrawn' AND c.answer_due_at IS NOT NULL
                  AND c.answered_at IS NOT NULL THEN 1 ELSE 0 END),
        SUM(CASE WHEN c.status <> 'withdrawn' AND c.answered_at <= c.answer_due_at
             THEN 1 ELSE 0 END),
        COUNT(c.answered_at),
        SUM(CASE WHEN c.extensions > 0 THEN 1 ELSE 0 END), SUM(c.extensions),
        COUNT(r.id), COALESCE(SUM(r.score), 0),
        SUM(CASE WHEN r.score >= 4 THEN 1 ELSE 0 END),
        SUM(CASE WHEN r.comment <> '' THEN 1 ELSE 0 END)
    FROM cases c LEFT JOIN ratings r ON r.case_id = c.id
    GROUP BY 1, 2, 3, 4, 5, 6
    """,
    """
    INSERT INTO case_tally_days (month, agency_id, province, topic, days, cases)
    SELECT {month}, c.agency_id, c.province, c.topic, c.answer_working_days, COUNT(*)
    FROM cases c WHERE c.answer_working_days IS NOT NULL
    GROUP BY 1, 2, 3, 4, 5
    """,
)


async def rebuild(session: AsyncSession) -> None:
    """Recount every tally from the cases (migration 0016 does the same for cases filed
    before it; the report benchmark after seeding)."""
    connection = await session.connection()
    month = _month(connection.dialect.name)
    for statement in REBUILD:
        await connection.execute(text(statement.replace("{month}", month)))
