"""The case status machine: the only place that decides which status may follow which.

received → accepted | refused (reason) → in_progress → answered (answer) → closed;
extended once (reason) while the agency works on it; withdrawn by the citizen before an
answer. A petition may go from received straight to in_progress (no acceptance decision).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.domain.deadlines import Step, deadline
from bot.errors import InvalidTransition


class Kind(StrEnum):
    """What the citizen filed."""

    EXPLANATION = "explanation"  # yêu cầu giải trình
    PETITION = "petition"  # phản ánh, kiến nghị


class Status(StrEnum):
    """Where a case stands."""

    RECEIVED = "received"
    ACCEPTED = "accepted"
    REFUSED = "refused"
    IN_PROGRESS = "in_progress"
    EXTENDED = "extended"
    ANSWERED = "answered"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"


OPEN_STATUSES = frozenset({Status.RECEIVED, Status.ACCEPTED, Status.IN_PROGRESS, Status.EXTENDED})

_ALLOWED: dict[Status, frozenset[Status]] = {
    Status.RECEIVED: frozenset({Status.ACCEPTED, Status.REFUSED, Status.WITHDRAWN}),
    Status.ACCEPTED: frozenset(
        {Status.IN_PROGRESS, Status.EXTENDED, Status.ANSWERED, Status.WITHDRAWN}
    ),
    Status.IN_PROGRESS: frozenset({Status.EXTENDED, Status.ANSWERED, Status.WITHDRAWN}),
    Status.EXTENDED: frozenset({Status.IN_PROGRESS, Status.ANSWERED, Status.WITHDRAWN}),
    Status.ANSWERED: frozenset({Status.CLOSED}),
    Status.REFUSED: frozenset({Status.CLOSED}),
    Status.CLOSED: frozenset(),
    Status.WITHDRAWN: frozenset(),
}

# The one vocabulary of statuses for citizens (receipt, updates, lookup, lists, the API's
# status_label): each label says where the case stands and what the agency does next.
STATUS_LABELS: dict[Status, str] = {
    Status.RECEIVED: "Đã gửi, chờ cơ quan quyết định tiếp nhận",
    Status.ACCEPTED: "Đã tiếp nhận, chờ cơ quan trả lời",
    Status.REFUSED: "Không được tiếp nhận",
    Status.IN_PROGRESS: "Đang xử lý",
    Status.EXTENDED: "Đang xử lý (đã gia hạn)",
    Status.ANSWERED: "Đã có trả lời",
    Status.CLOSED: "Đã kết thúc",
    Status.WITHDRAWN: "Đã rút yêu cầu",
}
# A petition has no acceptance decision: the agency handles it and answers.
PETITION_LABELS: dict[Status, str] = {
    **STATUS_LABELS,
    Status.RECEIVED: "Đã gửi, chờ cơ quan xử lý",
    Status.WITHDRAWN: "Đã rút phản ánh",
}


def next_statuses(kind: Kind, status: Status) -> frozenset[Status]:
    """The statuses a case may move to from here (what the console offers; `decide` still
    checks reasons and the one extension)."""
    allowed = _ALLOWED[status]
    if kind is Kind.PETITION and status is Status.RECEIVED:
        allowed = allowed | {Status.IN_PROGRESS, Status.ANSWERED}
    return allowed


def status_label(kind: Kind, status: Status) -> str:
    """What a citizen reads for this status of this kind of case."""
    return (PETITION_LABELS if kind is Kind.PETITION else STATUS_LABELS)[status]


@dataclass(frozen=True, slots=True)
class CaseState:
    """The part of a case the machine needs."""

    kind: Kind
    status: Status
    due_at: datetime | None
    extensions: int = 0


@dataclass(frozen=True, slots=True)
class Transition:
    """A decided change: the new state plus what the audit trail records."""

    from_status: Status
    to_status: Status
    due_at: datetime | None
    extensions: int
    note: str


def initial_due_at(kind: Kind, received_at: datetime, petition_days: int | None = None) -> datetime:
    """First deadline: the acceptance decision (explanation) or the answer (petition)."""
    step = Step.ACCEPT if kind is Kind.EXPLANATION else Step.ANSWER
    return deadline(kind.value, step, received_at, petition_days)


def decide(
    state: CaseState,
    to: Status,
    at: datetime,
    note: str = "",
    petition_days: int | None = None,
) -> Transition:
    """Check a requested change against the rules and compute the new deadline.

    Raises InvalidTransition with a reason a person can act on.
    """
    note = note.strip()
    if to not in next_statuses(state.kind, state.status):
        raise InvalidTransition(
            f"Không thể chuyển từ '{state.status.value}' sang '{to.value}'.",
            code="invalid_transition",
        )
    if to is Status.REFUSED and not note:
        raise InvalidTransition("Từ chối phải nêu lý do.", code="reason_required")
    if to is Status.ANSWERED and not note:
        raise InvalidTransition("Cần nội dung trả lời.", code="answer_required")
    if to is Status.EXTENDED:
        if not note:
            raise InvalidTransition("Gia hạn phải nêu lý do.", code="reason_required")
        if state.extensions >= 1:
            raise InvalidTransition("Chỉ được gia hạn một lần.", code="already_extended")

    due_at = state.due_at
    extensions = state.extensions
    if to is Status.ACCEPTED:
        due_at = deadline(state.kind.value, Step.ANSWER, at, petition_days)
    elif to is Status.EXTENDED:
        base = state.due_at or at
        due_at = deadline(state.kind.value, Step.EXTENSION, base, petition_days)
        extensions += 1
    elif to in (Status.ANSWERED, Status.REFUSED, Status.CLOSED, Status.WITHDRAWN):
        due_at = None
    return Transition(state.status, to, due_at, extensions, note)
