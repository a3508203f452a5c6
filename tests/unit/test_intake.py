"""What citizens type into case forms: phone numbers, names, text limits."""

from __future__ import annotations

import pytest

from bot.domain.intake import Ok, Problem, check_contact, check_name, check_text


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("0912345678", "0912345678"),
        ("0912 345 678", "0912345678"),
        ("+84 912 345 678", "0912345678"),
        ("84912345678", "0912345678"),
        ("091.234.5678", "0912345678"),
        ("0987-654-321", "0987654321"),
        ("024 3825 1234", "02438251234"),  # landline: 11 digits
    ],
)
def test_vietnamese_phone_numbers_are_normalised(typed: str, stored: str) -> None:
    assert check_contact(typed) == Ok(stored)


@pytest.mark.parametrize(
    "typed",
    ["091234567", "09123456789", "1912345678", "+1 415 555 0100", "0112345678", "0243825123"],
)
def test_wrong_phone_numbers_get_the_expected_format(typed: str) -> None:
    result = check_contact(typed)
    assert isinstance(result, Problem) and "10 chữ số" in result.message


def test_an_address_is_accepted_as_contact() -> None:
    assert check_contact("12 Lý Thái Tổ, phường Hoàn Kiếm, Hà Nội") == Ok(
        "12 Lý Thái Tổ, phường Hoàn Kiếm, Hà Nội"
    )


def test_gibberish_contact_is_refused() -> None:
    assert isinstance(check_contact("abc"), Problem)


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("Nguyen Van 3", "chữ số"),
        ("<b>Lan</b> Nguyễn", "chữ cái"),
        ("Lan", "cả họ và tên"),
        ("", "chưa nhập"),
        ("A " * 80, "dài quá"),
    ],
)
def test_bad_names_are_refused_with_the_reason(typed: str, reason: str) -> None:
    result = check_name(typed)
    assert isinstance(result, Problem) and reason in result.message, result


def test_names_keep_diacritics_and_get_capitals_when_typed_in_one_case() -> None:
    assert check_name("  Nguyễn   Thị Lan ") == Ok("Nguyễn Thị Lan")
    assert check_name("nguyễn thị lan") == Ok("Nguyễn Thị Lan")
    assert check_name("Đặng Thị Mỹ-Linh") == Ok("Đặng Thị Mỹ-Linh")


def test_text_limits_name_the_limit() -> None:
    too_long = check_text("x" * 20_000, "Nội dung")
    assert (
        isinstance(too_long, Problem)
        and "2.000" in too_long.message
        and "20.000" in too_long.message
    )
    assert isinstance(check_text("ngắn", "Nội dung"), Problem)
    assert check_text("  Đường ngập nước nhiều ngày  ", "Nội dung") == Ok(
        "Đường ngập nước nhiều ngày"
    )
