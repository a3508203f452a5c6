"""What citizens read about their cases, built without a database."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.domain.case_texts import (
    case_list_line,
    citizen_update_text,
    filed_text,
    format_due,
    rating_buttons,
    status_text,
)
from bot.domain.cases import Kind, Status, status_label
from bot.domain.deadlines import VN_TZ

CODE = "AB12CD34E"
# 23:30 in Hanoi on 26 Feb is 16:30 UTC: the date shown must be Vietnam's.
DUE = datetime(2026, 2, 26, 23, 30, tzinfo=VN_TZ)


def test_deadline_is_shown_as_a_vietnamese_date() -> None:
    assert format_due(DUE) == "ngày 26/02/2026"
    assert format_due(DUE.astimezone(UTC)) == "ngày 26/02/2026", "stored in UTC, shown in VN"
    assert format_due(None) == "không còn thời hạn chờ"


def test_update_texts_carry_the_code_and_what_changed() -> None:
    accepted = citizen_update_text(CODE, Status.ACCEPTED, DUE)
    assert "AB12-CD34E" in accepted and "Đã tiếp nhận" in accepted and "26/02/2026" in accepted
    refused = citizen_update_text(CODE, Status.REFUSED, None, "Không thuộc thẩm quyền")
    assert refused.endswith("Lý do: Không thuộc thẩm quyền")
    extended = citizen_update_text(CODE, Status.EXTENDED, DUE, "Cần xác minh")
    assert "gia hạn" in extended and "26/02/2026" in extended and "Cần xác minh" in extended
    answered = citizen_update_text(CODE, Status.ANSWERED, None, "Nội dung trả lời")
    assert "Nội dung trả lời" in answered and "đánh giá" in answered
    assert citizen_update_text(CODE, Status.WITHDRAWN, None) == (
        "Hồ sơ AB12-CD34E: Đã rút yêu cầu."
    )


def test_rating_buttons_carry_code_and_score() -> None:
    buttons = rating_buttons(CODE)
    assert [b["title"] for b in buttons] == ["1 ★", "2 ★", "3 ★", "4 ★", "5 ★"]
    assert buttons[4]["payload"] == '/rate{"case_code":"AB12CD34E","rating":"5"}'


def test_receipts_tell_who_hears_back() -> None:
    explanation = filed_text(CODE, Kind.EXPLANATION, DUE, anonymous=False)
    assert "Mã hồ sơ: AB12-CD34E" in explanation and "kiểm tra AB12-CD34E" in explanation
    anonymous = filed_text(CODE, Kind.PETITION, DUE, anonymous=True)
    assert "ẩn danh" in anonymous and "kiểm tra" not in anonymous
    petition = filed_text(CODE, Kind.PETITION, DUE, anonymous=False)
    assert "phản ánh" in petition and "26/02/2026" in petition


def test_status_text_shows_only_what_the_case_has() -> None:
    text = status_text(CODE, Status.RECEIVED, updated_at=DUE, due_at=DUE)
    assert text.splitlines() == [
        "Hồ sơ AB12-CD34E: Đã gửi, chờ cơ quan quyết định tiếp nhận.",
        "Cập nhật lần cuối: 26/02/2026.",
        "Hạn quyết định tiếp nhận: ngày 26/02/2026.",
    ]
    refused = status_text(
        CODE, Status.REFUSED, updated_at=DUE, due_at=None, refusal_reason="Sai thẩm quyền"
    )
    assert "Hạn" not in refused and refused.endswith("Lý do: Sai thẩm quyền")
    assert case_list_line(CODE, Status.ANSWERED, None) == "• AB12-CD34E: Đã có trả lời"


def test_every_citizen_text_of_a_status_uses_that_status_label() -> None:
    """One vocabulary: the receipt, the update, the lookup and the list say the same words."""
    for kind in Kind:
        for status in Status:
            label = status_label(kind, status)
            texts = {
                "update": citizen_update_text(CODE, status, DUE, "Ghi chú", kind=kind),
                "lookup": status_text(CODE, status, updated_at=DUE, due_at=DUE, kind=kind),
                "list": case_list_line(CODE, status, DUE, kind=kind),
            }
            if status is Status.RECEIVED:
                for anonymous in (False, True):
                    texts[f"receipt {anonymous}"] = filed_text(CODE, kind, DUE, anonymous)
            for where, text in texts.items():
                assert label in text, f"{kind}/{status} {where}: {label!r} not in {text!r}"


def test_the_explanation_receipt_does_not_claim_acceptance() -> None:
    receipt = filed_text(CODE, Kind.EXPLANATION, DUE, anonymous=False)
    assert "Đã tiếp nhận" not in receipt, receipt
    assert "chậm nhất ngày 26/02/2026" in receipt, receipt
    assert status_label(Kind.EXPLANATION, Status.RECEIVED) != status_label(
        Kind.EXPLANATION, Status.ACCEPTED
    )
