"""What a citizen's short answer means (yes, no, stop), read as they typed it.

Folding diacritics merges different words: "đúng" (right) and "dừng" (stop) both fold to
"dung", "có" (yes) and "cô" (aunt) to "co". So text typed with diacritics is compared with
the exact spelling, and only text typed without any is folded; when folded text fits words
of different meanings ("dung") it is ambiguous and the bot asks.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from enum import StrEnum

from nlu.text import fold, spelling


class Reply(StrEnum):
    """The meaning of a short answer."""

    YES = "yes"
    NO = "no"
    CANCEL = "cancel"
    AMBIGUOUS = "ambiguous"  # typed without diacritics, fits words of different meanings
    NONE = "none"  # not one of the answer words


# Every answer word with its diacritics, as citizens type it (chat forms included).
YES_WORDS = (
    "có",
    "có ạ",
    "đồng ý",
    "ok",
    "oke",
    "okay",
    "ừ",
    "ừm",
    "uk",
    "vâng",
    "vâng ạ",
    "dạ",
    "dạ vâng",
    "dạ có",
    "yes",
    "đúng",
    "đúng rồi",
    "đúng vậy",
    "xác nhận",
)
NO_WORDS = (
    "không",
    "không ạ",
    "ko",
    "k",
    "kh",
    "khg",
    "hông",
    "hok",
    "không đồng ý",
    "không phải",
    "no",
    "sai",
    "chưa",
)
CANCEL_WORDS = (
    "hủy",
    "hủy bỏ",
    "hủy yêu cầu",
    "hủy gửi",
    "thôi",
    "thôi khỏi",
    "thôi không gửi nữa",
    "thôi không cần",
    "không gửi nữa",
    "dừng",
    "dừng lại",
    "thoát",
    "cancel",
    "stop",
    "quit",
)
_MEANINGS: tuple[tuple[str, Reply], ...] = (
    *((w, Reply.YES) for w in YES_WORDS),
    *((w, Reply.NO) for w in NO_WORDS),
    *((w, Reply.CANCEL) for w in CANCEL_WORDS),
)

_NOT_WORD = re.compile(r"[^\w\s]")


def typed_words(text: str) -> tuple[str, ...]:
    """The words of a message as typed: lower case, one canonical spelling (old and new tone
    placement alike, `nlu.text.spelling`), no punctuation."""
    clean = _NOT_WORD.sub(" ", unicodedata.normalize("NFC", text).lower())
    return tuple(spelling(word) for word in clean.split())


def is_bare(words: Iterable[str]) -> bool:
    """True for words typed without any diacritic (nor "đ"): only such text is folded."""
    return all(fold(word) == word for word in words)


def _fits(said: tuple[str, ...], spelled: tuple[str, ...], bare: bool) -> bool:
    if len(said) != len(spelled):
        return False
    if bare:
        return all(typed == fold(word) for typed, word in zip(said, spelled, strict=True))
    return said == spelled


def _words(typed: str | Iterable[str]) -> tuple[str, ...]:
    return typed_words(typed) if isinstance(typed, str) else tuple(typed)


def spelled_as(typed: str | Iterable[str], spelled: str) -> bool:
    """True when the typed words can be `spelled`: text typed with any diacritic must equal
    the spelling; text typed with none fits every spelling that folds to it ("dung" fits
    "đúng" and "dừng"; "dừng" fits only "dừng")."""
    said = _words(typed)
    return _fits(said, typed_words(spelled), is_bare(said))


def contains(typed: str | Iterable[str], spelled: str) -> bool:
    """True when the phrase `spelled` occurs in the typed words, by the same rule."""
    said = _words(typed)
    words, bare = typed_words(spelled), is_bare(said)
    size = len(words)
    return any(_fits(said[i : i + size], words, bare) for i in range(len(said) - size + 1))


def spelled_any(typed: str | Iterable[str], spellings: Iterable[str]) -> bool:
    """True when the typed text can be one of `spellings`."""
    said = _words(typed)
    return any(spelled_as(said, spelled) for spelled in spellings)


def reply(text: str) -> Reply:
    """What a short answer means; AMBIGUOUS when folding is the only reason it fits
    answers of different meanings."""
    said = typed_words(text)
    meanings = {meaning for spelled, meaning in _MEANINGS if spelled_as(said, spelled)}
    if len(meanings) > 1:
        return Reply.AMBIGUOUS
    return meanings.pop() if meanings else Reply.NONE


def look_alike(text: str) -> bool:
    """True when the text folds to an answer word but was typed as another word ("cô",
    "khống", "dùng"): the citizen wrote something else, whatever an intent model says."""
    said = typed_words(text)
    folded = " ".join(fold(w) for w in said)
    return reply(text) is Reply.NONE and any(fold(s) == folded for s, _ in _MEANINGS)


def readings(text: str) -> tuple[str, ...]:
    """The answer words an ambiguous answer could be, with their diacritics ("đúng", "dừng")."""
    said = typed_words(text)
    return tuple(dict.fromkeys(s for s, _ in _MEANINGS if spelled_as(said, s)))
