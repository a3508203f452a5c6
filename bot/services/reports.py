"""Reports per agency, topic, place and period (issue 16): the figures the API, the CLI and
(later) the console show, as one `Report`, from the SQL aggregates of bot/store/reports.py
under the rules of bot/domain/reports.py."""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.actors import Actor
from bot.domain.localities import by_code, codes_within
from bot.domain.permissions import Action, require
from bot.domain.reports import ReportPeriod, nearest_rank, share, whole_months
from bot.errors import Forbidden, InvalidInput
from bot.store import reports as queries
from bot.store import tallies
from bot.store.agencies import agency_by_slug
from bot.store.db import Database
from bot.store.models import utcnow


@dataclass(frozen=True, slots=True)
class ReportFilter:
    """What a report covers: a period, and optionally an agency (slug), a place (a commune's
    or a province's code) and a topic (slug)."""

    period: ReportPeriod
    agency: str | None = None
    locality: str | None = None
    topic: str | None = None


def case_figures(rows: list[queries.CountRow], days: dict[int, int]) -> dict[str, Any]:
    """The case figures of a group of count rows (one place's, or all), as JSON: received by
    kind and channel, on-time rates, working days to answer, extensions, overdue,
    satisfaction."""
    c: dict[str, int] = dict.fromkeys(queries.COUNTS, 0)
    by_kind: dict[str, int] = {}
    by_channel: dict[str, int] = {}
    for row in rows:
        for name, n in row.counts.items():
            c[name] += n
        n = row.counts.get("received", 0)  # open_counts' rows count no receipts
        if not n:
            continue
        by_kind[row.kind] = by_kind.get(row.kind, 0) + n
        by_channel[row.channel or "none"] = by_channel.get(row.channel or "none", 0) + n
    return {
        "received": c["received"],
        "received_by_kind": dict(sorted(by_kind.items())),
        "received_by_channel": dict(sorted(by_channel.items())),
        "withdrawn": c["withdrawn"],
        "acceptance": {
            "due": c["acceptance_due"],
            "on_time": c["acceptance_on_time"],
            "on_time_share": share(c["acceptance_on_time"], c["acceptance_due"]),
        },
        "answer": {
            "due": c["answer_due"],
            "on_time": c["answer_on_time"],
            "on_time_share": share(c["answer_on_time"], c["answer_due"]),
            "answered": c["answered"],
            "median_working_days": nearest_rank(days, 0.5),
            "p90_working_days": nearest_rank(days, 0.9),
        },
        "extended_cases": c["extended"],
        "extensions": c["extensions"],
        "overdue_now": c["overdue_now"],
        "satisfaction": {
            "ratings": c["ratings"],
            "mean": round(c["rating_sum"] / c["ratings"], 2) if c["ratings"] else None,
            "satisfied_share": share(c["satisfied"], c["ratings"]),
            "comments": c["comments"],
        },
    }


