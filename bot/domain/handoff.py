"""Handing a conversation over to a person: its states, its settings, and what the
citizen is told at each step (Vietnamese, the words every channel uses).

A handoff is *waiting* in the agency's queue until an operator *claims* it; the claim is a
lease the operator's console keeps renewing, so a claim whose holder left (closed the tab,
lost the network) runs out and the conversation is back in the queue. It ends *returned* to
the bot or *closed*. While a handoff is open within working hours the bot stays silent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

from bot.domain.office_hours import OfficeHours, opening_text


class HandoffStatus(StrEnum):
    """Where a handed-over conversation stands."""

    WAITING = "waiting"  # in the queue, no operator yet
    CLAIMED = "claimed"  # an operator holds it (a lease that runs out)
    RETURNED = "returned"  # back to the bot
    CLOSED = "closed"  # ended by the operator


OPEN = frozenset({HandoffStatus.WAITING, HandoffStatus.CLAIMED})


class HandoffReason(StrEnum):
    """Why the citizen was offered a person."""

    ASKED = "asked"  # typed it, or tapped "Gặp cán bộ"
    MISUNDERSTOOD = "misunderstood"  # the bot did not understand twice in a row


@dataclass(frozen=True, slots=True)
class HandoffPolicy:
    """The deployment's handoff settings: working hours (an agency may set its own), the
    answer time citizens are told to expect, and how long a claim lasts unrenewed."""

    hours: OfficeHours
    expected_minutes: int = 15
    lease_seconds: int = 120
    # What time it is for the offer and the request (tests set a working or a closed hour).
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    def hours_of(self, agency_hours: str) -> OfficeHours:
        """The agency's own hours when it set them (checked when set), else the default."""
        if not agency_hours.strip():
            return self.hours
        return OfficeHours.parse(agency_hours, self.hours.saturday_morning)


def _hotline(contact: str) -> str:
    return f" Anh/chị cũng có thể liên hệ trực tiếp: {contact}." if contact.strip() else ""


def offer_text(open_now: bool, opening: datetime, now: datetime, contact: str) -> str:
    """The question before handing over: what will happen, truthfully for the hour."""
    if open_now:
        return (
            "Anh/chị muốn trò chuyện trực tiếp với cán bộ? Trong giờ làm việc, cán bộ sẽ trả "
            "lời ngay trong cuộc trò chuyện này." + _hotline(contact)
        )
    return (
        "Hiện đang ngoài giờ làm việc của cơ quan. Nếu anh/chị gửi yêu cầu gặp cán bộ, yêu "
        f"cầu được giữ lại và cán bộ sẽ trả lời từ {opening_text(opening, now)}. Anh/chị "
        "cũng có thể gửi phản ánh, kiến nghị ngay bây giờ." + _hotline(contact)
    )


def queued_text(position: int, expected_minutes: int) -> str:
    """Told on yes, within working hours: a person will answer, and roughly when."""
    ahead = f" Trước anh/chị còn {position - 1} người đang chờ." if position > 1 else ""
    return (
        "Tôi đã chuyển cuộc trò chuyện cho cán bộ. Cán bộ sẽ trả lời anh/chị tại đây, "
        f"thường trong khoảng {expected_minutes} phút.{ahead} Trong lúc chờ, anh/chị cứ "
        "nhắn nội dung cần hỏi; cán bộ sẽ đọc được toàn bộ."
    )


def waiting_text(opening: datetime, now: datetime) -> str:
    """Told on yes, outside working hours: the request waits, the bot goes on helping."""
    return (
        "Tôi đã ghi nhận yêu cầu gặp cán bộ của anh/chị. Hiện ngoài giờ làm việc, cán bộ sẽ "
        f"trả lời tại đây từ {opening_text(opening, now)}. Trong lúc chờ, tôi vẫn hỗ trợ "
        "anh/chị; anh/chị có thể gửi phản ánh, kiến nghị ngay bây giờ."
    )


def already_text() -> str:
    """Asked again while a request is open."""
    return "Yêu cầu gặp cán bộ của anh/chị đã được ghi nhận; cán bộ sẽ trả lời tại đây."


def claimed_text(operator_name: str) -> str:
    """Told when an operator takes the conversation."""
    who = f"Cán bộ {operator_name}" if operator_name.strip() else "Cán bộ"
    return f"{who} đang hỗ trợ anh/chị. Anh/chị cứ nhắn, cán bộ sẽ trả lời tại đây."


def returned_text() -> str:
    """Told when the operator gives the conversation back to the bot."""
    return (
        "Cán bộ đã kết thúc phần hỗ trợ. Trợ lý tự động tiếp tục trả lời anh/chị; khi cần, "
        "anh/chị nhắn “gặp cán bộ”."
    )


def closed_text() -> str:
    """Told when the operator closes the conversation."""
    return (
        "Cuộc trò chuyện với cán bộ đã kết thúc. Cảm ơn anh/chị đã liên hệ. Khi cần hỗ trợ "
        "thêm, anh/chị cứ nhắn cho chúng tôi."
    )
