"""Personal data rules: what an erased text becomes, how case texts lose the numbers that
identify a person, and what a citizen reads when they ask what is stored or to erase it.

Pure (no I/O): the use cases are in bot/services/privacy.py and privacy_requests.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.domain import codes
from bot.domain.case_texts import format_due
from bot.domain.cases import Kind, Status, status_label
from bot.domain.redaction import redact, redact_email

REDACTED = "[đã xóa]"


class ErasureReason(StrEnum):
    """Why personal data of a conversation is erased."""

    FORM_CANCELLED = "form_cancelled"  # a case form ended without filing anything
    ERASE_REQUEST = "erase_request"  # "xóa dữ liệu của tôi"
    RETENTION = "retention"  # older than the retention period


def redact_identifiers(text: str, names: tuple[str, ...] = ()) -> str:
    """The text with phone numbers, ID numbers, e-mail addresses and the given names
    replaced by REDACTED: what stays of a case's text once its citizen is anonymised."""
    for name in sorted({n.strip() for n in names if len(n.strip()) >= 2}, key=len, reverse=True):
        text = re.sub(re.escape(name), REDACTED, text, flags=re.IGNORECASE)
    return redact(redact_email(text, REDACTED), REDACTED, REDACTED)


CHANNEL_LABELS = {"telegram": "Telegram", "zalo": "Zalo", "web": "trang web (chat)"}
KIND_LABELS = {Kind.EXPLANATION: "yêu cầu giải trình", Kind.PETITION: "phản ánh, kiến nghị"}
MAX_CASES_LISTED = 10


@dataclass(frozen=True, slots=True)
class CaseHeld:
    """A case of the contact and which personal fields it holds (never their values: the
    answer is itself stored as a message)."""

    code: str
    kind: Kind
    status: Status
    personal: tuple[str, ...]  # "họ tên", "liên hệ"


@dataclass(frozen=True, slots=True)
class DataHeld:
    """What the gateway stores about one contact."""

    channel: str
    display_name: str
    subscriptions: tuple[str, ...]  # "Đất đai – toàn quốc"
    cases: tuple[CaseHeld, ...]
    messages: int  # still readable
    retention_days: int
    oldest_erased_on: datetime | None  # when the oldest readable message will be erased


def period(days: int) -> str:
    """A retention period as people say it: "12 tháng", "90 ngày"."""
    if days % 365 == 0:
        return f"{days // 365 * 12} tháng"
    if days % 30 == 0:
        return f"{days // 30} tháng"
    return f"{days} ngày"


def _channel(channel: str) -> str:
    return CHANNEL_LABELS.get(channel, channel)


def _case_line(case: CaseHeld) -> str:
    fields = ", ".join(case.personal) if case.personal else "không có thông tin cá nhân"
    return (
        f"  – {codes.display(case.code)}: {KIND_LABELS[case.kind]}, "
        f"{status_label(case.kind, case.status).lower()} ({fields})"
    )


def held_text(held: DataHeld, agency_contact: str) -> str:
    """The answer to "xem dữ liệu của tôi": short lines that read well on a phone."""
    lines = ["Dữ liệu của anh/chị đang được lưu:", f"• Kênh: {_channel(held.channel)}"]
    if held.display_name:
        lines.append(f"• Tên hiển thị: {held.display_name}")
    if held.subscriptions:
        lines.append(f"• Đăng ký nhận tin ({len(held.subscriptions)}):")
        lines += [f"  – {item}" for item in held.subscriptions]
    else:
        lines.append("• Đăng ký nhận tin: không có")
    if held.cases:
        lines.append(f"• Hồ sơ ({len(held.cases)}):")
        lines += [_case_line(case) for case in held.cases[:MAX_CASES_LISTED]]
        if len(held.cases) > MAX_CASES_LISTED:
            lines.append(f"  – và {len(held.cases) - MAX_CASES_LISTED} hồ sơ khác")
    else:
        lines.append("• Hồ sơ: không có")
    if held.messages:
        oldest = held.oldest_erased_on
        lines.append(
            f"• Tin nhắn: {held.messages} tin, mỗi tin tự động xóa sau "
            f"{period(held.retention_days)} kể từ ngày gửi"
            + (f" (tin cũ nhất xóa {format_due(oldest)})" if oldest else "")
        )
    else:
        lines.append("• Tin nhắn: không còn tin nào")
    lines.append("")
    full = "Muốn nhận bản sao đầy đủ (nội dung tin nhắn, hồ sơ), anh/chị liên hệ"
    lines.append(f"{full} {agency_contact}." if agency_contact else f"{full} cơ quan.")
    lines.append("Gõ “xóa dữ liệu của tôi” nếu muốn xóa.")
    return "\n".join(lines)


def erase_question(held: DataHeld) -> str:
    """What erasing will do, asked before anything is erased."""
    lines = [
        "Anh/chị chắc chắn muốn xóa dữ liệu của mình? Sau khi xóa:",
        f"• {held.messages} tin nhắn và lịch sử trò chuyện với trợ lý bị xóa",
        f"• {len(held.subscriptions)} đăng ký nhận tin bị hủy",
    ]
    if held.display_name:
        lines.append("• Tên hiển thị bị xóa")
    if held.cases:
        lines.append(
            f"• {len(held.cases)} hồ sơ vẫn được cơ quan giải quyết và lưu theo quy định, "
            "nhưng bỏ họ tên, số điện thoại, địa chỉ của anh/chị"
        )
    lines.append("Việc xóa không thể hoàn tác.")
    return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class Erased:
    """What an erase request removed, and the cases kept without the citizen's details."""

    messages: int
    subscriptions: int
    display_name: bool  # there was one
    kept_cases: tuple[str, ...]  # codes


def erased_text(erased: Erased, agency_contact: str) -> str:
    """What was erased, what was kept and why."""
    name = ", tên hiển thị" if erased.display_name else ""
    lines = [
        f"Đã xóa dữ liệu của anh/chị: {erased.messages} tin nhắn, {erased.subscriptions} đăng ký "
        f"nhận tin{name} và lịch sử trò chuyện với trợ lý."
    ]
    if erased.kept_cases:
        shown = ", ".join(codes.display(code) for code in erased.kept_cases)
        contact = agency_contact or "cơ quan"
        lines.append(
            f"Hồ sơ {shown} được giữ lại vì cơ quan có trách nhiệm giải quyết đúng hạn và lưu "
            "hồ sơ theo quy định; hồ sơ không còn họ tên, số điện thoại, địa chỉ của anh/chị "
            "nên trợ lý sẽ không gửi thông báo về hồ sơ này nữa. Muốn biết kết quả, anh/chị "
            f"liên hệ {contact} và đọc mã hồ sơ."
        )
    lines.append("Nếu nhắn tiếp, tin nhắn mới sẽ được lưu như bình thường.")
    return "\n".join(lines)
