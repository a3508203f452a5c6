"""Phone and ID numbers are hidden from what staff read of citizens' free text
(bot/domain/redaction.py)."""

from __future__ import annotations

import pytest

from bot.domain.redaction import ID_NUMBER, PHONE, redact


@pytest.mark.parametrize(
    "phone",
    [
        "0912345678",
        "0912 345 678",
        "0912.345.678",
        "0912-345-678",
        "+84912345678",
        "+84 912 345 678",
        "84912345678",
        "(+84) 912 345 678",
        "024 3825 1234",  # a landline: 11 digits
        "02438251234",
    ],
)
def test_vietnamese_phone_numbers_are_hidden(phone: str) -> None:
    text = f"Gọi cho tôi theo số {phone} nhé."
    assert redact(text) == f"Gọi cho tôi theo số {PHONE} nhé."


@pytest.mark.parametrize(
    "number",
    [
        "001203004567",  # CCCD, 12 digits
        "001 203 004 567",
        "001.203.004.567",
        "123456789",  # CMND, 9 digits
    ],
)
def test_id_card_numbers_are_hidden(number: str) -> None:
    assert redact(f"CCCD của tôi: {number}.") == f"CCCD của tôi: {ID_NUMBER}."


def test_several_numbers_in_one_text_and_glued_to_words() -> None:
    text = "sdt0912345678, cmnd 123456789 và số +84 987 654 321"
    assert redact(text) == f"sdt{PHONE}, cmnd {ID_NUMBER} và số {PHONE}"


@pytest.mark.parametrize(
    "text",
    [
        "Nghị định 123/2024/NĐ-CP có hiệu lực từ 01/01/2025",
        "Lệ phí 1.500.000 đồng, phạt đến 150.000.000 đồng",
        "Năm 2026 và 2027, mã thủ tục 1.001234",
        "Tôi 84 tuổi, nhà số 12 ngõ 345",
        "84.000.000.000 đồng",
        "",
    ],
)
def test_dates_amounts_and_short_numbers_stay(text: str) -> None:
    assert redact(text) == text


def test_redacting_twice_changes_nothing_more() -> None:
    once = redact("0912345678 và 001203004567")
    assert redact(once) == once
