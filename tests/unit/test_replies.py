"""Short answers read as typed: folding never merges words whose diacritics were typed."""

from __future__ import annotations

import pytest

from bot.domain.replies import (
    CANCEL_WORDS,
    NO_WORDS,
    YES_WORDS,
    Reply,
    contains,
    look_alike,
    readings,
    reply,
    spelled_any,
    spelled_as,
)
from nlu.text import fold


@pytest.mark.parametrize(
    ("typed", "meaning"),
    [
        # đúng / dừng / dùng: all fold to "dung".
        ("Đúng", Reply.YES),
        ("đúng rồi", Reply.YES),
        ("Đúng!", Reply.YES),
        ("dừng", Reply.CANCEL),
        ("Dừng lại", Reply.CANCEL),
        ("dung lai", Reply.CANCEL),
        ("dừng lai", Reply.NONE),  # typed with diacritics: compared as typed
        ("dung roi", Reply.YES),
        ("dung", Reply.AMBIGUOUS),
        ("DUNG", Reply.AMBIGUOUS),
        ("dùng", Reply.NONE),
        # có / cô
        ("có", Reply.YES),
        ("co", Reply.YES),
        ("Có ạ", Reply.YES),
        ("cô", Reply.NONE),
        ("cỏ", Reply.NONE),
        # không / khống, and chat forms
        ("không", Reply.NO),
        ("khong", Reply.NO),
        ("ko", Reply.NO),
        ("k", Reply.NO),
        ("khống", Reply.NONE),
        ("khóng", Reply.NONE),
        ("không đồng ý", Reply.NO),
        # hủy / huy, old tone placement
        ("hủy", Reply.CANCEL),
        ("huỷ", Reply.CANCEL),
        ("huy", Reply.CANCEL),
        ("HỦY BỎ", Reply.CANCEL),
        ("hùy", Reply.NONE),
        # thôi / thời, chưa / chứa
        ("thôi", Reply.CANCEL),
        ("thoi", Reply.CANCEL),
        ("thời", Reply.NONE),
        ("chưa", Reply.NO),
        ("chua", Reply.NO),
        ("chứa", Reply.NONE),
        # others
        ("đồng ý", Reply.YES),
        ("dong y", Reply.YES),
        ("ok", Reply.YES),
        ("ừ", Reply.YES),
        ("u", Reply.YES),
        ("vâng", Reply.YES),
        ("dạ", Reply.YES),
        ("đá", Reply.NONE),
        ("cancel", Reply.CANCEL),
        ("stop", Reply.CANCEL),
        ("Nguyễn Văn Dũng", Reply.NONE),
        ("", Reply.NONE),
        ("/affirm", Reply.NONE),
    ],
)
def test_typed_answer_means(typed: str, meaning: Reply) -> None:
    assert reply(typed) is meaning, f"{typed!r} should read as {meaning}, not {reply(typed)}"


def test_decomposed_input_reads_like_composed() -> None:
    assert reply("\u0111u\u0301ng") is Reply.YES  # "đúng" with a combining acute accent
    assert reply("du\u0300ng") is Reply.NONE  # "dùng"


def test_every_answer_word_reads_as_its_own_meaning_when_typed_with_its_diacritics() -> None:
    for words, meaning in ((YES_WORDS, Reply.YES), (NO_WORDS, Reply.NO)):
        for word in words:
            assert reply(word) is meaning, word
    for word in CANCEL_WORDS:
        assert reply(word) is Reply.CANCEL, word


def test_the_only_folded_collisions_between_meanings_are_asked() -> None:
    seen: dict[str, set[str]] = {}
    for table in (YES_WORDS, NO_WORDS, CANCEL_WORDS):
        for word in table:
            seen.setdefault(fold(word), set()).add(word)
    ambiguous = {folded for folded, spelled in seen.items() if reply(folded) is Reply.AMBIGUOUS}
    assert ambiguous == {"dung"}, ambiguous
    assert set(readings("dung")) == {"đúng", "dừng"}


def test_a_look_alike_is_flagged_so_no_intent_model_turns_it_into_an_answer() -> None:
    assert look_alike("cô") and look_alike("khống") and look_alike("dùng")
    assert not look_alike("có") and not look_alike("co") and not look_alike("dung")
    assert not look_alike("vâng ạ ok cảm ơn")


def test_spelling_rule_for_phrases() -> None:
    assert spelled_as("tan an", "Tân An") and spelled_as("Tân An", "Tân An")
    assert not spelled_as("Tân An", "Tân Ân") and spelled_as("tan an", "Tân Ân")
    assert spelled_any("toan quoc", ("toàn quốc", "cả nước"))
    assert not spelled_any("bố qua", ("bỏ qua",))
    assert contains("UBND phường Hoàn Kiếm", "ubnd") and contains("uy ban xa", "ủy ban")
    assert contains("Uỷ ban nhân dân", "ủy ban"), "old tone placement"
    assert not contains("bạn tôi ở phường X", "ban"), "bạn (friend) is not ban (board)"
    assert not contains("số 5 đường X", "sở")
