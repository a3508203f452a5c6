"""What templates show: the navigation bar, Vietnamese names of kinds, statuses and the
actions staff take on a case, and the filters that format times and codes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.domain import codes
from bot.domain.actors import Actor
from bot.domain.cases import Kind, Status, next_statuses, status_label
from bot.domain.deadlines import VN_TZ, vietnam_time
from bot.domain.localities import COUNTRY, by_code
from bot.domain.permissions import Action


@dataclass(frozen=True, slots=True)
class NavEntry:
    """A link of the navigation bar, shown to the roles the table lets do `action` (every
    staff member when None)."""

    label: str
    path: str  # under /console/
    action: Action | None


# The navigation bar, in order. A new page adds its entry here (and its routes in a module
# mounted by bot/web/console/__init__.py); the handler itself still checks the action.
NAV: tuple[NavEntry, ...] = (
    NavEntry("Hàng chờ", "hang-cho", Action.HANDLE_CONVERSATIONS),
    NavEntry("Hồ sơ", "ho-so", Action.READ_CASES),
    NavEntry("Bài giải trình", "bai-giai-trinh", Action.READ_EXPLANATIONS),
    NavEntry("Câu hỏi chưa trả lời", "cau-hoi-chua-tra-loi", Action.READ_GAPS),
    NavEntry("Báo cáo", "bao-cao", Action.READ_REPORTS),
    NavEntry("Tài khoản", "tai-khoan", Action.MANAGE_USERS),
    NavEntry("Cơ quan", "co-quan", Action.MANAGE_USERS),
)

KIND_NAMES = {Kind.EXPLANATION: "Yêu cầu giải trình", Kind.PETITION: "Phản ánh, kiến nghị"}
STAFF_STATUS = {
    Status.RECEIVED: "Mới nhận",
    Status.ACCEPTED: "Đã tiếp nhận",
    Status.REFUSED: "Đã từ chối",
    Status.IN_PROGRESS: "Đang xử lý",
    Status.EXTENDED: "Đã gia hạn",
    Status.ANSWERED: "Đã trả lời",
    Status.CLOSED: "Đã kết thúc",
    Status.WITHDRAWN: "Đã rút",
}


@dataclass(frozen=True, slots=True)
class Step:
    """A status change offered as a form: its button, and what its note is for."""

    to: Status
    button: str
    note_label: str
    note_required: bool


_OPTIONAL = "Ghi chú (không bắt buộc)"
_STEPS = {
    Status.ACCEPTED: Step(Status.ACCEPTED, "Tiếp nhận", _OPTIONAL, False),
    Status.REFUSED: Step(Status.REFUSED, "Từ chối tiếp nhận", "Lý do từ chối", True),
    Status.IN_PROGRESS: Step(Status.IN_PROGRESS, "Bắt đầu xử lý", _OPTIONAL, False),
    Status.EXTENDED: Step(Status.EXTENDED, "Gia hạn", "Lý do gia hạn", True),
    Status.ANSWERED: Step(Status.ANSWERED, "Gửi trả lời", "Nội dung trả lời người dân", True),
    Status.CLOSED: Step(Status.CLOSED, "Kết thúc hồ sơ", _OPTIONAL, False),
    Status.WITHDRAWN: Step(
        Status.WITHDRAWN, "Rút yêu cầu thay người gửi", "Ghi chú (không bắt buộc)", False
    ),
}
_ORDER = list(_STEPS)


def steps_for(actor: Actor, kind: Kind, status: Status, extensions: int) -> list[Step]:
    """The changes the status machine allows from here that this actor may make (an
    officer does not withdraw for the citizen; one extension at most)."""
    if actor.role is None:
        return []
    allowed = next_statuses(kind, status)
    if not actor.may_withdraw:
        allowed -= {Status.WITHDRAWN}
    if extensions >= 1:
        allowed -= {Status.EXTENDED}
    return [_STEPS[to] for to in sorted(allowed, key=_ORDER.index)]


def vn_time(moment: datetime | str | None) -> str:
    """A time as staff read it: Vietnam time, day first."""
    if moment is None or moment == "":
        return ""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return vietnam_time(moment).astimezone(VN_TZ).strftime("%d/%m/%Y %H:%M")


def _status(value: Status | str | None) -> str:
    return STAFF_STATUS[Status(value)] if value else ""


def _kind(value: Kind | str) -> str:
    return KIND_NAMES[Kind(value)]


def _places(codes: list[str] | tuple[str, ...]) -> str:
    """Places as staff read them: "Toàn quốc", or each name with its province."""
    names = []
    for code in codes:
        found = by_code(code)
        names.append("Toàn quốc" if code == COUNTRY else found.label if found else code)
    return "; ".join(names)


NO_BASE = "—"  # a figure with nothing to count it on (no case due, no rating)


def number(value: float | None, places: int = 0) -> str:
    """A figure as Vietnamese write it: dots between thousands, a decimal comma."""
    if value is None:
        return NO_BASE
    text = f"{value:,.{places}f}"
    return text.replace(",", " ").replace(".", ",").replace(" ", ".")


def percent(value: float | None) -> str:
    """A share (0–1) as a percentage with one decimal ("87,5 %"); "—" without a base."""
    return NO_BASE if value is None else f"{number(value * 100, 1)} %"


def duration(seconds: float | None) -> str:
    """Seconds as staff read a waiting time: "1 giờ 5 phút", "3 phút 20 giây"."""
    if seconds is None:
        return NO_BASE
    total = round(seconds)
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [(days, "ngày"), (hours, "giờ"), (minutes, "phút"), (secs, "giây")]
    shown = [f"{n} {unit}" for n, unit in parts if n][:2]
    return " ".join(shown) or "0 giây"


def _citizen_label(kind: Kind, status: Status) -> str:
    return status_label(kind, status)


FILTERS: dict[str, Any] = {
    "vn_time": vn_time,
    "status_name": _status,
    "kind_name": _kind,
    "case_code": codes.display,
    "number": number,
    "percent": percent,
    "duration": duration,
}
GLOBALS: dict[str, Any] = {"citizen_label": _citizen_label, "places": _places}
