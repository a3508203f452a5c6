"""The knowledge base: published explanations, searched with BM25 (bm25s) on Vietnamese tokens.

`KnowledgeBase.search` ranks by BM25 and judges each hit by *coverage*: the share of the
question's information (IDF-weighted tokens) found in the explanation. `answer` turns the
hits into a zone (bot/search/results.py): a confident answer, a choice, or an honest
"I don't know" when nothing covers enough of the question.
"""

from __future__ import annotations

import json
import math
import threading
from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any

import bm25s
from sqlalchemy import func, select

from bot.domain.explanations import chat_text
from bot.search.asks import asked, unmet
from bot.search.excerpts import excerpt
from bot.search.results import THRESHOLDS, Answer, Doc, Hit, Thresholds, Zone, decide
from bot.search.tokens import (
    marked_words,
    question_tokens,
    spellings,
    tokens,
    weighted_question_tokens,
)
from bot.store.db import Database
from bot.store.models import Agency, Explanation
from nlu.text import normalize

BIGRAM = 2.0  # weight of a syllable pair against a syllable (best on tune by 5-fold --cv)
UNKNOWN = 1.0  # weight of a word no explanation has, against the rarest word they have
UNKNOWN_PAIR = 0.5  # weight of a pair no explanation has, against the mean of its words'
LOOSE = 0.0  # credit for a word found without the compound it forms in the question
RERANK = 2  # hits retrieved beyond k, so one that can answer may move up
UNMET_ASK = 0.4  # coverage kept by a hit that states no information of the kind asked for

__all__ = [
    "Answer",
    "AnswerReport",
    "Doc",
    "Hit",
    "KnowledgeBase",
    "Zone",
    "answer_report",
    "excerpt",
    "passage",
]


def compounds(query: dict[str, float]) -> dict[str, list[str]]:
    """For each question word, the compounds it forms with a neighbouring content word."""
    out: dict[str, list[str]] = {}
    for token in query:
        if "_" in token:
            a, b = token.split("_", 1)
            if a in query and b in query:
                out.setdefault(a, []).append(token)
                out.setdefault(b, []).append(token)
    return out


class KnowledgeBase:
    """An in-memory BM25 index of the current explanations, rebuilt when they change."""

    def __init__(self, limits: Thresholds = THRESHOLDS) -> None:
        self.limits = limits
        self._docs: list[Doc] = []
        self._doc_tokens: list[frozenset[str]] = []
        self._spellings: list[frozenset[str]] = []
        self._texts: list[str] = []  # folded, for what kind of information each states
        self._idf: dict[str, float] = {}
        self._max_idf = 1.0
        self._bm25: bm25s.BM25 | None = None
        self._version: tuple[int, int] | None = None
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._docs)

    def rebuild(self, docs: list[Doc]) -> None:
        """Index these documents (title counted twice: it says what the text is about; the
        typical questions it answers once, like the summary, read as a citizen's question is:
        the words people ask in, which its body may not use)."""
        corpus = [
            tokens(d.title) * 2
            + tokens(d.summary)
            + tokens(d.body)
            + tokens(d.source_document)
            + [t for q in d.questions for t in question_tokens(q)]
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
            self._spellings = [
                spellings(" ".join((d.title, d.summary, d.body, d.source_document, *d.questions)))
                for d in docs
            ]
            # not its questions: they ask for information, they do not state it
            self._texts = [normalize(f"{d.title} {d.summary} {d.body}") for d in docs]
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
            Doc(
                e.id,
                e.slug,
                e.title,
                e.summary,
                chat_text(e.body),  # officers write Markdown; chat shows text
                e.source_document,
                e.source_url,
                name,
                tuple(e.questions),
            )
            for e, name in rows
        ]
        self.rebuild(docs)
        self._version = version
        return True

    def by_slug(self, slug: str) -> Doc | None:
        """A current explanation by its slug."""
        return next((d for d in self._docs if d.slug == slug), None)

    def _coverage(
        self,
        query: dict[str, float],
        pairs: dict[str, list[str]],
        doc_index: int,
        spelt: dict[str, frozenset[str]],
    ) -> float:
        """IDF-weighted share of the question found in one explanation; a word no explanation
        has weighs as much as the rarest one (the question is about something else). A word
        found counts only if a compound it forms in the question (`pairs`) and that some
        explanation has is found too: "thời hạn" is not found in "thôi" and "hạn". A word
        whose spelling is known (`spelt`, typed with marks) is found only so spelt: "con"
        (child) typed in a message with marks is not found in "còn" (still)."""
        total = found = 0.0
        doc = self._doc_tokens[doc_index]
        unknown = UNKNOWN * self._max_idf
        for token, weight in query.items():
            if "_" in token:
                idf = self._idf.get(token)
                if idf is None:  # a pair no explanation has: as strong as its words
                    a, b = token.split("_", 1)
                    idf = UNKNOWN_PAIR * (self._idf.get(a, unknown) + self._idf.get(b, unknown)) / 2
                w = weight * idf * BIGRAM
            else:
                w = weight * self._idf.get(token, unknown)
            total += w
            if token in doc and (token not in spelt or spelt[token] & self._spellings[doc_index]):
                known = [p for p in pairs.get(token, ()) if p in self._idf]
                whole = not known or any(p in doc for p in known)
                found += w if whole else w * LOOSE
        return found / total if total else 0.0

    def search(self, question: str, k: int = 3) -> list[Hit]:
        """The k best explanations for a question, best first (no threshold applied)."""
        weighted = weighted_question_tokens(question)
        query = list(weighted)
        pairs = compounds(weighted)
        asks = asked(question)
        spelt = marked_words(question)
        with self._lock:
            bm25, docs = self._bm25, self._docs
            if bm25 is None or not query:
                return []
            known = [t for t in query if t in self._idf]
            if not known:
                return []
            ids, scores = bm25.retrieve(
                [known], k=min(k + RERANK, len(docs)), show_progress=False, n_threads=0
            )
            found = [
                (int(i), float(s), unmet(asks, self._texts[int(i)]))
                for i, s in zip(ids[0], scores[0], strict=True)
                if float(s) > 0
            ]
            # an explanation that states the kind of information asked ranks first
            found.sort(key=lambda f: f[2])
            return [
                Hit(docs[i], s, self._coverage(weighted, pairs, i, spelt) * (UNMET_ASK if u else 1))
                for i, s, u in found[:k]
            ]

    def answer(self, question: str) -> Answer:
        """A confident answer, a choice of 2–3 plausible explanations, or nothing."""
        return decide(self.search(question, k=3), self.limits)


