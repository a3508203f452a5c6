"""Officer notices: who must see what happens to a case, writing the notices and reading
an officer's list."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import codes
from bot.domain.roles import Role
from bot.store.db import Database
from bot.store.models import Case, OfficerNotice, User


@dataclass(frozen=True, slots=True)
class Notice:
    """A notice as the API shows it."""

    kind: str
    text: str
    case_code: str | None
    created_at: datetime

    def as_json(self) -> dict[str, Any]:
        """JSON for the REST API (the case code as people read it)."""
        return {
            "kind": self.kind,
            "text": self.text,
            "case": codes.display(self.case_code) if self.case_code else None,
            "created_at": self.created_at.isoformat(),
        }


async def officers_for(session: AsyncSession, case: Case) -> list[int]:
    """Who must see what happens to a case: the assigned officer, or, while nobody is
    assigned, every officer of the agency."""
    if case.assigned_to_id is not None:
        return [case.assigned_to_id]
    rows = await session.execute(
        select(User.id).where(User.agency_id == case.agency_id, User.role == Role.OFFICER)
    )
    return list(rows.scalars())


async def notice_officers(session: AsyncSession, case: Case, kind: str, text: str) -> int:
    """Add a notice for each officer in charge of the case, in the caller's transaction;
    returns how many."""
    users = await officers_for(session, case)
    session.add_all(
        OfficerNotice(user_id=user_id, case_id=case.id, kind=kind, text=text) for user_id in users
    )
    return len(users)


async def notices_for(db: Database, user_id: int | None) -> list[Notice]:
    """An officer's notices (due soon, overdue, withdrawn), newest first, at most 200."""
    async with db.session() as session:
        rows = (
            (
                await session.execute(
                    select(OfficerNotice, Case.code)
                    .outerjoin(Case, Case.id == OfficerNotice.case_id)
                    .where(OfficerNotice.user_id == user_id)
                    .order_by(OfficerNotice.id.desc())
                    .limit(200)
                )
            )
            .tuples()
            .all()
        )
    return [Notice(n.kind, n.text, code, n.created_at) for n, code in rows]
