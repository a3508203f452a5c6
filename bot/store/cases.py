"""Queries about cases shared by the case services."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import codes
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
