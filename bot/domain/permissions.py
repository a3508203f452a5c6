"""Who may do what: the one role × action table that every API route, the services and
docs/security.md ("Who may do what") follow."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType

from bot.domain.actors import Actor
from bot.domain.roles import Role
from bot.errors import Forbidden


class Action(StrEnum):
    """Something staff do through the API or the CLI."""

    READ_CASES = "read_cases"
    CHANGE_CASES = "change_cases"  # accept, refuse, work on, answer, extend, close
    ASSIGN_CASES = "assign_cases"
    PUBLISH = "publish"  # an explanation (or a new version) for some communes or provinces
    PUBLISH_COUNTRY_WIDE = "publish_country_wide"  # ... or for the whole country
    BROADCAST_AGAIN = "broadcast_again"
    READ_EXPLANATIONS = "read_explanations"
    READ_BROADCAST_REPORTS = "read_broadcast_reports"
    READ_GAPS = "read_gaps"
    READ_SATISFACTION = "read_satisfaction"
    READ_REPORTS = "read_reports"  # on-time rates, times to answer, satisfaction, reach
    READ_NOTICES = "read_notices"
    READ_LOCALITIES = "read_localities"  # look up provinces and communes by name
    MANAGE_USERS = "manage_users"
    HANDLE_CONVERSATIONS = "handle_conversations"  # the handoff queue: claim, reply, return
    MANAGE_CANNED_REPLIES = "manage_canned_replies"


_ALL = frozenset(Role)
_STAFF = frozenset({Role.ADMIN, Role.OFFICER})
_ADMIN = frozenset({Role.ADMIN})
_OPERATORS = frozenset({Role.ADMIN, Role.OPERATOR})

# Operators answer conversations handed over by the bot: they read cases and explanations to
# tell citizens where things stand, but decide nothing; officers work cases, not the queue.
# Country-wide sending reaches every subscriber in the country, so it is the deployment
# admin's.
ALLOWED: Mapping[Action, frozenset[Role]] = MappingProxyType(
    {
        Action.READ_CASES: _ALL,
        Action.CHANGE_CASES: _STAFF,
        Action.ASSIGN_CASES: _STAFF,
        Action.PUBLISH: _STAFF,
        Action.PUBLISH_COUNTRY_WIDE: _ADMIN,
        Action.BROADCAST_AGAIN: _STAFF,
        Action.READ_EXPLANATIONS: _ALL,
        Action.READ_BROADCAST_REPORTS: _STAFF,
        Action.READ_GAPS: _STAFF,
        Action.READ_SATISFACTION: _STAFF,
        Action.READ_REPORTS: _STAFF,
        Action.READ_NOTICES: _ALL,
        Action.READ_LOCALITIES: _ALL,
        Action.MANAGE_USERS: _ADMIN,
        Action.HANDLE_CONVERSATIONS: _OPERATORS,
        Action.MANAGE_CANNED_REPLIES: _OPERATORS,
    }
)

# What a refusal says the caller may not do (Vietnamese: it is shown to staff as is).
_WHAT = {
    Action.READ_CASES: "xem hồ sơ",
    Action.CHANGE_CASES: "xử lý hồ sơ (tiếp nhận, từ chối, trả lời...)",
    Action.ASSIGN_CASES: "giao hồ sơ cho cán bộ",
    Action.PUBLISH: "đăng bài giải trình",
    Action.PUBLISH_COUNTRY_WIDE: "gửi tin cho cả nước",
    Action.BROADCAST_AGAIN: "gửi lại tin cho người đăng ký",
    Action.READ_EXPLANATIONS: "xem bài giải trình",
    Action.READ_BROADCAST_REPORTS: "xem báo cáo gửi tin",
    Action.READ_GAPS: "xem câu hỏi chưa được trả lời",
    Action.READ_SATISFACTION: "xem chỉ số hài lòng",
    Action.READ_REPORTS: "xem báo cáo",
    Action.READ_NOTICES: "xem thông báo hạn xử lý",
    Action.READ_LOCALITIES: "tra cứu địa bàn",
    Action.MANAGE_USERS: "quản lý tài khoản",
    Action.HANDLE_CONVERSATIONS: "trả lời cuộc trò chuyện chuyển cho cán bộ",
    Action.MANAGE_CANNED_REPLIES: "sửa câu trả lời mẫu",
}
_ROLE_NAMES = {Role.ADMIN: "quản trị", Role.OFFICER: "cán bộ", Role.OPERATOR: "tổng đài viên"}


def allows(role: Role | None, action: Action) -> bool:
    """Whether the table lets this role do it (a citizen, role None, is not staff)."""
    return role is not None and role in ALLOWED[action]


def require(actor: Actor, action: Action) -> None:
    """Refuse (403 `forbidden`, in Vietnamese) what the caller's role may not do."""
    if not allows(actor.role, action):
        who = _ROLE_NAMES[actor.role] if actor.role is not None else "người dân"
        raise Forbidden(f"Tài khoản {who} không được {_WHAT[action]}.", code="forbidden")
