"""Vietnamese normalisation used by the NLU tokenizer."""

from __future__ import annotations

import pytest

from nlu.text import fold, normalize, normalize_token


@pytest.mark.parametrize(
    ("written", "folded"),
    [
        ("Thủ tục cấp lại CCCD", "thu tuc cap lai cccd"),
        ("ĐĂNG KÝ", "dang ky"),
        ("giải trình", "giai trinh"),
        # Decomposed input (combining marks), as some keyboards send it.
        ("gia\u0309i tri\u0300nh", "giai trinh"),
    ],
)
def test_fold_removes_diacritics_and_case(written: str, folded: str) -> None:
    assert fold(written) == folded


def test_chat_abbreviations_expand_to_the_folded_word() -> None:
    assert normalize("mk ko bt thu tuc j, ad giup dc ko") == (
        "minh khong bt thu tuc gi ad giup duoc khong".replace(" ad ", " admin ")
    )


def test_unknown_tokens_are_only_folded() -> None:
    assert normalize_token("Phường") == "phuong"
    assert normalize_token("UBND") == "ubnd"


def test_a_word_typed_with_diacritics_is_never_expanded_as_another_word() -> None:
    assert normalize("đèn đường bị hỏng") == "den duong bi hong", "hỏng (broken) is not không"
    assert normalize("hoa hồng") == "hoa hong"
    assert normalize_token("hong") == "khong", "typed bare, the chat form of không"
    assert normalize_token("hông") == "khong", "the Southern không, typed with its mark"
    assert normalize_token("Ừm") == "u" and normalize_token("um") == "u"
    assert normalize("đk đc") == "dang ky duoc", "đ alone makes no other word"
