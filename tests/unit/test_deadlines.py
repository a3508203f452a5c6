"""Deadline rules over weekends and Vietnamese holidays (real 2026 periods)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.domain.deadlines import (
    VN_TZ,
    Step,
    add_working_days,
    deadline,
    is_working_day,
)


def vn(y: int, m: int, d: int, hour: int = 9) -> datetime:
    return datetime(y, m, d, hour, tzinfo=VN_TZ)


@pytest.mark.parametrize(
    "day",
    [date(2026, 2, 16), date(2026, 2, 20), date(2026, 4, 30), date(2026, 5, 1), date(2026, 9, 2)],
)
def test_holidays_are_not_working_days(day: date) -> None:
    assert not is_working_day(day)


def test_acceptance_over_tet_2026_skips_the_whole_holiday() -> None:
    # Received Friday 13 Feb; Tết 16-20 Feb and two weekends: 5th working day is 27 Feb.
    due = deadline("explanation", Step.ACCEPT, vn(2026, 2, 13))
    assert due.date() == date(2026, 2, 27)
    assert due.tzinfo is not None and due.hour == 23


def test_acceptance_over_30_april_and_1_may() -> None:
    # Received Wednesday 29 Apr: 30 Apr, 1 May holidays, weekend; 5th working day is Fri 8 May.
    assert deadline("explanation", Step.ACCEPT, vn(2026, 4, 29)).date() == date(2026, 5, 8)


def test_receipt_on_a_sunday_counts_from_monday() -> None:
    assert deadline("explanation", Step.ACCEPT, vn(2026, 3, 8)).date() == date(2026, 3, 13)


def test_explanation_period_counts_days_and_ends_on_a_working_day() -> None:
    # Accepted 18 Aug 2026: day 15 is 2 Sep (National Day) → ends Thursday 3 Sep.
    assert deadline("explanation", Step.ANSWER, vn(2026, 8, 18)).date() == date(2026, 9, 3)
    # Accepted 1 Jun 2026: day 15 is Tuesday 16 Jun, a working day.
    assert deadline("explanation", Step.ANSWER, vn(2026, 6, 1)).date() == date(2026, 6, 16)


def test_extension_is_at_most_15_more_days() -> None:
    assert deadline("explanation", Step.EXTENSION, vn(2026, 9, 3)).date() == date(2026, 9, 18)


def test_petition_default_and_configured_period() -> None:
    assert deadline("petition", Step.ANSWER, vn(2026, 2, 13)).date() == date(2026, 3, 6)
    assert deadline("petition", Step.ANSWER, vn(2026, 2, 13), petition_days=3).date() == date(
        2026, 2, 25
    )


def test_late_evening_utc_is_already_the_next_day_in_vietnam() -> None:
    # 20:00 UTC on Thursday 12 Feb is 03:00 Friday 13 Feb in Hà Nội.
    event = datetime(2026, 2, 12, 20, 0, tzinfo=UTC)
    assert deadline("explanation", Step.ACCEPT, event).date() == date(2026, 2, 27)


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError):
        deadline("explanation", Step.ACCEPT, datetime(2026, 2, 13, 9))


def test_add_working_days_zero_is_the_same_day() -> None:
    assert add_working_days(date(2026, 2, 13), 0) == date(2026, 2, 13)


def test_a_typed_time_without_a_utc_equivalent_is_refused() -> None:
    from datetime import timedelta, timezone

    from bot.domain.deadlines import vietnam_time

    assert vietnam_time(datetime(2026, 3, 2, 8, 0)).utcoffset() == timedelta(hours=7)
    for moment in (
        datetime(9999, 12, 31, 23, 0, tzinfo=timezone(timedelta(hours=-5))),
        datetime(1, 1, 1, 0, 0),  # Vietnam time: before year 1 in UTC
    ):
        with pytest.raises(ValueError, match="outside the calendar"):
            vietnam_time(moment)
