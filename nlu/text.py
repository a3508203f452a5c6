"""Vietnamese text normalisation shared by the NLU tokenizer and the gateway.

Pure Python with no dependencies, because it is imported both by the Rasa engine
(Python 3.10) and by the gateway (Python 3.11).
"""

from __future__ import annotations

import re
import unicodedata

# Chat abbreviations that Vietnamese citizens commonly type, mapped to the folded
# (no diacritics, lower case) full form. Ambiguous ones ("bn": bạn / bao nhiêu) are
# left out on purpose: a wrong expansion hurts more than none. Keys are matched against
# tokens typed without tone or vowel marks only ("hong" is không, "hỏng" is broken); the
# few keys with marks are matched as typed.
ABBREVIATIONS: dict[str, str] = {
    "ko": "khong",
    "k": "khong",
    "kh": "khong",
    "kg": "khong",
    "khg": "khong",
    "hok": "khong",
    "hong": "khong",
    "hông": "khong",  # Southern forms of "không", typed with their marks
    "hổng": "khong",
    "dc": "duoc",
    "dk": "dang ky",
    "mk": "minh",
    "mik": "minh",
    "mh": "minh",
    "mn": "moi nguoi",
    "j": "gi",
    "ji": "gi",
    "vs": "voi",
    "ntn": "nhu the nao",
    "sdt": "so dien thoai",
    "tks": "cam on",
    "thks": "cam on",
    "camon": "cam on",
    "cmon": "cam on",
    "oke": "ok",
    "okie": "ok",
    "okela": "ok",
    "uk": "u",
    "uh": "u",
    "ukm": "u",
    "um": "u",
    "ừm": "u",
    "a": "a",
    "ad": "admin",
    "hs": "ho so",
    "tt": "thu tuc",
    "ng": "nguoi",
    "ns": "noi",
    "nhiu": "nhieu",  # "bao nhiu", chat spelling of "bao nhiêu"
    "nhìu": "nhieu",
    "bik": "biet",
    "trc": "truoc",
    "cx": "cung",
    "lm": "lam",
    "yc": "yeu cau",
    "ycgt": "yeu cau giai trinh",
}

_WORD = re.compile(r"\w+", re.UNICODE)


def fold(text: str) -> str:
    """Lower-case and strip Vietnamese diacritics so "Thủ tục" and "thu tuc" compare equal."""
    decomposed = unicodedata.normalize("NFD", text.lower())
    stripped = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return unicodedata.normalize("NFC", stripped.replace("đ", "d"))


_TONES = frozenset("\u0300\u0301\u0303\u0309\u0323")


def spelling(word: str) -> str:
    """A word with its marks in one canonical form, the tone put last: "hoà" and "hòa" (old
    and new tone placement) are one spelling; "hòa" and "hóa" are not."""
    nfd = unicodedata.normalize("NFD", word.lower())
    tone = "".join(c for c in nfd if c in _TONES)
    return unicodedata.normalize("NFC", "".join(c for c in nfd if c not in _TONES)) + tone


def has_marks(word: str) -> bool:
    """Typed with tone or vowel marks, which make another word; "đ" alone does not ("đk" is
    "dk")."""
    return any(unicodedata.category(ch) == "Mn" for ch in unicodedata.normalize("NFD", word))


def abbreviation(token: str) -> str | None:
    """The folded full form of a chat abbreviation, or None; a token typed with marks is
    never read as an abbreviation of another word ("hỏng" is not "hong")."""
    typed = unicodedata.normalize("NFC", token.lower())
    return ABBREVIATIONS.get(typed if has_marks(typed) else fold(typed))


def normalize_token(token: str) -> str:
    """Fold one chat token and expand it when it is a known abbreviation."""
    expanded = abbreviation(token)
    return fold(token) if expanded is None else expanded


def normalize(text: str) -> str:
    """Fold a whole message and expand abbreviations, word by word."""
    return " ".join(normalize_token(word) for word in _WORD.findall(text))
