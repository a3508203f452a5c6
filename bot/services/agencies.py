"""Read-side use cases about the agency that runs this assistant."""

from __future__ import annotations

from dataclasses import dataclass

from bot.errors import NotFound
from bot.store.agencies import primary_agency
from bot.store.db import Database


@dataclass(frozen=True, slots=True)
class AgencyInfo:
    """What a citizen needs to reach the agency outside the chat."""

    name: str
    contact: str


async def agency_info(db: Database) -> AgencyInfo | None:
    """How citizens reach the agency that runs this assistant (None before any is set up)."""
    async with db.session() as session:
        try:
            agency = await primary_agency(session)
        except NotFound:
            return None
        return AgencyInfo(name=agency.name, contact=agency.contact)
