"""What citizens read about their cases: deadlines, status updates, rating buttons.

Pure text building (no I/O), shared by the chat actions, the outbox and the deadline watch.
"""

from __future__ import annotations

from datetime import datetime

from bot.domain import codes
from bot.domain.cases import STATUS_LABELS, Kind, Status
from bot.domain.deadlines import VN_TZ


def format_due(due_at: datetime | None) -> str:
    """A deadline as Vietnamese citizens read it: 'ngày 27/02/2026'."""
    if due_at is None:
        return "không còn thời hạn chờ"
    return f"ngày {due_at.astimezone(VN_TZ):%d/%m/%Y}"


def citizen_update_text(code: str, to: Status, due_at: datetime | None, note: str = "") -> str:
    """The Vietnamese message a citizen receives when their case changes.

    `due_at` is the deadline after the change; `note` is what the transition recorded: the
    refusal reason, the extension reason or the answer.
    """
    shown = codes.display(code)
    if to is Status.ACCEPTED:
        return (
            f"Hồ sơ {shown} đã được cơ quan chấp nhận xử lý. "
            f"Thời hạn trả lời: {format_due(due_at)}."
        )
    if to is Status.REFUSED:
        return f"Hồ sơ {shown} không được chấp nhận. Lý do: {note}"
    if to is Status.IN_PROGRESS:
        return f"Hồ sơ {shown} đang được xử lý. Hạn trả lời: {format_due(due_at)}."
    if to is Status.EXTENDED:
        return f"Hồ sơ {shown} được gia hạn xử lý đến {format_due(due_at)}. Lý do: {note}"
    if to is Status.ANSWERED:
        return (
            f"Hồ sơ {shown} đã có trả lời của cơ quan:\n\n{note}\n\n"
            "Anh/chị đánh giá câu trả lời này thế nào? (1 = rất không hài lòng, 5 = rất hài lòng)"
        )
    if to is Status.CLOSED:
        return f"Hồ sơ {shown} đã kết thúc. Cảm ơn anh/chị."
    return f"Hồ sơ {shown}: {STATUS_LABELS[to]}."


def rating_buttons(code: str) -> list[dict[str, str]]:
    """1-5 buttons whose payload carries the case code and the score."""
    return [
        {"title": f"{n} ★", "payload": f'/rate{{"case_code":"{code}","rating":"{n}"}}'}
        for n in range(1, 6)
    ]


def filed_text(code: str, kind: Kind, due_at: datetime | None, anonymous: bool) -> str:
    """The receipt a citizen gets when their case is filed: its code and first deadline
    (an anonymous petitioner is told no result will reach them)."""
    shown = codes.display(code)
    if kind is Kind.EXPLANATION:
        return (
            f"Đã tiếp nhận yêu cầu giải trình của anh/chị. Mã hồ sơ: {shown}\n"
            f"Cơ quan sẽ quyết định tiếp nhận hay không chậm nhất {format_due(due_at)} "
            "(5 ngày làm việc); nếu tiếp nhận, sẽ giải trình trong 15 ngày.\n"
            f"Để tra cứu, anh/chị nhắn: “kiểm tra {shown}”."
        )
    if anonymous:
        return (
            f"Đã tiếp nhận phản ánh ẩn danh. Mã hồ sơ: {shown}\n"
            "Vì anh/chị gửi ẩn danh, cơ quan không thể gửi thông báo kết quả cho anh/chị. "
            f"Cơ quan sẽ xử lý chậm nhất {format_due(due_at)}."
        )
    return (
        f"Đã tiếp nhận phản ánh của anh/chị. Mã hồ sơ: {shown}\n"
        f"Cơ quan sẽ xử lý và trả lời chậm nhất {format_due(due_at)}.\n"
        f"Để tra cứu, anh/chị nhắn: “kiểm tra {shown}”."
    )


def status_text(
    code: str,
    status: Status,
    *,
    updated_at: datetime,
    due_at: datetime | None,
    refusal_reason: str = "",
    answer: str = "",
) -> str:
    """Where one case stands, as the citizen who asks about it reads it."""
    lines = [
        f"Hồ sơ {codes.display(code)}: {STATUS_LABELS[status]}.",
        f"Cập nhật lần cuối: {format_due(updated_at).replace('ngày ', '')}.",
    ]
    if due_at is not None:
        lines.append(f"Hạn xử lý: {format_due(due_at)}.")
    if refusal_reason:
        lines.append(f"Lý do từ chối: {refusal_reason}")
    if answer:
        lines.append(f"Trả lời của cơ quan:\n{answer}")
    return "\n".join(lines)


def case_list_line(code: str, status: Status, due_at: datetime | None) -> str:
    """One line of a citizen's list of open cases."""
    due = f", hạn {format_due(due_at)}" if due_at else ""
    return f"• {codes.display(code)}: {STATUS_LABELS[status]}{due}"
