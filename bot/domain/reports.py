"""What the agencies' reports count, decided once: the period, "on time", working days taken,
percentiles, and the milestones a case records as it moves (so reports aggregate in SQL).

Decisions (docs/architecture.md, "Reports"):
- A case belongs to the period it was *received* in: from the first day's Vietnam midnight to
  the midnight after the last day. What happened to it later (decided, answered, overdue) is
  counted with it as known when the report runs (`as_of`), even after the period ended.
- Acceptance (explanation requests only; a petition has no acceptance decision): on time when
  the decision (accepted or refused) is made by the acceptance deadline recorded at filing.
  A case still undecided counts as late once that deadline has passed, and is left out while
  it has not.
- Answering (accepted explanation requests and petitions): on time when answered by the
  answer deadline the case holds (the extended one after an extension). A case unanswered
  past it counts as late; refused cases have no answer deadline and are left out.
- A withdrawn case is counted as received and left out of both on-time rates.
- Time to answer: working days (Vietnamese calendar, holidays.py's VN holidays) after the day
  received up to and including the day answered, both Vietnam dates; answered the same day = 0.
- Median and 90th percentile by nearest rank: the smallest value with at least that share of
  values at or below it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, TypeVar

from bot.domain.cases import Kind, Status
from bot.domain.deadlines import VN_TZ, is_working_day
from bot.errors import InvalidInput

# The longest period one report covers: a few years of daily data is plenty, and it bounds
# the working-day arithmetic below.
MAX_PERIOD_DAYS = 3660


@dataclass(frozen=True, slots=True)
class ReportPeriod:
    """Days first..last inclusive, Vietnam dates."""

    first: date
    last: date

    def __post_init__(self) -> None:
        if self.first > self.last:
            raise InvalidInput("Ngày bắt đầu sau ngày kết thúc.", code="invalid_period")
        if (self.last - self.first).days >= MAX_PERIOD_DAYS:
            raise InvalidInput("Khoảng thời gian quá dài (tối đa 10 năm).", code="invalid_period")

    @property
    def starts(self) -> datetime:
        """The first instant of the period (Vietnam midnight of its first day)."""
        return datetime.combine(self.first, time(0), tzinfo=VN_TZ)

    @property
    def ends(self) -> datetime:
        """The first instant after the period (Vietnam midnight after its last day)."""
        return datetime.combine(self.last + timedelta(days=1), time(0), tzinfo=VN_TZ)

    def as_json(self) -> dict[str, str]:
        """JSON for the API."""
        return {"from": self.first.isoformat(), "to": self.last.isoformat()}


def local_day(moment: datetime) -> date:
    """The Vietnam date of an instant."""
    if moment.tzinfo is None:
        raise ValueError("moment must be timezone-aware")
    return moment.astimezone(VN_TZ).date()


def working_days_between(start: date, end: date) -> int:
    """Working days after `start` up to and including `end` (0 when end ≤ start)."""
    count = 0
    day = start + timedelta(days=1)
    while day <= end:
        if is_working_day(day):
            count += 1
        day += timedelta(days=1)
    return count


def working_days_taken(received_at: datetime, answered_at: datetime) -> int:
    """How many working days a case took to be answered (Vietnam dates)."""
    return working_days_between(local_day(received_at), local_day(answered_at))


def nearest_rank(histogram: Mapping[int, int], share: float) -> int | None:
    """The value at `share` (0 < share ≤ 1) of a histogram {value: how many}, by nearest
    rank; None when it is empty. A histogram, not a list, so SQL can count it."""
    total = sum(histogram.values())
    if total == 0:
        return None
    rank = max(1, math.ceil(share * total))
    seen = 0
    for value in sorted(histogram):
        seen += histogram[value]
        if seen >= rank:
            return value
    raise AssertionError("unreachable: the ranks add up to the total")


def share(part: int, whole: int) -> float | None:
    """part / whole rounded to 3 places; None when there is nothing to divide."""
    return round(part / whole, 3) if whole else None


def milestones(
    kind: Kind, to: Status, due_at: datetime | None, at: datetime, received_at: datetime
) -> dict[str, Any]:
    """The report columns a transition to `to` at `at` sets on a case (with the new `due_at`
    the status machine decided): when the acceptance was decided, the answer deadline in
    force, when it was answered and in how many working days."""
    marks: dict[str, Any] = {}
    if kind is Kind.EXPLANATION and to in (Status.ACCEPTED, Status.REFUSED):
        marks["decided_at"] = at
    if to in (Status.ACCEPTED, Status.EXTENDED):
        marks["answer_due_at"] = due_at
    if to is Status.REFUSED:  # a refused petition had one from filing: it no longer runs
        marks["answer_due_at"] = None
    if to is Status.ANSWERED:
        marks["answered_at"] = at
        marks["answer_working_days"] = working_days_taken(received_at, at)
    return marks


def filing_milestones(kind: Kind, due_at: datetime) -> dict[str, Any]:
    """The report columns set when a case is filed: its first deadline is the acceptance
    decision's (explanation request) or the answer's (petition)."""
    if kind is Kind.EXPLANATION:
        return {"accept_due_at": due_at}
    return {"answer_due_at": due_at}


def month_of(received_at: datetime) -> date:
    """The first day of the Vietnam month a case was received in: its tally's month."""
    return local_day(received_at).replace(day=1)


