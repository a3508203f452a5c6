"""Monthly quotas counted in the database, so that every process and host draws on one count.

Taking is one conditional UPDATE on the pool's row for the month: it grants what is left
(never more than the limit minus what the claim must leave to others) and records the grant
in the same statement, computed from the row it locked: two processes can never both take
the last unit. The row is created on first use (INSERT ... ON CONFLICT DO NOTHING).
"""

from __future__ import annotations

from sqlalchemy import Table, case, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.models import PlatformQuota

QUOTAS: Table = PlatformQuota.__table__  # type: ignore[assignment]


async def _ensure(session: AsyncSession, pool: str, period: str) -> None:
    connection = await session.connection()
    insert = pg_insert if connection.dialect.name == "postgresql" else sqlite_insert
    await connection.execute(
        insert(QUOTAS)
        .values(pool=pool, period=period, used=0, granted=0)
        .on_conflict_do_nothing(index_elements=["pool", "period"])
    )


async def take(
    session: AsyncSession, pool: str, period: str, wanted: int, limit: int, keep: int = 0
) -> int:
    """Take up to `wanted` units of `pool` this `period`, leaving the last `keep` of `limit`
    untouched; returns how many were granted (0 when nothing is left)."""
    cap = limit - keep
    if wanted <= 0 or cap <= 0:
        return 0
    await _ensure(session, pool, period)
    table = QUOTAS
    left = cap - table.c.used
    grant = case((left >= wanted, wanted), else_=left)
    connection = await session.connection()
    granted = await connection.scalar(
        update(table)
        .where(table.c.pool == pool, table.c.period == period, table.c.used < cap)
        .values(used=table.c.used + grant, granted=grant)  # both from the old row
        .returning(table.c.granted)
    )
    return int(granted or 0)


async def give_back(session: AsyncSession, pool: str, period: str, units: int) -> None:
    """Return units taken for sends that certainly did not happen."""
    if units <= 0:
        return
    table = QUOTAS
    connection = await session.connection()
    await connection.execute(
        update(table)
        .where(table.c.pool == pool, table.c.period == period)
        .values(used=case((table.c.used > units, table.c.used - units), else_=0))
    )


async def exhaust(session: AsyncSession, pool: str, period: str, limit: int) -> None:
    """The platform says the quota is spent: count it spent for the rest of the period."""
    await _ensure(session, pool, period)
    table = QUOTAS
    connection = await session.connection()
    await connection.execute(
        update(table)
        .where(table.c.pool == pool, table.c.period == period, table.c.used < limit)
        .values(used=limit)
    )


async def used(session: AsyncSession, pool: str, period: str) -> int:
    """Units of `pool` used this `period` (0 before the first)."""
    value = await session.scalar(
        select(PlatformQuota.used).where(PlatformQuota.pool == pool, PlatformQuota.period == period)
    )
    return int(value or 0)
