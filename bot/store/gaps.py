"""Queries about question gaps (what the explanations did not answer well)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import Row, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.models import Explanation, QuestionGap


async def recent_gaps(
    session: AsyncSession,
    *,
    limit: int,
    since: datetime | None = None,
    places: Collection[str] | None = None,
    every_agency: bool = True,
    agency_id: int | None = None,
) -> list[Row[tuple[str, str, str, datetime]]]:
    """(text, reason, locality, created_at) of the newest `limit` gaps, newest first.

    `places`: only gaps from these locality codes. Unless `every_agency`, only gaps
    attributed to `agency_id` (an unhelpful answer names an explanation slug, which belongs
    to one agency) or to no agency (unanswered questions, slugs no agency has).
    """
    query = (
        select(QuestionGap.text, QuestionGap.reason, QuestionGap.locality, QuestionGap.created_at)
        .order_by(QuestionGap.created_at.desc(), QuestionGap.id.desc())
        .limit(limit)
    )
    if since is not None:
        query = query.where(QuestionGap.created_at >= since)
    if places is not None:
        query = query.where(QuestionGap.locality.in_(sorted(places)))
    if not every_agency:
        named = select(Explanation.id).where(Explanation.slug == QuestionGap.explanation_slug)
        query = query.where(
            or_(
                QuestionGap.explanation_slug.is_(None),
                ~exists(named),
                exists(named.where(Explanation.agency_id == agency_id)),
            )
        )
    return list((await session.execute(query)).all())
