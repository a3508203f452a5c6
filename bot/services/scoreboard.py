"""The public scoreboard (/cong-khai): per agency, over the last 12 months, how many cases it
received, how many it decided and answered on time, the median time to answer and how
satisfied people were, with the monthly trend. Aggregates only: no case text, no name, and no
figure resting on fewer than MIN_PUBLIC_CASES cases (bot/domain/reports.py `public`).

It is computed from the same figures as the agencies' reports (bot/services/reports.py
`agency_figures`, whole months from the tallies) and kept for a few minutes: anyone may ask
for it, so asking often must not cost the database more than once per `ScoreboardCache.ttl`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from bot.domain.reports import MIN_PUBLIC_CASES, ReportPeriod, last_months, local_day, public
from bot.services.reports import agency_figures
from bot.store.agencies import every_agency
from bot.store.db import Database
from bot.store.models import utcnow

MONTHS = 12


@dataclass(frozen=True, slots=True)
class Score:
    """One agency's public figures over a period (None: not shown, too few cases)."""

    received: int | None
    acceptance_on_time: float | None  # share of explanation requests decided by their deadline
    answer_on_time: float | None  # share of cases answered by their deadline
    median_days: int | None  # working days to answer, median
    satisfaction: float | None  # mean rating, 1..5
    satisfied: float | None  # share of ratings 4 or 5

    @staticmethod
    def of(figures: dict[str, Any]) -> Score:
        """The public part of a report's case figures."""
        acceptance, answer = figures["acceptance"], figures["answer"]
        rated = figures["satisfaction"]
        return Score(
            received=public(figures["received"], figures["received"]),
            acceptance_on_time=public(acceptance["on_time_share"], acceptance["due"]),
            answer_on_time=public(answer["on_time_share"], answer["due"]),
            median_days=public(answer["median_working_days"], answer["answered"]),
            satisfaction=public(rated["mean"], rated["ratings"]),
            satisfied=public(rated["satisfied_share"], rated["ratings"]),
        )

    def as_json(self) -> dict[str, Any]:
        """JSON (open data)."""
        return {
            "received": self.received,
            "acceptance_on_time": self.acceptance_on_time,
            "answer_on_time": self.answer_on_time,
            "median_working_days_to_answer": self.median_days,
            "satisfaction_mean": self.satisfaction,
            "satisfied_share": self.satisfied,
        }


@dataclass(frozen=True, slots=True)
class AgencyScore:
    """An agency's figures over the whole span and month by month (oldest first)."""

    slug: str
    name: str
    total: Score
    months: tuple[tuple[date, Score], ...]

    def as_json(self) -> dict[str, Any]:
        """JSON (open data)."""
        return {
            "agency": self.slug,
            "name": self.name,
            "total": self.total.as_json(),
            "months": [{"month": m.strftime("%Y-%m"), **s.as_json()} for m, s in self.months],
        }


@dataclass(frozen=True, slots=True)
class Scoreboard:
    """Every agency's scores from `first` to `last` (Vietnam dates), computed at `as_of`."""

    first: date
    last: date
    as_of: datetime
    agencies: tuple[AgencyScore, ...]

    def as_json(self) -> dict[str, Any]:
        """JSON (open data): the same figures as the page."""
        return {
            "from": self.first.isoformat(),
            "to": self.last.isoformat(),
            "as_of": self.as_of.isoformat(),
            "min_cases": MIN_PUBLIC_CASES,
            "agencies": [a.as_json() for a in self.agencies],
        }


async def scoreboard(db: Database, now: datetime | None = None) -> Scoreboard:
    """Every agency's public figures over the last MONTHS months, up to now."""
    as_of = now or utcnow()
    months = last_months(local_day(as_of), MONTHS)
    span = ReportPeriod(months[0].first, months[-1].last)
    out = []
    async with db.session(read_only=True) as session:
        for agency in await every_agency(session):
            total = await agency_figures(session, agency.id, span, as_of)
            monthly = [
                (m.first, Score.of(await agency_figures(session, agency.id, m, as_of)))
                for m in months
            ]
            out.append(AgencyScore(agency.slug, agency.name, Score.of(total), tuple(monthly)))
    return Scoreboard(span.first, span.last, as_of, tuple(out))


class ScoreboardCache:
    """The scoreboard computed at most once per `ttl` seconds in this process, however many
    ask at once (one computes, the others wait for it)."""

    def __init__(self, ttl: float = 300.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self._clock = clock
        self._lock = asyncio.Lock()
        self._kept: tuple[float, Scoreboard] | None = None

    async def get(self, db: Database) -> Scoreboard:
        """The scoreboard, from the cache while it is fresh."""
        async with self._lock:
            if self._kept is None or self._clock() - self._kept[0] >= self.ttl:
                self._kept = (self._clock(), await scoreboard(db))
            return self._kept[1]
