"""What the search reads from a question once, before judging any explanation against it.

Its weighted tokens and the compounds they form, each clause of a question of several, the
kinds of information it asks for (asks.py), the subjects it names (subjects.py), the spelling of
the words typed with marks, and, when it tells its situation first, its asking part on its own.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.search.asks import Asks, asked
from bot.search.subjects import Subject, named
from bot.search.tokens import (
    clause_tokens,
    marked_words,
    told_first,
    weighted_question_tokens,
)

Tokens = dict[str, float]  # weighted tokens
Compounds = dict[str, list[str]]


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
