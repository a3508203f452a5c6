"""Queries about agencies."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import NotFound
from bot.store.models import Agency


async def primary_agency(session: AsyncSession) -> Agency:
    """The first agency configured: one deployment usually serves one agency, which receives
    what citizens file in chat (until cases are routed per agency; publications go under
    the publisher's agency)."""
    agency = (
        await session.execute(select(Agency).order_by(Agency.id).limit(1))
    ).scalar_one_or_none()
    if agency is None:
        raise NotFound("Chưa cấu hình cơ quan tiếp nhận.", code="no_agency")
    return agency


async def agency_by_slug(session: AsyncSession, slug: str) -> Agency | None:
    """An agency by the slug staff name it with (API bodies, CLI options)."""
    return (await session.execute(select(Agency).where(Agency.slug == slug))).scalar_one_or_none()


async def every_agency(session: AsyncSession) -> list[Agency]:
    """All agencies, by name (the public scoreboard lists each)."""
    return list((await session.execute(select(Agency).order_by(Agency.name, Agency.id))).scalars())
