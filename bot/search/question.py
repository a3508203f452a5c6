"""What the search reads from a question once, before judging any explanation against it.

Its weighted tokens and the compounds they form, each clause of a question of several, the
kinds of information it asks for (asks.py), the subjects it names (subjects.py), the spelling of
the words typed with marks, and, when it tells its situation first, its asking part on its own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.search.asks import Asks, asked
from bot.search.subjects import Subject, named
from bot.search.tokens import (
    clauses,
    frame_spans,
    marked_words,
    typed_words,
    weighted_question_tokens,
)

Tokens = dict[str, float]  # weighted tokens
Compounds = dict[str, list[str]]


def _asks_in(clause: str) -> bool:
    """Whether a clause asks: it ends with "?", or has a question frame phrase of several words
    ("ở đâu", "bao nhiêu", "được không")."""
    return clause.rstrip().endswith("?") or bool(frame_spans(typed_words(clause)))


def told_first(text: str, asks: Callable[[str], bool]) -> str | None:
    """The asking part of a question whose first clauses only tell a situation, or None: in
    "Xóm tôi vừa sạt lở, nhiều nhà nguy hiểm. Chủ tịch xã có gặp không?" the landslide is the
    citizen's situation, not what is asked about. A clause that `asks` for a kind of
    information (bot/search/asks.py), or asks as `_asks_in` says, ends the telling."""
    parts = clauses(text)
    n = 0
    while n < len(parts) - 1 and not _asks_in(parts[n]) and not asks(parts[n]):
        n += 1
    return " ".join(parts[n:]) if n else None


def clause_tokens(text: str, least: int = 3) -> list[dict[str, float]]:
    """Each clause of a question of several (split at ",", ".", "?"… before a space), as
    `weighted_question_tokens`, when it has at least `least` content words: "tôi nộp hôm thứ 6,
    5 ngày làm việc thì đến hôm nào là hết hạn" tells a situation, then asks."""
    parts = clauses(text)
    if len(parts) < 2:
        return []
    out = []
    for clause in parts:
        weighted = weighted_question_tokens(clause)
        if sum("_" not in t for t in weighted) >= least:
            out.append(weighted)
    return out


def compounds(query: Tokens) -> Compounds:
    """For each question word, the compounds it forms with a neighbouring content word."""
    out: Compounds = {}
    for token in query:
        if "_" in token:
            a, b = token.split("_", 1)
            if a in query and b in query:
                out.setdefault(a, []).append(token)
                out.setdefault(b, []).append(token)
    return out


@dataclass(frozen=True, slots=True)
class Asking:
    """The asking part of a question that tells its situation first (`told_first`), judged on
    its own: in "Xóm tôi vừa sạt lở, nhiều nhà nguy hiểm. Chủ tịch xã có gặp không?" the
    landslide is the citizen's situation, not a subject the explanation must mention."""

    query: Tokens
    pairs: Compounds
    asks: Asks
    subjects: tuple[Subject, ...]

    @classmethod
    def of(cls, question: str) -> Asking | None:
        """The asking part, or None when the question does not tell a situation first."""
        text = told_first(question, lambda clause: any(asked(clause)))
        if text is None:
            return None
        query = weighted_question_tokens(text)
        return cls(query, compounds(query), asked(text), named(text))


@dataclass(frozen=True, slots=True)
class Question:
    """A question as the search reads it."""

    query: Tokens
    pairs: Compounds
    clauses: tuple[tuple[Tokens, Compounds], ...]
    asks: Asks
    subjects: tuple[Subject, ...]
    spelt: dict[str, frozenset[str]]
    asking: Asking | None

    @classmethod
    def of(cls, text: str) -> Question:
        """Read a question."""
        query = weighted_question_tokens(text)
        return cls(
            query,
            compounds(query),
            tuple((c, compounds(c)) for c in clause_tokens(text)),
            asked(text),
            named(text),
            marked_words(text),
            Asking.of(text),
        )

    def words(self) -> set[str]:
        """Every token of the question, its clauses and its asking part, and each word of its
        pairs: those whose rarity the coverage needs."""
        tokens = [*self.query, *(t for c, _ in self.clauses for t in c)]
        tokens += self.asking.query if self.asking else ()
        return {w for t in tokens for w in (t, *t.split("_"))}
