"""Checks on what a citizen types into a case form, with the re-ask message when it is wrong.

Each check returns Ok(value) or Problem(message in Vietnamese, saying how to fix it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_TEXT = 2000
MAX_NAME = 100

_PHONE_CHARS = re.compile(r"[\s.\-()]")
# Vietnamese numbers: mobiles 0 + 9 digits (03x, 05x, 07x, 08x, 09x), landlines 0 + 10
# digits (02x); +84 / 84 in place of the leading 0.
_PHONE = re.compile(r"^(?:\+?84|0)([35789]\d{8}|2\d{9})$")
# Letters of any script (Vietnamese included), spaces and the few marks names carry.
_NAME = re.compile(r"^[^\W\d_]+(?:[ '\-.][^\W\d_]+)*$")


@dataclass(frozen=True, slots=True)
class Ok:
    """The value to store."""

    value: str


@dataclass(frozen=True, slots=True)
class Problem:
    """What to tell the citizen before asking again."""

    message: str


Check = Ok | Problem


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def check_name(text: str) -> Check:
    """A full name: letters only, at least two words, at most 100 characters."""
    name = _clean(text)
    if not name:
        return Problem("Anh/chị chưa nhập họ tên.")
    if len(name) > MAX_NAME:
        return Problem(f"Họ tên dài quá {MAX_NAME} ký tự, anh/chị vui lòng nhập lại.")
    if any(ch.isdigit() for ch in name):
        return Problem("Họ tên không được có chữ số. Anh/chị nhập lại họ và tên đầy đủ.")
    if not _NAME.match(name):
        return Problem("Họ tên chỉ gồm chữ cái và dấu cách. Anh/chị nhập lại giúp tôi.")
    if len(name.split()) < 2:
        return Problem("Anh/chị vui lòng nhập đầy đủ cả họ và tên (ví dụ: Nguyễn Thị Lan).")
    return Ok(name.title() if name.islower() or name.isupper() else name)


def normalize_phone(text: str) -> str | None:
    """0xxxxxxxxx form of a Vietnamese phone number, or None if it is not one."""
    match = _PHONE.match(_PHONE_CHARS.sub("", text))
    return f"0{match.group(1)}" if match else None


def check_contact(text: str) -> Check:
    """A Vietnamese phone number (0xxxxxxxxx / +84xxxxxxxxx) or a postal address."""
    value = _clean(text)
    if not value:
        return Problem("Anh/chị chưa nhập số điện thoại hoặc địa chỉ.")
    digits = sum(ch.isdigit() for ch in value)
    letters = sum(ch.isalpha() for ch in value)
    if digits >= 6 and letters <= 2:
        phone = normalize_phone(value)
        if phone is None:
            return Problem(
                "Số điện thoại chưa đúng. Số di động Việt Nam có 10 chữ số, bắt đầu bằng 0 "
                "(ví dụ 0912 345 678) hoặc +84 (ví dụ +84 912 345 678); số cố định có 11 chữ số "
                "(ví dụ 024 3825 1234)."
            )
        return Ok(phone)
    if len(value) > 300:
        return Problem("Địa chỉ dài quá 300 ký tự, anh/chị ghi ngắn gọn lại giúp tôi.")
    if letters < 8 or len(value.split()) < 3:
        return Problem(
            "Tôi chưa nhận ra số điện thoại hay địa chỉ. Anh/chị nhập số điện thoại "
            "(ví dụ 0912345678) hoặc địa chỉ đầy đủ (số nhà, đường, xã/phường, tỉnh/thành)."
        )
    return Ok(value)


def check_text(text: str, what: str, minimum: int = 10, maximum: int = MAX_TEXT) -> Check:
    """Free text between `minimum` and `maximum` characters; `what` names it in the message."""
    value = text.strip()
    if len(value) < minimum:
        return Problem(f"{what} quá ngắn, anh/chị viết rõ hơn giúp tôi (ít nhất {minimum} ký tự).")
    if len(value) > maximum:
        return Problem(
            f"{what} dài {len(value):,} ký tự, quá giới hạn {maximum:,} ký tự. ".replace(",", ".")
            + "Anh/chị vui lòng rút gọn rồi gửi lại."
        )
    return Ok(value)
