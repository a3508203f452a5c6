"""The knowledge base: published explanations, searched with BM25 (bm25s) on Vietnamese tokens.

`KnowledgeBase.search` ranks by BM25 and judges each hit by *coverage*: the share of the
question's information (IDF-weighted tokens) found in the explanation. A question whose best
hit covers too little gets an honest "I don't know" instead of a wrong answer.
"""

from __future__ import annotations

import math
import re
import threading
from collections import Counter
from dataclasses import dataclass

import bm25s
import numpy as np
from sqlalchemy import func, select

from bot.search.tokens import syllables, tokens
from bot.store.db import Database
from bot.store.models import Agency, Explanation

MIN_COVERAGE = 0.35  # calibrated on tests/data/qa_eval.yaml (make eval)
CLOSE_RATIO = 0.85  # a second hit this close to the best one is offered as a choice


@dataclass(frozen=True, slots=True)
class Doc:
    """A published explanation, as the search sees it."""

    id: int
    slug: str
    title: str
    summary: str
    body: str
    source_document: str
    source_url: str
    agency: str


@dataclass(frozen=True, slots=True)
class Hit:
    """One result: the explanation, its BM25 score and the question coverage."""

    doc: Doc
    score: float
    coverage: float


@dataclass(frozen=True, slots=True)
class Answer:
    """What to tell the citizen: one explanation, a choice between close ones, or nothing."""

    best: Hit | None
    choices: tuple[Hit, ...]


class KnowledgeBase:
    """An in-memory BM25 index of the current explanations, rebuilt when they change."""

    def __init__(self, min_coverage: float = MIN_COVERAGE) -> None:
        self.min_coverage = min_coverage
        self._docs: list[Doc] = []
        self._doc_tokens: list[frozenset[str]] = []
        self._idf: dict[str, float] = {}
        self._max_idf = 1.0
        self._bm25: bm25s.BM25 | None = None
        self._version: tuple[int, int] | None = None
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._docs)

    def rebuild(self, docs: list[Doc]) -> None:
        """Index these documents (title counted twice: it says what the text is about)."""
        corpus = [
            tokens(d.title) * 2 + tokens(d.summary) + tokens(d.body) + tokens(d.source_document)
            for d in docs
        ]
        doc_freq: Counter[str] = Counter()
        for toks in corpus:
            doc_freq.update(set(toks))
        n = max(1, len(corpus))
        idf = {t: math.log((n - df + 0.5) / (df + 0.5) + 1.0) for t, df in doc_freq.items()}
        bm25 = None
        if corpus:
            bm25 = bm25s.BM25()
            bm25.index(corpus, show_progress=False)
        with self._lock:
            self._docs = docs
            self._doc_tokens = [frozenset(t) for t in corpus]
            self._idf = idf
            self._max_idf = max(idf.values(), default=1.0)
            self._bm25 = bm25

    async def refresh(self, db: Database) -> bool:
        """Reload from the database if explanations changed (cheap check); True if reloaded."""
        async with db.session() as session:
            count, top = (
                await session.execute(
                    select(func.count(), func.coalesce(func.max(Explanation.id), 0)).where(
                        Explanation.is_current.is_(True)
                    )
                )
            ).one()
            version = (int(count), int(top))
            if version == self._version:
                return False
            rows = (
                await session.execute(
                    select(Explanation, Agency.name)
                    .join(Agency, Agency.id == Explanation.agency_id)
                    .where(Explanation.is_current.is_(True))
                    .order_by(Explanation.id)
                )
            ).all()
        docs = [
            Doc(e.id, e.slug, e.title, e.summary, e.body, e.source_document, e.source_url, name)
            for e, name in rows
        ]
        self.rebuild(docs)
        self._version = version
        return True

    def by_slug(self, slug: str) -> Doc | None:
        """A current explanation by its slug."""
        return next((d for d in self._docs if d.slug == slug), None)

    def _coverage(self, query: set[str], doc_index: int) -> float:
        if not query:
            return 0.0
        total = sum(self._idf.get(t, self._max_idf) for t in query)
        found = sum(self._idf[t] for t in query if t in self._doc_tokens[doc_index])
        return found / total if total else 0.0

    def search(self, question: str, k: int = 3) -> list[Hit]:
        """The k best explanations for a question, best first (no threshold applied)."""
        query = tokens(question)
        with self._lock:
            bm25, docs = self._bm25, self._docs
            if bm25 is None or not query:
                return []
            known = [t for t in query if t in self._idf]
            if not known:
                return []
            k = min(k, len(docs))
            ids, scores = bm25.retrieve([known], k=k, show_progress=False, n_threads=1)
            unique = set(query)
            return [
                Hit(docs[int(i)], float(s), self._coverage(unique, int(i)))
                for i, s in zip(ids[0], scores[0], strict=True)
                if float(s) > 0
            ]

    def answer(self, question: str) -> Answer:
        """The best explanation if it covers the question well enough, and close alternatives."""
        hits = self.search(question, k=3)
        good = [h for h in hits if h.coverage >= self.min_coverage]
        if not good:
            return Answer(None, ())
        best = good[0]
        close = tuple(h for h in good if h.score >= CLOSE_RATIO * best.score)
        return Answer(best, close if len(close) > 1 else ())


_SENTENCE = re.compile(r"(?<=[.!?…:])\s+|\n+")


def excerpt(doc: Doc, question: str, limit: int = 320) -> str:
    """The passage of the explanation that shares most with the question, at most `limit` chars."""
    wanted = set(syllables(question))
    sentences = [s.strip(" -•*\t") for s in _SENTENCE.split(doc.body) if len(s.strip()) > 20]
    if not sentences:
        return doc.summary[:limit]
    scores = np.array([len(wanted & set(syllables(s))) for s in sentences], dtype=float)
    start = int(scores.argmax()) if scores.max() > 0 else 0
    picked = sentences[start]
    for following in sentences[start + 1 :]:
        if len(picked) + 1 + len(following) > limit:
            break
        picked = f"{picked} {following}"
    if len(picked) > limit:
        picked = picked[: limit - 1].rsplit(" ", 1)[0] + "…"
    return picked
