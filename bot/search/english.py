"""Questions written in English, put into the Vietnamese the explanations are written in.

The explanations are Vietnamese; a visitor may ask in English. A question is taken as English
when most of its words are English words this module knows and it carries no Vietnamese
diacritics; its domain phrases are then replaced by their Vietnamese terms
(bot/data/english.yaml, longest phrase first) and English function words are dropped. Text
that is not English is returned untouched: folded Vietnamese shares many spellings with
English ("can", "do", "the"), so words are never translated one by one inside Vietnamese.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import yaml

VOCABULARY_FILE = Path(__file__).resolve().parent.parent / "data" / "english.yaml"
# Words of a question or a vocabulary key: a Vietnamese word with its marks is one word.
_WORDS = re.compile(r"[^\W_]+(?:['’][a-z]+)?")
_POSSESSIVE = re.compile(r"['’]s$")

# Words that make an English sentence but name nothing (dropped after translation).
FUNCTION_WORDS = frozenset(
    """a about after again all am an and any anyone are as at be been before being but by can
    could did do does doing done for from get gets getting go going got had has have having
    he her here him his how i if in into is it its just know let like long many may me might
    more most much must my need needs no not now of on one or our out over please should so
    some tell than thank thanks that the their them then there these they thing this those
    to up us was we well were what when where which while who whom why will with would you
    your i'm i've don't can't what's how's it's""".split()
)


@lru_cache(maxsize=1)
def vocabulary() -> tuple[dict[str, list[tuple[tuple[str, ...], str]]], frozenset[str]]:
    """English phrases (by first word, longest first) with their Vietnamese, and all their words."""
    raw = yaml.safe_load(VOCABULARY_FILE.read_text(encoding="utf-8")) or {}
    table: dict[str, list[tuple[tuple[str, ...], str]]] = {}
    known: set[str] = set()
    for key, value in raw.items():
        # read like a question's words: "people's committee" is found as "people committee"
        phrase = tuple(_POSSESSIVE.sub("", w) for w in _WORDS.findall(str(key).lower()))
        if phrase:
            table.setdefault(phrase[0], []).append((phrase, str(value or "")))
            known.update(phrase)
    for pairs in table.values():
        pairs.sort(key=lambda p: -len(p[0]))
    return table, frozenset(known)


def _singular(word: str, known: frozenset[str]) -> str:
    """ "citizens" → "citizen", "baby's" → "baby" when only that is in the vocabulary."""
    word = _POSSESSIVE.sub("", word)
    if word in known or len(word) < 4:
        return word
    for plural, single in (("ies", "y"), ("es", ""), ("s", "")):
        if word.endswith(plural) and word[: -len(plural)] + single in known:
            return word[: -len(plural)] + single
    return word


def is_english(text: str) -> bool:
    """At least 60% of the words English words known here, one of them a word of the
    vocabulary ("do an toan" is Vietnamese typed without marks); a Vietnamese word typed with
    its marks ("How many wards (phường) are there?") counts against, and is kept as typed."""
    _, known = vocabulary()
    words = [_singular(w, known) for w in _WORDS.findall(text.lower())]
    if len(words) < 2:
        return False
    english = sum(1 for w in words if w in FUNCTION_WORDS or w in known)
    content = any(w in known and w not in FUNCTION_WORDS for w in words)
    return content and english >= 0.6 * len(words)


def to_vietnamese(text: str) -> str:
    """The question in the explanations' Vietnamese terms when it is English, else as typed."""
    if not is_english(text):
        return text
    table, known = vocabulary()
    words = [_singular(w, known) for w in _WORDS.findall(text.lower())]
    out: list[str] = []
    i = 0
    while i < len(words):
        for phrase, vietnamese in table.get(words[i], ()):
            if tuple(words[i : i + len(phrase)]) == phrase:
                out.append(vietnamese)
                i += len(phrase)
                break
        else:
            if words[i] not in FUNCTION_WORDS:
                out.append(words[i])
            i += 1
    return " ".join(w for w in out if w)
