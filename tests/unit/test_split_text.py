"""Long replies are cut for channels with a length limit, at natural boundaries."""

from __future__ import annotations

from connectors.render import split_text


def test_short_text_is_one_piece() -> None:
    assert split_text("Xin chào", 4096) == ["Xin chào"]


def test_cut_at_sentence_ends_and_nothing_lost() -> None:
    sentence = "Cơ quan đã tiếp nhận yêu cầu của anh/chị. "
    text = sentence * 300  # about 12,600 characters
    pieces = split_text(text, 4096)
    assert len(pieces) == 4
    assert all(len(p) <= 4096 for p in pieces)
    assert all(p.endswith(".") for p in pieces)
    assert " ".join(pieces) == text.strip()


def test_paragraphs_are_preferred() -> None:
    text = "a" * 3000 + "\n\n" + "b" * 3000
    assert split_text(text, 4096) == ["a" * 3000, "b" * 3000]


def test_a_word_longer_than_the_limit_is_cut() -> None:
    pieces = split_text("x" * 10_000, 4096)
    assert [len(p) for p in pieces] == [4096, 4096, 1808]
