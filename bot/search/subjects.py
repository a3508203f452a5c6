"""Subjects a question names (a procedure, a paper, an institution) that an explanation must
mention to answer it.

"khiếu nại phải gửi trong bao nhiêu ngày" shares every word but one with the explanation of
the deadlines of explanation requests, and that one word is what it is about: an explanation
that never mentions a subject the question names does not answer it, whatever else matches
(the search then judges the hit as it judges one lacking the kind of information asked,
bot/search/asks.py). The subjects are a list agencies can extend (bot/data/subjects.yaml).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import cache, lru_cache, partial
from pathlib import Path

import yaml

from bot.search.asks import Asks, unmet
from bot.search.tokens import Phrase, crosses, fold, frame_spans, same_words, typed_words

SUBJECTS_FILE = Path(__file__).resolve().parent.parent / "data" / "subjects.yaml"

# A subject: its names, each as typed words (with marks) and as a folded phrase.
Subject = tuple[tuple[Phrase, str], ...]


@lru_cache(maxsize=1)
def subjects() -> dict[str, list[tuple[Phrase, Subject]]]:
    """Every name of every subject, by the folding of its first word, longest first."""
    raw = yaml.safe_load(SUBJECTS_FILE.read_text(encoding="utf-8")) or []
    table: dict[str, list[tuple[Phrase, Subject]]] = {}
    for line in raw:
        names = []
        for name in str(line).split("|"):
            words = tuple(re.findall(r"[^\W_]+", unicodedata.normalize("NFC", name.lower())))
            if words:
                names.append((words, " ".join(fold(w) for w in words)))
        subject = tuple(names)
        for words, _ in subject:
            table.setdefault(fold(words[0]), []).append((words, subject))
    for entries in table.values():
        entries.sort(key=lambda e: -len(e[0]))
    return table


# A place: an administrative unit, then a proper name ("phường Ba Đình", "xã Tân An").
_PLACE = re.compile(
    r"\b(?i:phường|phuong|xã|xa|thị trấn|thi tran|tỉnh|tinh|thành phố|thanh pho|tp|quận|quan|"
    r"huyện|huyen|thị xã|thi xa|đặc khu|dac khu)\.?(?=((?:\s+[^\W\d_]+){1,4}))"
)


def places(question: str) -> tuple[Subject, ...]:
    """The places the question names by their proper names (capitalised after the unit): an
    explanation about one ward does not give another ward's schedule."""
    found: list[Subject] = []
    for match in _PLACE.finditer(unicodedata.normalize("NFC", question)):
        name: list[str] = []
        for word in match.group(1).split():
            if not word[0].isupper():
                break
            name.append(word.lower())
        subject = ((tuple(name), " ".join(fold(w) for w in name)),)
        if name and subject not in found:
            found.append(subject)
    return tuple(found)


def named(question: str) -> tuple[Subject, ...]:
    """The subjects the question names (words typed with marks must be typed so; a name read
    from words typed without marks does not cut through a question frame phrase), and the
    places it names (`places`)."""
    table = subjects()
    words = typed_words(question)
    spans = cache(partial(frame_spans, words))  # a name read by folding does not cross them
    found: list[Subject] = []
    i = 0
    while i < len(words):
        step = 1
        for key, subject in table.get(words[i][1], ()):
            window = words[i : i + len(key)]
            if not same_words(key, window) or crosses(key, window, i, spans):
                continue
            if subject not in found:
                found.append(subject)
            step = len(key)
            break
        i += step
    return (*found, *(p for p in places(question) if p not in found))


def unmentioned(subjects_: tuple[Subject, ...], text: str) -> bool:
    """Whether a folded explanation text (with its typical questions) mentions none of the
    names of some subject the question names."""
    padded = f" {text} "
    return any(not any(f" {folded} " in padded for _, folded in subject) for subject in subjects_)


def unpaired(
    subjects_: tuple[Subject, ...],
    asks: Asks,
    passages: Callable[[], tuple[str, ...]],
) -> bool:
    """Whether no passage (folded; read only when needed) both mentions a subject the question
    names and states the kind of information it asks about it: "tố cáo … bao nhiêu ngày" is not
    answered by a text that names denunciations in one place and a number of days for feedback
    in another."""
    kinds, nouns = asks
    if not subjects_ or not (kinds or nouns):
        return False
    return not any(not unmentioned(subjects_, p) and not unmet(asks, p) for p in passages())
