"""Queries about cases shared by the case services."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import codes
from bot.domain.cases import OPEN_STATUSES
from bot.store.models import Case


async def case_by_code(session: AsyncSession, code_text: str, lock: bool = False) -> Case | None:
    """The case a typed code names (any spelling `codes.parse` accepts), or None; `lock`
    holds the row (FOR UPDATE) for a change."""
    code = codes.parse(code_text)
    if code is None:
        return None
    query = select(Case).where(Case.code == code)
    if lock:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def overdue_count(session: AsyncSession, now: datetime) -> int:
    """Cases still waiting for the agency whose deadline has passed (the case list's
    `overdue` filter, counted)."""
    query = select(func.count()).where(Case.due_at < now, Case.status.in_(OPEN_STATUSES))
    return int(await session.scalar(query) or 0)