@dataclass(frozen=True, slots=True)
class Report:
    """One report: its filter, when it was computed, the totals, one row per place, and the
    agency-wide figures (handoffs, question gaps, broadcasts)."""

    filter: ReportFilter
    as_of: datetime
    cases: dict[str, Any]
    by_locality: dict[str, dict[str, Any]] = field(default_factory=dict)
    handoffs: dict[str, Any] = field(default_factory=dict)
    top_gaps: list[tuple[str, int]] = field(default_factory=list)
    broadcasts: dict[str, int] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """JSON for the API and `giaitrinh report`."""
        return {
            "period": self.filter.period.as_json(),
            "agency": self.filter.agency,
            "locality": self.filter.locality,
            "topic": self.filter.topic,
            "as_of": self.as_of.isoformat(),
            "cases": self.cases,
            "by_locality": self.by_locality,
            "handoffs": self.handoffs,
            "top_gaps": [{"text": t, "count": n} for t, n in self.top_gaps],
            "broadcasts": self.broadcasts,
        }

    def as_csv(self) -> str:
        """The same figures as CSV, one per line: scope (total, a place's code, gaps,
        handoffs, broadcasts), metric (dotted path), value."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["scope", "metric", "value"])
        for scope, figures in [("total", self.cases), *self.by_locality.items()]:
            for metric, value in _flat(figures):
                writer.writerow([scope, metric, "" if value is None else value])
        for metric, value in _flat(self.handoffs):
            writer.writerow(["handoffs", metric, "" if value is None else value])
        for metric, value in _flat(self.broadcasts):
            writer.writerow(["broadcasts", metric, value])
        for text, n in self.top_gaps:
            writer.writerow(["gaps", text, n])
        return out.getvalue()


def _flat(figures: dict[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    rows: list[tuple[str, Any]] = []
    for name, value in figures.items():
        if isinstance(value, dict):
            rows.extend(_flat(value, f"{prefix}{name}."))
        else:
            rows.append((f"{prefix}{name}", value))
    return rows


def top_gaps(counts: list[tuple[str, int]], limit: int = 10) -> list[tuple[str, int]]:
    """The `limit` most recorded gaps, the same text in any letter case counted as one and
    shown in its most recorded spelling; most first, then alphabetically."""
    merged: dict[str, int] = {}
    spelling: dict[str, tuple[int, str]] = {}
    for text, n in counts:
        key = text.casefold()
        merged[key] = merged.get(key, 0) + n
        if key not in spelling or (n, text) > spelling[key]:
            spelling[key] = (n, text)
    ranked = sorted(merged.items(), key=lambda item: (-item[1], item[0]))[:limit]
    return [(spelling[key][1], n) for key, n in ranked]


async def _counts(
    session: AsyncSession,
    scope: queries.CaseScope,
    period: ReportPeriod,
    by: str | None,
    as_of: datetime,
    tally: bool,
) -> tuple[list[queries.CountRow], dict[str, dict[int, int]]]:
    """The count rows and working-days histograms of the scope: with `tally` (no place
    filter: tallies have provinces, not communes), whole months from the tallies and their
    open cases, the days around them from the cases; otherwise all from the cases."""
    head, months, tail = whole_months(period)
    if not tally or months is None:
        return (
            await queries.case_counts(session, scope, by, as_of),
            await queries.answer_days(session, scope, by),
        )
    first, last = months.first, months.last.replace(day=1)
    rows = await tallies.counts(session, first, last, scope.agency_id, scope.topic, None)
    days: dict[str, Counter[int]] = {}
    for key, histogram in (
        await tallies.days(session, first, last, scope.agency_id, scope.topic, None)
    ).items():
        days.setdefault(key, Counter()).update(histogram)
    within = replace(scope, starts=months.starts, ends=months.ends)
    rows += await queries.open_counts(session, within, by, as_of)
    for part in (head, tail):
        if part is not None:
            edge = replace(scope, starts=part.starts, ends=part.ends)
            rows += await queries.case_counts(session, edge, by, as_of)
            for key, histogram in (await queries.answer_days(session, edge, by)).items():
                days.setdefault(key, Counter()).update(histogram)
    return rows, {key: dict(histogram) for key, histogram in days.items()}


async def agency_figures(
    session: AsyncSession, agency_id: int, period: ReportPeriod, as_of: datetime
) -> dict[str, Any]:
    """One agency's case figures over a period, all places and topics (the public
    scoreboard's: whole months from the tallies)."""
    scope = queries.CaseScope(starts=period.starts, ends=period.ends, agency_id=agency_id)
    rows, days = await _counts(session, scope, period, None, as_of, True)
    everything: Counter[int] = Counter()
    for histogram in days.values():
        everything.update(histogram)
    return case_figures(rows, dict(everything))


async def report(
    db: Database, actor: Actor, wanted: ReportFilter, now: datetime | None = None
) -> Report:
    """The report `wanted`, as of now; an officer sees their own agency's only (no agency
    given: theirs), an admin any agency or all (no agency given)."""
    require(actor, Action.READ_REPORTS)
    as_of = now or utcnow()
    place = by_code(wanted.locality) if wanted.locality else None
    if wanted.locality and place is None:
        raise InvalidInput(f"Không có địa bàn {wanted.locality}.", code="invalid_locality")
    async with db.session(read_only=True) as session:
        agency_id = None if actor.sees_every_agency else actor.agency_id
        if wanted.agency is not None:
            agency = await agency_by_slug(session, wanted.agency)
            if agency is None:
                raise InvalidInput(f"Không có cơ quan {wanted.agency}.", code="unknown_agency")
            if not actor.may_see(agency.id):
                raise Forbidden("Báo cáo của cơ quan khác.", code="other_agency")
            agency_id = agency.id
        period = wanted.period
        scope = queries.CaseScope(
            starts=period.starts,
            ends=period.ends,
            agency_id=agency_id,
            topic=wanted.topic,
            commune=wanted.locality if place is not None and place.level == 2 else None,
            # A commune's cases are found through its province's index.
            province=f"p:{place.province_code}" if place is not None else None,
        )
        # A province's report sets its communes side by side; the country's, its provinces.
        # Counts come per group (and kind and channel); the totals are the groups' sums.
        by = None if place is not None and place.level == 2 else "locality" if place else "province"
        rows, days = await _counts(session, scope, period, by, as_of, place is None)
        groups: dict[str, list[queries.CountRow]] = {}
        for row in rows:
            groups.setdefault(row.key, []).append(row)
        everything: Counter[int] = Counter()
        for histogram in days.values():
            everything.update(histogram)
        by_locality = {
            key or "none": case_figures(group, days.get(key, {}))
            for key, group in sorted(groups.items())
        }
        places = codes_within(wanted.locality) if wanted.locality else None
        return Report(
            filter=wanted,
            as_of=as_of,
            cases=case_figures(rows, dict(everything)),
            by_locality=by_locality if by else {},
            handoffs=await queries.handoffs(session, period.starts, period.ends, agency_id),
            top_gaps=top_gaps(
                await queries.gap_counts(session, period.starts, period.ends, agency_id, places)
            ),
            broadcasts=await queries.broadcast_reach(
                session, period.starts, period.ends, agency_id
            ),
        )
