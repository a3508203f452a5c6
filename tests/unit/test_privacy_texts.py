"""Personal data rules without a database: what anonymising removes from a case's text, how
many messages a form had, and what a citizen reads about their data."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from actions.privacy import form_messages
from bot.domain.cases import Kind, Status
from bot.domain.privacy import (
    REDACTED,
    CaseHeld,
    DataHeld,
    Erased,
    erase_question,
    erased_text,
    held_text,
    period,
    redact_identifiers,
)


@pytest.mark.parametrize(
    "typed",
    [
        "0912345678",
        "0912 345 678",
        "0912.345.678",
        "091-234-5678",
        "+84 912 345 678",
        "84912345678",
        "024 3825 1234",
        "001203004512",  # CCCD
        "001 203 004 512",
        "0012 0300 4512",
        "123456789",  # CMND
        "lan.nguyen@example.vn",
    ],
)
def test_phone_id_numbers_and_emails_are_redacted(typed: str) -> None:
    assert redact_identifiers(f"Liên hệ {typed}, cảm ơn.") == f"Liên hệ {REDACTED}, cảm ơn."


@pytest.mark.parametrize(
    "kept",
    [
        "Quyết định số 123/QĐ-UBND ngày 10/3/2026",
        "mức bồi thường 1.500.000.000 đồng",
        "mức phí 150.000 đồng mỗi tháng",
        "thửa đất số 45, tờ bản đồ số 12",
        "năm 2026",
    ],
)
def test_what_the_agency_needs_is_kept(kept: str) -> None:
    assert redact_identifiers(kept) == kept


def test_the_citizens_names_are_redacted_in_any_case() -> None:
    text = "Tôi là Nguyễn Thị Lan, NGUYỄN THỊ LAN xin trình bày."
    assert redact_identifiers(text, ("Nguyễn Thị Lan", "")) == (
        f"Tôi là {REDACTED}, {REDACTED} xin trình bày."
    )


def test_period_is_said_in_months_when_it_can_be() -> None:
    assert [period(365), period(730), period(90), period(45)] == [
        "12 tháng",
        "24 tháng",
        "3 tháng",
        "45 ngày",
    ]


def held(**changes: object) -> DataHeld:
    values: dict[str, object] = {
        "channel": "telegram",
        "display_name": "Lan",
        "subscriptions": ("Đất đai – toàn quốc",),
        "cases": (CaseHeld("ABCD12345", Kind.EXPLANATION, Status.RECEIVED, ("họ tên",)),),
        "messages": 12,
        "retention_days": 365,
        "oldest_erased_on": datetime(2027, 3, 1, 3, tzinfo=UTC),
    }
    values.update(changes)
    return DataHeld(**values)  # type: ignore[arg-type]


def test_the_summary_names_kinds_of_data_and_their_end() -> None:
    text = held_text(held(), "Bộ phận tiếp nhận: 024 0000 0000")
    assert "• Kênh: Telegram" in text and "• Tên hiển thị: Lan" in text
    assert "ABCD-12345: yêu cầu giải trình" in text and "(họ tên)" in text
    assert "12 tin" in text and "12 tháng" in text and "ngày 01/03/2027" in text
    assert "liên hệ Bộ phận tiếp nhận: 024 0000 0000." in text
    assert all(len(line) <= 120 for line in text.splitlines()), "short lines for a phone"


def test_a_long_case_list_is_cut() -> None:
    many = tuple(CaseHeld(f"ABCD1234{n}", Kind.PETITION, Status.CLOSED, ()) for n in range(10)) + (
        CaseHeld("ABCD12350", Kind.PETITION, Status.CLOSED, ()),
        CaseHeld("X", Kind.PETITION, Status.CLOSED, ()),
    )
    text = held_text(held(cases=many), "")
    assert "và 2 hồ sơ khác" in text and text.count("phản ánh, kiến nghị") == 10


def test_nothing_stored_reads_naturally() -> None:
    text = held_text(
        held(display_name="", subscriptions=(), cases=(), messages=0, oldest_erased_on=None), ""
    )
    assert "Đăng ký nhận tin: không có" in text and "Hồ sơ: không có" in text
    assert "không còn tin nào" in text and "liên hệ cơ quan." in text


def test_erasing_says_what_is_kept_and_why() -> None:
    question = erase_question(held())
    assert "không thể hoàn tác" in question and "1 hồ sơ vẫn được cơ quan giải quyết" in question
    text = erased_text(Erased(12, 1, True, ("ABCD12345",)), "")
    assert "12 tin nhắn, 1 đăng ký nhận tin, tên hiển thị" in text
    assert "ABCD-12345" in text and "trách nhiệm giải quyết đúng hạn" in text


def test_a_form_counts_the_message_that_opened_it_and_those_since() -> None:
    events = [
        {"event": "user", "text": "xin chào"},
        {"event": "action", "name": "utter_greet"},
        {"event": "user", "text": "yêu cầu giải trình"},
        {"event": "action", "name": "explanation_form"},
        {"event": "active_loop", "name": "explanation_form"},
        {"event": "user", "text": "/affirm"},
        {"event": "slot", "name": "case_consent"},
        {"event": "user", "text": "Nguyễn Thị Lan"},
        {"event": "user", "text": "hủy"},
        {"event": "active_loop", "name": None},
    ]
    assert form_messages(events) == 4
    assert form_messages(events[4:]) == 3, "no opening message in this session"
