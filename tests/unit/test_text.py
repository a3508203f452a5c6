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
