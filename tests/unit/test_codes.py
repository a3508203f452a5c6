"""Case codes: format, parsing of what people type, and the check character."""

from __future__ import annotations

import itertools

from bot.domain.codes import ALPHABET, display, new_code, parse


def test_new_codes_are_short_valid_and_distinct() -> None:
    codes = {new_code() for _ in range(5000)}
    assert len(codes) == 5000
    for code in itertools.islice(codes, 200):
        assert len(display(code)) == 10
        assert parse(code) == code


def test_code_is_read_in_any_case_with_dashes_or_spaces() -> None:
    code = new_code()
    shown = display(code)
    for typed in (
        shown,
        shown.lower(),
        code.lower(),
        f" {code[:4]} {code[4:]} ",
        shown.replace("-", "--"),
    ):
        assert parse(typed) == code, typed


def test_lookalike_letters_are_read_as_digits() -> None:
    code = "0000000" + "1" + "0"
    body = code[:8]
    from bot.domain.codes import check_symbol

    canonical = body + check_symbol(body)
    typed = canonical.replace("0", "O").replace("1", "l")
    assert parse(typed) == canonical


def test_every_single_typo_is_caught() -> None:
    code = new_code()
    for position in range(len(code)):
        for replacement in ALPHABET:
            if replacement == code[position]:
                continue
            typo = code[:position] + replacement + code[position + 1 :]
            assert parse(typo) is None, f"{typo} accepted for {code}"


def test_garbage_is_not_a_code() -> None:
    for typed in ("", "hello", "ABCD-EFGH", "ABCD-EFGHJK1", "ÀBCD-EFGHJ", "ABCD!EFGHJ"):
        assert parse(typed) is None, typed
