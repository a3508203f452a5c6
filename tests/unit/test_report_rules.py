"""The report rules of bot/domain/reports.py, without a database: working days taken across
Tết, percentiles by nearest rank, the period's Vietnam bounds, and which milestones each
transition records."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bot.domain.cases import Kind, Status
from bot.domain.reports import (
    ReportPeriod,
    case_tally,
    difference,
    filing_milestones,
    milestones,
    nearest_rank,
    rating_tally,
    share,
    whole_months,
    working_days_between,
    working_days_taken,
)
from bot.errors import InvalidInput

AT = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)


def test_working_days_skip_weekends_and_tet() -> None:
    # Friday 13 February 2026; Tết is Monday 16 to Friday 20 February.
    assert working_days_between(date(2026, 2, 13), date(2026, 2, 23)) == 1
    assert working_days_between(date(2026, 2, 13), date(2026, 2, 13)) == 0
    assert working_days_between(date(2026, 2, 23), date(2026, 2, 13)) == 0
    # An ordinary week: Monday to the next Monday is 5 working days.
    assert working_days_between(date(2026, 3, 2), date(2026, 3, 9)) == 5


def test_working_days_taken_count_vietnam_dates() -> None:
    # 23:30 Vietnam time on Monday 2 March is 16:30 UTC: the next morning is one day later.
    received = datetime(2026, 3, 2, 16, 30, tzinfo=UTC)
    answered = datetime(2026, 3, 3, 2, 0, tzinfo=UTC)  # Tuesday 09:00 Vietnam time
    assert working_days_taken(received, answered) == 1
    # 06:00 Vietnam time on Tuesday is still Monday 23:00 UTC: the same Vietnam day.
    assert working_days_taken(datetime(2026, 3, 2, 23, 0, tzinfo=UTC), answered) == 0


def test_nearest_rank_percentiles() -> None:
    assert nearest_rank({}, 0.5) is None
    assert nearest_rank({7: 1}, 0.9) == 7
    values = {1: 2, 3: 1, 10: 1}  # 1, 1, 3, 10
    assert nearest_rank(values, 0.5) == 1
    assert nearest_rank(values, 0.75) == 3
    assert nearest_rank(values, 0.9) == 10
    assert nearest_rank({d: 1 for d in range(1, 11)}, 0.9) == 9
    assert share(2, 3) == 0.667 and share(1, 0) is None


def test_period_is_vietnam_days() -> None:
    period = ReportPeriod(date(2026, 1, 1), date(2026, 1, 31))
    assert period.starts.astimezone(UTC) == datetime(2025, 12, 31, 17, 0, tzinfo=UTC)
    assert period.ends.astimezone(UTC) == datetime(2026, 1, 31, 17, 0, tzinfo=UTC)
    assert period.as_json() == {"from": "2026-01-01", "to": "2026-01-31"}


def test_a_period_ending_before_it_starts_is_refused() -> None:
    with pytest.raises(InvalidInput) as caught:
        ReportPeriod(date(2026, 2, 1), date(2026, 1, 31))
    assert caught.value.code == "invalid_period"


def test_each_transition_records_its_milestones() -> None:
    due = datetime(2026, 3, 20, 16, 59, tzinfo=UTC)
    received = datetime(2026, 2, 27, 3, 0, tzinfo=UTC)  # Friday
    assert filing_milestones(Kind.EXPLANATION, due) == {"accept_due_at": due}
    assert filing_milestones(Kind.PETITION, due) == {"answer_due_at": due}
    assert milestones(Kind.EXPLANATION, Status.ACCEPTED, due, AT, received) == {
        "decided_at": AT,
        "answer_due_at": due,
    }
    assert milestones(Kind.EXPLANATION, Status.REFUSED, None, AT, received) == {
        "decided_at": AT,
        "answer_due_at": None,
    }
    # A refused petition's answer deadline (set at filing) no longer runs.
    assert milestones(Kind.PETITION, Status.REFUSED, None, AT, received) == {"answer_due_at": None}
    assert milestones(Kind.PETITION, Status.EXTENDED, due, AT, received) == {"answer_due_at": due}
    assert milestones(Kind.PETITION, Status.IN_PROGRESS, due, AT, received) == {}
    assert milestones(Kind.EXPLANATION, Status.WITHDRAWN, None, AT, received) == {}
    assert milestones(Kind.PETITION, Status.ANSWERED, None, AT, received) == {
        "answered_at": AT,
        "answer_working_days": 1,  # Friday 27 February to Monday 2 March
    }


def test_a_period_splits_into_whole_months_and_the_days_around_them() -> None:
    def split(first: date, last: date) -> list[tuple[str, str] | None]:
        parts = whole_months(ReportPeriod(first, last))
        return [None if p is None else (str(p.first), str(p.last)) for p in parts]

    assert split(date(2026, 1, 1), date(2026, 3, 31)) == [None, ("2026-01-01", "2026-03-31"), None]
    assert split(date(2026, 1, 15), date(2026, 4, 10)) == [
        ("2026-01-15", "2026-01-31"),
        ("2026-02-01", "2026-03-31"),
        ("2026-04-01", "2026-04-10"),
    ]
    assert split(date(2025, 12, 2), date(2026, 1, 31)) == [
        ("2025-12-02", "2025-12-31"),
        ("2026-01-01", "2026-01-31"),
        None,
    ]
    assert split(date(2026, 2, 2), date(2026, 3, 30)) == [None, None, None]  # no whole month
    assert split(date(2026, 2, 1), date(2026, 2, 28)) == [None, ("2026-02-01", "2026-02-28"), None]


def test_a_case_tally_counts_what_no_longer_changes() -> None:
    due = datetime(2026, 3, 10, 16, 59, tzinfo=UTC)
    late = due + timedelta(days=1)
    tally = case_tally(Kind.EXPLANATION, Status.ANSWERED, 1, due, AT, late, late)
    assert tally == {
        "received": 1,
        "withdrawn": 0,
        "acceptance_due": 1,
        "acceptance_on_time": 1,
        "answer_due": 1,
        "answer_on_time": 1,
        "answered": 1,
        "extended": 1,
        "extensions": 1,
    }
    undecided = case_tally(Kind.EXPLANATION, Status.RECEIVED, 0, due, None, None, None)
    assert undecided["acceptance_due"] == 0  # late or not depends on when: the open cases'
    withdrawn = case_tally(Kind.EXPLANATION, Status.WITHDRAWN, 0, due, AT, None, None)
    assert withdrawn["withdrawn"] == 1 and withdrawn["acceptance_due"] == 0
    assert difference(rating_tally(4, ""), rating_tally(None, "")) == {
        "ratings": 1,
        "rating_sum": 4,
        "satisfied": 1,
    }
