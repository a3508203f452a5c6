"""Legal deadlines on the Vietnamese working-day calendar: the rule table lives here, once.

Sources:
- Explanation requests: Nghị định 90/2013/NĐ-CP on the accountability of state agencies.
  The person responsible decides to accept (or refuse, with reasons) within 05 *working days*
  of receiving the request; gives the explanation within 15 *days* of the acceptance notice;
  for complex matters may extend once, by at most 15 *days*.
- Petitions (phản ánh, kiến nghị): no single statutory period applies to every kind, so the
  period is a setting (default 10 working days).
- Counting (Bộ luật Dân sự 2015, Điều 147-148): a period in days starts the day after the
  event; when its last day is a weekend or public holiday, it ends on the next working day.
Public holidays, lunar ones included (Tết), come from the `holidays` package's VN calendar.
Saturdays made working days by a holiday swap are treated as days off, which can only move a
deadline later, never earlier.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def vietnam_time(moment: datetime) -> datetime:
    """A time an officer typed: one without a zone is Vietnam time (aware ones unchanged).
    ValueError when it has no UTC equivalent (the first or last hours of the calendar, as
    9999-12-31T23:00-05:00): it could be neither stored nor compared."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=VN_TZ)
    try:
        aware.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError(f"{moment.isoformat()} is outside the calendar") from exc
    return aware


class Unit(StrEnum):
    """How a period counts."""

    WORKING_DAYS = "working_days"
    DAYS = "days"


@dataclass(frozen=True, slots=True)
class Period:
    """A legal period: a length and how it counts."""

    length: int
    unit: Unit


class Step(StrEnum):
    """The deadline a case is waiting on."""

    ACCEPT = "accept"  # decide to accept or refuse
    ANSWER = "answer"  # give the explanation / handle the petition
    EXTENSION = "extension"  # the one extension allowed


# The rule table. Keys: (case kind, step).
RULES: dict[tuple[str, Step], Period] = {
    ("explanation", Step.ACCEPT): Period(5, Unit.WORKING_DAYS),
    ("explanation", Step.ANSWER): Period(15, Unit.DAYS),
    ("explanation", Step.EXTENSION): Period(15, Unit.DAYS),
    ("petition", Step.ANSWER): Period(10, Unit.WORKING_DAYS),
    ("petition", Step.EXTENSION): Period(10, Unit.WORKING_DAYS),
}


@lru_cache(maxsize=64)
def _holidays_of(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("VN", years=year).keys())


def is_working_day(day: date) -> bool:
    """Monday to Friday and not a Vietnamese public holiday."""
    return day.weekday() < 5 and day not in _holidays_of(day.year)


def next_working_day(day: date) -> date:
    """`day` itself when it is a working day, else the first working day after it."""
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def add_working_days(start: date, count: int) -> date:
    """The `count`-th working day after `start` (start itself not counted)."""
    day = start
    remaining = count
    while remaining > 0:
        day += timedelta(days=1)
        if is_working_day(day):
            remaining -= 1
    return day


def end_of_period(start: date, period: Period) -> date:
    """Last day of a period that starts counting the day after `start`."""
    if period.unit is Unit.WORKING_DAYS:
        return add_working_days(start, period.length)
    return next_working_day(start + timedelta(days=period.length))


def due_at(event: datetime, period: Period) -> datetime:
    """The instant a period ends: the end of its last day, Vietnam time (aware datetime)."""
    if event.tzinfo is None:
        raise ValueError("event time must be timezone-aware")
    local_day = event.astimezone(VN_TZ).date()
    last = end_of_period(local_day, period)
    return datetime.combine(last, time(23, 59, 59), tzinfo=VN_TZ)


def deadline(kind: str, step: Step, event: datetime, petition_days: int | None = None) -> datetime:
    """Due instant for `kind` at `step`, counted from `event` (petition period configurable)."""
    period = RULES[(kind, step)]
    if kind == "petition" and petition_days is not None:
        period = Period(petition_days, period.unit)
    return due_at(event, period)