def case_tally(
    kind: Kind,
    status: Status,
    extensions: int,
    accept_due_at: datetime | None,
    decided_at: datetime | None,
    answer_due_at: datetime | None,
    answered_at: datetime | None,
) -> dict[str, int]:
    """What one case adds to its month's tally: the counts that no longer depend on when the
    report runs (an undecided or unanswered case's lateness does, and is read from the open
    cases). Same rules as the reports' SQL over cases (bot/store/reports.py)."""
    kept = status is not Status.WITHDRAWN
    decided = on_time_decision = answered = on_time_answer = False
    if kept and kind is Kind.EXPLANATION and accept_due_at and decided_at:
        decided, on_time_decision = True, decided_at <= accept_due_at
    if kept and answer_due_at and answered_at:
        answered, on_time_answer = True, answered_at <= answer_due_at
    return {
        "received": 1,
        "withdrawn": int(not kept),
        "acceptance_due": int(decided),
        "acceptance_on_time": int(on_time_decision),
        "answer_due": int(answered),
        "answer_on_time": int(on_time_answer),
        "answered": int(answered_at is not None),
        "extended": int(extensions > 0),
        "extensions": extensions,
    }


def rating_tally(score: int | None, comment: str) -> dict[str, int]:
    """What a rating (None: none) adds to its case's month's tally."""
    if score is None:
        return {"ratings": 0, "rating_sum": 0, "satisfied": 0, "comments": 0}
    return {
        "ratings": 1,
        "rating_sum": score,
        "satisfied": int(score >= 4),
        "comments": int(bool(comment)),
    }


def difference(after: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    """after − before, name by name, without the zeros."""
    names = after.keys() | before.keys()
    delta = {n: after.get(n, 0) - before.get(n, 0) for n in names}
    return {n: d for n, d in delta.items() if d}


def whole_months(
    period: ReportPeriod,
) -> tuple[ReportPeriod | None, ReportPeriod | None, ReportPeriod | None]:
    """The period as (days before its first whole month, its whole months, days after them);
    None for a part it does not have. Whole months are read from the tallies."""
    start = period.first if period.first.day == 1 else _next_month(period.first)
    after = period.last + timedelta(days=1)
    end = after if after.day == 1 else period.last.replace(day=1)  # first day after them
    if start >= end:
        return None, None, None
    head = ReportPeriod(period.first, start - timedelta(days=1)) if period.first < start else None
    tail = ReportPeriod(end, period.last) if end <= period.last else None
    return head, ReportPeriod(start, end - timedelta(days=1)), tail


def _next_month(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


# The public scoreboard shows no figure computed from fewer cases than this: a rate over two
# cases says little and could point at the people behind them.
MIN_PUBLIC_CASES = 5
_Figure = TypeVar("_Figure", int, float)


def public(value: _Figure | None, base: int) -> _Figure | None:
    """A figure as the public may see it: None (not shown) when it rests on too few cases."""
    return value if base >= MIN_PUBLIC_CASES else None


def last_months(today: date, n: int) -> list[ReportPeriod]:
    """The `n` calendar months ending with today's (that one up to today), oldest first."""
    months: list[ReportPeriod] = []
    first = today.replace(day=1)
    last = today
    for _ in range(n):
        months.append(ReportPeriod(first, last))
        last = first - timedelta(days=1)
        first = last.replace(day=1)
    return months[::-1]
