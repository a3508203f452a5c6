"""Hiding phone and ID card numbers in what citizens typed, before staff read it in bulk
(the gaps report): they need the question, not the person."""

from __future__ import annotations

import re

PHONE = "[số điện thoại]"
ID_NUMBER = "[số giấy tờ]"

# A Vietnamese number: +84, 84 or 0, then a first digit 2-9 and 8 (mobile) or 9 (landline)
# more digits, each group optionally after a space, dot or dash ("0912.345.678",
# "+84 912 345 678", "(+84) 24 3825 1234").
_PHONE = re.compile(r"(?<![\d+])(?:\(?\+84\)?|84|0)[ .-]?[2-9](?:[ .-]?\d){8,9}(?![\d])")
# ID numbers: a CCCD has 12 digits, an old CMND 9; a CCCD is sometimes written in groups of
# three (or four). Any run of 9 or more digits is treated as one (a tax or account number is
# personal too); grouped amounts such as "150.000.000" stay.
_ID = re.compile(r"(?<!\d)(?:\d{9,}|\d{3}(?:[ .-]\d{3}){3}|\d{4}(?:[ -]\d{4}){2})(?!\d)")


_EMAIL = re.compile(r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+")


def redact(text: str, phone: str = PHONE, id_number: str = ID_NUMBER) -> str:
    """The text with phone numbers and ID numbers replaced by placeholders."""
    return _ID.sub(id_number, _PHONE.sub(phone, text))


def redact_email(text: str, placeholder: str) -> str:
    """The text with e-mail addresses replaced by the placeholder."""
    return _EMAIL.sub(placeholder, text)
