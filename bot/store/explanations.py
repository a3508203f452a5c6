"""Queries about explanations (versioned by slug) and the topics they are filed under."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import String, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.models import Agency, Broadcast, Explanation, Topic


async def current_version(
    session: AsyncSession, slug: str, *, lock: bool = False
) -> Explanation | None:
    """The current version of a slug. With `lock` the row stays locked until the
    transaction ends, so two publishers cannot both replace it (one current version)."""
    query = select(Explanation).where(Explanation.slug == slug, Explanation.is_current.is_(True))
    if lock:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def numbered_version(session: AsyncSession, slug: str, version: int) -> Explanation | None:
    """One version of a slug by its number, current or not."""
    query = select(Explanation).where(Explanation.slug == slug, Explanation.version == version)
    return (await session.execute(query)).scalar_one_or_none()


async def latest_version_number(session: AsyncSession, slug: str) -> int:
    """The highest version number of a slug, scheduled ones included (0 for a new slug)."""
    latest = await session.scalar(
        select(func.max(Explanation.version)).where(Explanation.slug == slug)
    )
    return int(latest or 0)


async def slug_owner(session: AsyncSession, slug: str) -> int | None:
    """The agency a slug belongs to (that of its first version); None for a new slug."""
    query = (
        select(Explanation.agency_id)
        .where(Explanation.slug == slug)
        .order_by(Explanation.version)
        .limit(1)
    )
    owner = await session.scalar(query)
    return int(owner) if owner is not None else None


async def topic_slugs(session: AsyncSession) -> set[str]:
    """Every topic's slug: what an explanation may be filed under."""
    return set((await session.execute(select(Topic.slug))).scalars())


async def topic_names(session: AsyncSession, slugs: Iterable[str]) -> list[str]:
    """The names of the given topics (for the line saying why a broadcast arrives)."""
    return list((await session.execute(select(Topic.name).where(Topic.slug.in_(slugs)))).scalars())


async def every_version(session: AsyncSession, slug: str) -> list[Explanation]:
    """Every version of a slug, newest first (scheduled ones included)."""
    query = select(Explanation).where(Explanation.slug == slug).order_by(Explanation.version.desc())
    return list((await session.execute(query)).scalars())


async def broadcasts_of(session: AsyncSession, explanation_ids: Iterable[int]) -> list[Broadcast]:
    """The broadcasts of these versions, newest first."""
    query = (
        select(Broadcast)
        .where(Broadcast.explanation_id.in_(list(explanation_ids)))
        .order_by(Broadcast.id.desc())
    )
    return list((await session.execute(query)).scalars())


async def every_topic(session: AsyncSession) -> list[tuple[str, str]]:
    """Every topic as (slug, name), by name: what a publication may be filed under."""
    return [
        (t.slug, t.name)
        for t in (await session.execute(select(Topic).order_by(Topic.name))).scalars()
    ]


async def current_stamp(session: AsyncSession) -> tuple[int, int]:
    """(count, sum of ids) of the current versions: it changes with every change of which
    versions are current, so a process holding a copy of them knows when to look again.

    Exact because a version stops being current only when a newer version of its slug,
    a row inserted after it (a higher id), becomes current in the same transaction
    (`publish`, a scheduled release, the demo loader), and rows are never edited or
    deleted: every change raises the count or the sum and lowers neither, so no sequence
    of changes, committed in any order, gives the same pair back. A feature that makes a
    version stop being current otherwise (withdrawing one) must keep that true."""
    count, total = (
        await session.execute(
            select(func.count(), func.coalesce(func.sum(Explanation.id), 0)).where(
                Explanation.is_current.is_(True)
            )
        )
    ).one()
    return int(count), int(total)


async def current_ids(session: AsyncSession) -> set[int]:
    """The ids of the current versions, read as one string: 10,000 result rows cost tens of
    milliseconds and, in a process holding a large heap, a full garbage collection."""
    query = select(func.aggregate_strings(cast(Explanation.id, String), ",")).where(
        Explanation.is_current.is_(True)
    )
    joined = await session.scalar(query)
    return {int(i) for i in joined.split(",")} if joined else set()


async def with_agency_names(
    session: AsyncSession, ids: Iterable[int], batch: int = 1000
) -> list[tuple[Explanation, str]]:
    """These versions with their agency's name, by id (in batches: a bound parameter each)."""
    wanted = sorted(ids)
    rows: list[tuple[Explanation, str]] = []
    for start in range(0, len(wanted), batch):
        query = (
            select(Explanation, Agency.name)
            .join(Agency, Agency.id == Explanation.agency_id)
            .where(Explanation.id.in_(wanted[start : start + batch]))
            .order_by(Explanation.id)
        )
        rows += [(e, name) for e, name in (await session.execute(query)).all()]
    return rows
