"""Search tokens for Vietnamese: folded syllables, syllable bigrams, synonyms, no filler words.

Vietnamese words are often two syllables ("thủ tục", "giải trình"), so adjacent syllable
pairs are indexed as tokens too ("thu_tuc"); a question without diacritics matches text with
them because everything is folded. Abbreviations and synonyms (bot/data/synonyms.yaml) are
expanded on both sides, so "CCCD" finds "căn cước công dân".
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import yaml

from nlu.text import ABBREVIATIONS, fold

SYNONYMS_FILE = Path(__file__).resolve().parent.parent / "data" / "synonyms.yaml"
_WORD = re.compile(r"[a-z0-9]+")

# Question filler that says nothing about the topic (folded). Kept short on purpose:
# a missing stop word costs a little ranking, a wrong one loses meaning.
STOPWORDS = frozenset(
    """a ad ah ak alo anh ba ban bi biet cho chi chu co cua cung da dang day de den di do duoc
    em gi gium giup ha hay hoi khong la lam lai luon ma minh mk moi mot nao ne nha nhe nhi
    nhu nhung noi o oi ong roi sao se the thi toi tu va vay ve voi vui xin""".split()
)


@lru_cache(maxsize=1)
def synonyms() -> dict[str, list[tuple[tuple[str, ...], tuple[str, ...]]]]:
    """Synonym pairs (typed, replacement) as folded syllables, by first syllable, longest first."""
    raw = yaml.safe_load(SYNONYMS_FILE.read_text(encoding="utf-8")) or {}
    table: dict[str, list[tuple[tuple[str, ...], tuple[str, ...]]]] = {}
    for key, value in raw.items():
        typed = tuple(_WORD.findall(fold(str(key))))
        if typed:
            table.setdefault(typed[0], []).append((typed, tuple(_WORD.findall(fold(str(value))))))
    for pairs in table.values():
        pairs.sort(key=lambda p: -len(p[0]))
    return table


def syllables(text: str) -> list[str]:
    """Folded syllables with chat abbreviations expanded and synonyms applied."""
    words: list[str] = []
    for word in _WORD.findall(fold(text)):
        words.extend(ABBREVIATIONS.get(word, word).split())
    out: list[str] = []
    i = 0
    table = synonyms()
    while i < len(words):
        for typed, replacement in table.get(words[i], ()):
            if tuple(words[i : i + len(typed)]) == typed:
                out.extend(replacement)
                i += len(typed)
                break
        else:
            out.append(words[i])
            i += 1
    return out


def tokens(text: str) -> list[str]:
    """Unigrams without filler words, plus bigrams of adjacent syllables."""
    sylls = syllables(text)
    unigrams = [s for s in sylls if s not in STOPWORDS]
    bigrams = [
        f"{a}_{b}"
        for a, b in zip(sylls, sylls[1:], strict=False)
        if not (a in STOPWORDS and b in STOPWORDS)
    ]
    return unigrams + bigrams
