"""The case status machine: allowed paths, required notes, one extension, deadlines."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from bot.domain.cases import CaseState, Kind, Status, decide, initial_due_at
from bot.domain.deadlines import VN_TZ
from bot.errors import InvalidTransition

AT = datetime(2026, 8, 18, 10, tzinfo=VN_TZ)


def state(status: Status, kind: Kind = Kind.EXPLANATION, extensions: int = 0) -> CaseState:
    return CaseState(
        kind=kind, status=status, due_at=initial_due_at(kind, AT), extensions=extensions
    )


def test_full_path_of_an_explanation_request() -> None:
    s = state(Status.RECEIVED)
    assert s.due_at is not None and s.due_at.date() == date(2026, 8, 25)
    steps = [
        (Status.ACCEPTED, ""),
        (Status.IN_PROGRESS, ""),
        (Status.EXTENDED, "Cần xác minh thêm hồ sơ đất"),
        (Status.ANSWERED, "Nội dung giải trình ..."),
        (Status.CLOSED, ""),
    ]
    dues = []
    for to, note in steps:
        t = decide(s, to, AT, note)
        assert (t.from_status, t.to_status) == (s.status, to)
        s = CaseState(s.kind, t.to_status, t.due_at, t.extensions)
        dues.append(t.due_at)
    # accepted 18 Aug → 15 days → 2 Sep is a holiday → 3 Sep; extension +15 days → 18 Sep.
    assert dues[0] is not None and dues[0].date() == date(2026, 9, 3)
    assert dues[2] is not None and dues[2].date() == date(2026, 9, 18)
    assert dues[3] is None and s.status is Status.CLOSED


@pytest.mark.parametrize(
    ("start", "to"),
    [
        (Status.RECEIVED, Status.ANSWERED),
        (Status.RECEIVED, Status.IN_PROGRESS),
        (Status.ANSWERED, Status.IN_PROGRESS),
        (Status.CLOSED, Status.ACCEPTED),
        (Status.WITHDRAWN, Status.ACCEPTED),
        (Status.REFUSED, Status.ACCEPTED),
        (Status.ANSWERED, Status.WITHDRAWN),
    ],
)
def test_invalid_transitions_are_refused(start: Status, to: Status) -> None:
    with pytest.raises(InvalidTransition) as err:
        decide(state(start), to, AT, "note")
    assert err.value.code == "invalid_transition"


@pytest.mark.parametrize(
    ("start", "to"),
    [
        (Status.RECEIVED, Status.REFUSED),
        (Status.IN_PROGRESS, Status.ANSWERED),
        (Status.IN_PROGRESS, Status.EXTENDED),
    ],
)
def test_reason_or_answer_is_required(start: Status, to: Status) -> None:
    with pytest.raises(InvalidTransition) as err:
        decide(state(start), to, AT, "   ")
    assert err.value.code in {"reason_required", "answer_required"}


def test_only_one_extension() -> None:
    with pytest.raises(InvalidTransition) as err:
        decide(state(Status.IN_PROGRESS, extensions=1), Status.EXTENDED, AT, "lần hai")
    assert err.value.code == "already_extended"


def test_petition_can_go_straight_to_work_and_keeps_its_deadline() -> None:
    s = state(Status.RECEIVED, kind=Kind.PETITION)
    t = decide(s, Status.IN_PROGRESS, AT)
    assert t.due_at == s.due_at


def test_citizen_can_withdraw_before_the_answer() -> None:
    for start in (Status.RECEIVED, Status.ACCEPTED, Status.IN_PROGRESS, Status.EXTENDED):
        assert decide(state(start), Status.WITHDRAWN, AT).due_at is None
