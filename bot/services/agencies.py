"""Read-side use cases about the agency that runs this assistant."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from bot.store.db import Database
from bot.store.models import Agency


@dataclass(frozen=True, slots=True)
class AgencyInfo:
    """What a citizen needs to reach the agency outside the chat."""

    name: str
    contact: str


async def primary_agency(db: Database) -> AgencyInfo | None:
    """The first agency configured (one deployment usually serves one agency)."""
    async with db.session() as session:
        agency = (
            await session.execute(select(Agency).order_by(Agency.id).limit(1))
        ).scalar_one_or_none()
        if agency is None:
            return None
        return AgencyInfo(name=agency.name, contact=agency.contact)
