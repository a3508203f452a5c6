"""What citizens read about their cases: deadlines, status updates, rating buttons.

Pure text building (no I/O), shared by the chat actions, the outbox and the deadline watch.
"""

from __future__ import annotations

from datetime import datetime

from bot.channels import Button, Card
from bot.domain import codes
from bot.domain.cases import OPEN_STATUSES, Kind, Status, status_label
from bot.domain.deadlines import VN_TZ


def format_due(due_at: datetime | None) -> str:
    """A deadline as Vietnamese citizens read it: 'ngày 27/02/2026'."""
    if due_at is None:
        return "không còn thời hạn chờ"
    return f"ngày {due_at.astimezone(VN_TZ):%d/%m/%Y}"


def deadline_name(kind: Kind, status: Status) -> str:
    """What the deadline of a case in this status is for."""
    if kind is Kind.EXPLANATION and status is Status.RECEIVED:
        return "Hạn quyết định tiếp nhận"
    return "Hạn trả lời"


def citizen_update_text(
    code: str,
    to: Status,
    due_at: datetime | None,
    note: str = "",
    *,
    kind: Kind = Kind.EXPLANATION,
) -> str:
    """The Vietnamese message a citizen receives when their case changes: its status label,
    then what came with it.

    `due_at` is the deadline after the change; `note` is what the transition recorded: the
    refusal reason, the extension reason or the answer.
    """
    head = f"Hồ sơ {codes.display(code)}: {status_label(kind, to)}"
    due = f"{deadline_name(kind, to)}: {format_due(due_at)}."
    if to in (Status.ACCEPTED, Status.IN_PROGRESS, Status.RECEIVED):
        return f"{head}. {due}"
    if to is Status.REFUSED:
        return f"{head}. Lý do: {note}"
    if to is Status.EXTENDED:
        return f"{head}. {due} Lý do gia hạn: {note}"
    if to is Status.ANSWERED:
        return (
            f"{head}:\n\n{note}\n\n"
            "Anh/chị đánh giá câu trả lời này thế nào? (1 = rất không hài lòng, 5 = rất hài lòng)"
        )
    if to is Status.CLOSED:
        return f"{head}. Cảm ơn anh/chị."
    return f"{head}."


def case_update_card(
    code: str,
    to: Status,
    due_at: datetime | None,
    note: str = "",
    *,
    kind: Kind = Kind.EXPLANATION,
) -> Card:
    """The same update laid out as a card (a Zalo transaction message, when the citizen has
    not written for a while): code, status and deadline as a table, what came with the
    change, and a button that opens the conversation on this case."""
    shown = codes.display(code)
    rows = [("Mã hồ sơ", shown), ("Trạng thái", status_label(kind, to))]
    if to in OPEN_STATUSES and due_at is not None:
        rows.append((deadline_name(kind, to), f"{due_at.astimezone(VN_TZ):%d/%m/%Y}"))
    lines: tuple[str, ...] = ()
    if to is Status.ANSWERED:
        lines = ("Cơ quan đã trả lời:", note)
    elif to is Status.REFUSED:
        lines = (f"Lý do: {note}",)
    elif to is Status.EXTENDED:
        lines = (f"Lý do gia hạn: {note}",)
    return Card(
        title=f"Cập nhật hồ sơ {shown}",
        lines=lines,
        rows=tuple(rows),
        footer="Bấm “Xem hồ sơ” để xem chi tiết, đánh giá hoặc trao đổi tiếp với cơ quan.",
        buttons=(Button("Xem hồ sơ", f'/check_status{{"case_code":"{shown}"}}'),),
    )


def rating_buttons(code: str) -> list[dict[str, str]]:
    """1-5 buttons whose payload carries the case code and the score."""
    return [
        {"title": f"{n} ★", "payload": f'/rate{{"case_code":"{code}","rating":"{n}"}}'}
        for n in range(1, 6)
    ]


def filed_text(code: str, kind: Kind, due_at: datetime | None, anonymous: bool) -> str:
    """The receipt a citizen gets when their case is filed: its code, its status in the
    words every later message uses, and the first deadline (an anonymous petitioner is
    told no result will reach them)."""
    shown = codes.display(code)
    label = status_label(kind, Status.RECEIVED)
    if kind is Kind.EXPLANATION:
        return (
            f"Đã gửi yêu cầu giải trình của anh/chị. Mã hồ sơ: {shown}\n"
            f"Tình trạng: {label} (chậm nhất {format_due(due_at)}, 5 ngày làm việc). "
            "Nếu tiếp nhận, cơ quan sẽ giải trình trong 15 ngày.\n"
            f"Để tra cứu, anh/chị nhắn: “kiểm tra {shown}”."
        )
    if anonymous:
        return (
            f"Đã gửi phản ánh ẩn danh. Mã hồ sơ: {shown}\n"
            f"Tình trạng: {label} (chậm nhất {format_due(due_at)}).\n"
            "Vì anh/chị gửi ẩn danh, cơ quan không thể gửi thông báo kết quả cho anh/chị."
        )
    return (
        f"Đã gửi phản ánh của anh/chị. Mã hồ sơ: {shown}\n"
        f"Tình trạng: {label}; cơ quan trả lời chậm nhất {format_due(due_at)}.\n"
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
    kind: Kind = Kind.EXPLANATION,
) -> str:
    """Where one case stands, as the citizen who asks about it reads it."""
    lines = [
        f"Hồ sơ {codes.display(code)}: {status_label(kind, status)}.",
        f"Cập nhật lần cuối: {format_due(updated_at).replace('ngày ', '')}.",
    ]
    if due_at is not None and status in OPEN_STATUSES:
        lines.append(f"{deadline_name(kind, status)}: {format_due(due_at)}.")
    if refusal_reason:
        lines.append(f"Lý do: {refusal_reason}")
    if answer:
        lines.append(f"Trả lời của cơ quan:\n{answer}")
    return "\n".join(lines)


def case_list_line(
    code: str, status: Status, due_at: datetime | None, *, kind: Kind = Kind.EXPLANATION
) -> str:
    """One line of a citizen's list of open cases."""
    due = f" ({deadline_name(kind, status).lower()} {format_due(due_at)})" if due_at else ""
    return f"• {codes.display(code)}: {status_label(kind, status)}{due}"