def passage(doc: Doc, question: str) -> str:
    """The part of the explanation that answers the question (bot/search/excerpts.py)."""
    return excerpt(doc.body, question, doc.summary)


@dataclass(frozen=True, slots=True)
class AnswerReport:
    """What the bot would answer to one question: for officers checking their content, and
    for automated checks (`giaitrinh answer`)."""

    question: str
    zone: Zone
    hits: tuple[Hit, ...]  # ranked, with the ones shown first
    shown: tuple[str, ...]  # slugs the citizen would see
    excerpt: str  # of the confident answer ("" otherwise)
    limits: Thresholds

    def as_json(self) -> dict[str, Any]:
        """The report as JSON-ready data."""
        return {
            "question": self.question,
            "zone": self.zone.value,
            "thresholds": asdict(self.limits),
            "explanations": [
                {
                    "slug": h.doc.slug,
                    "title": h.doc.title,
                    "score": round(h.score, 3),
                    "coverage": round(h.coverage, 3),
                    "shown": h.doc.slug in self.shown,
                }
                for h in self.hits
            ],
            "excerpt": self.excerpt,
        }

    def json_text(self) -> str:
        """The report as indented JSON text."""
        return json.dumps(self.as_json(), ensure_ascii=False, indent=2)

    def lines(self) -> list[str]:
        """The report as text for a terminal."""
        zone = {
            Zone.ANSWER: "answer",
            Zone.CHOICES: "choices (Có phải anh/chị muốn hỏi…)",
            Zone.UNKNOWN: "I don't know",
        }[self.zone]
        out = [f"zone: {zone}"]
        for h in self.hits:
            mark = "*" if h.doc.slug in self.shown else " "
            out.append(f"{mark} {h.score:7.3f}  coverage {h.coverage:.2f}  {h.doc.slug}")
        if self.excerpt:
            out += ["", self.excerpt]
        return out


async def answer_report(db: Database, question: str, k: int = 5) -> AnswerReport:
    """What the bot would answer to `question` from the database's current explanations."""
    kb = KnowledgeBase()
    await kb.refresh(db)
    hits = kb.search(question, k=k)
    answer = decide(hits[:3], kb.limits)
    best = answer.best
    return AnswerReport(
        question,
        answer.zone,
        tuple(hits),
        tuple(h.doc.slug for h in answer.hits),
        passage(best.doc, question) if best else "",
        kb.limits,
    )
