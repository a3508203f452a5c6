"""Citizens' 1-5 ratings of answered cases, and the satisfaction index built from them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import case as sql_case
from sqlalchemy import func, select

from bot.domain.cases import Status
from bot.domain.reports import difference, rating_tally
from bot.errors import InvalidInput
from bot.store import tallies
from bot.store.cases import case_by_code
from bot.store.db import Database
from bot.store.models import Case, Rating

RATEABLE = frozenset({Status.ANSWERED, Status.CLOSED})


@dataclass(frozen=True, slots=True)
class Satisfaction:
    """The satisfaction index: how many ratings, their mean, the share of 4s and 5s."""

    ratings: int
    mean: float | None
    satisfied_share: float | None

    def as_json(self) -> dict[str, Any]:
        """JSON for the REST API."""
        return {
            "ratings": self.ratings,
            "mean": self.mean,
            "satisfied_share": self.satisfied_share,
        }


async def rate_case(
    db: Database,
    code_text: str,
    contact_id: int,
    score: int,
    comment: str = "",
    keep_score: bool = False,
) -> bool:
    """Record the citizen's 1-5 rating of their answered case (a later one replaces it).

    With keep_score, only adds the comment to the existing rating.
    """
    if not keep_score and not 1 <= score <= 5:
        raise InvalidInput("Điểm đánh giá từ 1 đến 5.", code="invalid_rating")
    async with db.session() as session:
        # Locked: its rating's change is added to the report tally from the row read here.
        case = await case_by_code(session, code_text, lock=True)
        if case is None or case.contact_id != contact_id:
            return False
        if case.status not in RATEABLE:
            return False
        existing = (
            await session.execute(select(Rating).where(Rating.case_id == case.id))
        ).scalar_one_or_none()
        before = (
            rating_tally(existing.score, existing.comment) if existing else rating_tally(None, "")
        )
        if keep_score:
            if existing is None:
                return False
            existing.comment = comment
        elif existing is None:
            session.add(
                Rating(case_id=case.id, contact_id=contact_id, score=score, comment=comment)
            )
        else:
            existing.score = score
            existing.comment = comment or existing.comment
        after = (
            rating_tally(score, comment)
            if existing is None
            else rating_tally(existing.score, existing.comment)
        )
        await tallies.add(session, case, difference(after, before))
        return True


async def satisfaction(db: Database, agency_id: int | None = None) -> Satisfaction:
    """Satisfaction index of one agency's cases, or of all when agency_id is None."""
    async with db.session() as session:
        satisfied = func.sum(sql_case((Rating.score >= 4, 1), else_=0))
        query = select(func.count(), func.avg(Rating.score), satisfied).select_from(Rating)
        if agency_id is not None:
            query = query.join(Case, Case.id == Rating.case_id).where(Case.agency_id == agency_id)
        count, mean, satisfied_count = (await session.execute(query)).one()
    count = int(count or 0)
    return Satisfaction(
        ratings=count,
        mean=round(float(mean), 2) if mean is not None else None,
        satisfied_share=round(int(satisfied_count or 0) / count, 3) if count else None,
    )
