"""The knowledge base: published explanations, searched with BM25 on Vietnamese tokens.

`KnowledgeBase.search` ranks by BM25 and judges each hit by *coverage*: the share of the
question's information (IDF-weighted tokens) found in the explanation. `answer` turns the
hits into a zone (bot/search/results.py): a confident answer, a choice, or an honest
"I don't know" when nothing covers enough of the question.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from functools import partial
from typing import Any

from bot.domain.explanations import chat_text
from bot.search.asks import Asks, unmet
from bot.search.excerpts import excerpt, units
from bot.search.index import Bm25Index
from bot.search.question import Compounds, Question, Tokens
from bot.search.results import THRESHOLDS, Answer, Doc, Hit, Thresholds, Zone, decide
from bot.search.subjects import Subject, unmentioned, unpaired
from bot.search.tokens import question_tokens, spellings, tokens
from bot.store import explanations as versions
from bot.store.db import Database
from nlu.text import normalize

BIGRAM = 2.0  # weight of a syllable pair against a syllable (best on tune by 5-fold --cv)
UNKNOWN = 1.0  # weight of a word no explanation has, against the rarest word they have
UNKNOWN_PAIR = 0.5  # weight of a pair no explanation has, against the mean of its words'
LOOSE = 0.0  # credit for a word found without the compound it forms in the question
RERANK = 2  # hits retrieved beyond k, so one that can answer may move up
UNMET_ASK = 0.2  # coverage kept by a hit that states no information of the kind asked for (below
# the plausible threshold: such a hit is never offered on its own merits)

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


@dataclass(frozen=True, slots=True)
class _Entry:
    """What the index keeps of one explanation besides the explanation itself."""

    tokens: list[str]
    bound: dict[str, str]  # words it has only inside one compound (`bound_words`)
    spellings: frozenset[str]
    text: str  # folded, for what kind of information it states
    mentions: str  # folded, with its questions: the subjects it speaks of


def doc_tokens(d: Doc) -> list[str]:
    """What BM25 indexes of an explanation: its title counted twice (it says what the text is
    about); its typical questions once, like the summary, read as a citizen's question is
    (the words people ask in, which its body may not use)."""
    return (
        tokens(d.title) * 2
        + tokens(d.summary)
        + tokens(d.body)
        + tokens(d.source_document)
        + [t for q in d.questions for t in question_tokens(q)]
    )


def bound_words(tokens: list[str]) -> dict[str, str]:
    """The words an explanation has only inside one compound, with that compound: each of their
    occurrences (two at least) next to the same word. "ủy" in a text that says only "ủy ban" is
    no sign it speaks of "ủy quyền"."""
    words = Counter(t for t in tokens if "_" not in t)
    best: dict[str, tuple[str, int]] = {}
    for pair, n in Counter(t for t in tokens if "_" in t).items():
        for word in set(pair.split("_", 1)):
            if n > best.get(word, ("", 0))[1]:
                best[word] = (pair, n)
    return {w: pair for w, (pair, n) in best.items() if words[w] >= 2 and n >= words[w]}


def _entry(d: Doc) -> _Entry:
    """Tokens, spellings and folded text of an explanation."""
    indexed = doc_tokens(d)
    return _Entry(
        indexed,
        bound_words(indexed),
        spellings(" ".join((d.title, d.summary, d.body, d.source_document, *d.questions))),
        # not its questions: they ask for information, they do not state it
        normalize(f"{d.title} {d.summary} {d.body}"),
        normalize(" ".join((d.title, d.summary, d.body, *d.questions))),
    )


class KnowledgeBase:
    """An in-memory BM25 index of the current explanations that follows their changes:
    `refresh` adds and removes only the explanations that changed (bot/search/index.py)."""

    def __init__(self, limits: Thresholds = THRESHOLDS) -> None:
        self.limits = limits
        self._index = Bm25Index()
        self._docs: list[Doc | None] = []  # per slot of the index
        self._spellings: list[frozenset[str]] = []
        self._bound: list[dict[str, str]] = []  # per slot: words found only in one compound
        self._texts: list[str] = []  # folded, for what kind of information each states
        self._mentions: list[str] = []  # folded with its questions, for the subjects named
        # folded sentences and list items, read when a question needs them (a subject named
        # and a kind of information asked), then kept
        self._passages: list[tuple[str, ...] | None] = []
        self._slots: dict[int, int] = {}  # explanation id -> slot
        self._by_slug: dict[str, int] = {}
        self._version: tuple[int, int] | None = None  # of the explanations indexed
        self._lock = threading.Lock()
        self._refreshing = asyncio.Lock()  # one refresh at a time: they apply in order

    def __len__(self) -> int:
        return len(self._slots)

    def rebuild(self, docs: list[Doc]) -> None:
        """Index these documents and only these."""
        entries = [_entry(d) for d in docs]
        with self._lock:
            self._index.clear()
            self._docs, self._spellings, self._texts, self._mentions = [], [], [], []
            self._bound = []
            self._passages = []
            self._slots, self._by_slug = {}, {}
            self._put(docs, entries)
            self._version = None  # not the database's

    def update(self, added: list[Doc], removed: Iterable[int]) -> None:
        """Add these documents and remove those with these ids (absent ones are ignored), in
        place: what the index gives is then what a rebuild over the new set would give."""
        entries = [_entry(d) for d in added]  # the slow part, outside the lock
        with self._lock:
            leaving = sorted({*removed, *(d.id for d in added)} & self._slots.keys())
            gone = [self._slots.pop(i) for i in leaving]
            for slot in gone:
                doc = self._docs[slot]
                assert doc is not None
                if self._by_slug.get(doc.slug) == slot:
                    del self._by_slug[doc.slug]
                self._docs[slot] = None
            self._index.remove(gone)
            self._put(added, entries)

    def _put(self, docs: list[Doc], entries: list[_Entry]) -> None:
        """Index documents whose entries are ready (with the lock held)."""
        slots = self._index.add((d.id, e.tokens) for d, e in zip(docs, entries, strict=True))
        grow = max(slots, default=-1) + 1 - len(self._docs)
        if grow > 0:
            self._docs += [None] * grow
            self._spellings += [frozenset()] * grow
            self._bound += [{}] * grow
            self._texts += [""] * grow
            self._mentions += [""] * grow
            self._passages += [None] * grow
        for slot, doc, entry in zip(slots, docs, entries, strict=True):
            self._docs[slot] = doc
            self._spellings[slot] = entry.spellings
            self._bound[slot] = entry.bound
            self._texts[slot] = entry.text
            self._mentions[slot] = entry.mentions
            self._passages[slot] = None
            self._slots[doc.id] = slot
            self._by_slug[doc.slug] = slot

    async def refresh(self, db: Database) -> bool:
        """Follow the database's current explanations (a cheap check, then only the
        explanations that changed); True if anything changed."""
        async with self._refreshing:
            async with db.session(read_only=True) as session:
                if await versions.current_stamp(session) == self._version:
                    return False
                ids = await versions.current_ids(session)
                with self._lock:
                    known = set(self._slots)
                rows = await versions.with_agency_names(session, ids - known)
            added = [
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
            self.update(added, known - ids)
            # the stamp of what is indexed: a change after reading `ids` shows next time
            self._version = (len(ids), sum(ids))
            return bool(added) or known != ids

    def by_slug(self, slug: str) -> Doc | None:
        """A current explanation by its slug."""
        with self._lock:
            slot = self._by_slug.get(slug)
            return None if slot is None else self._docs[slot]

    def _coverage(
        self,
        query: Tokens,
        pairs: Compounds,
        doc_index: int,
        spelt: dict[str, frozenset[str]],
        idfs: dict[str, float | None],
    ) -> float:
        """IDF-weighted share of the question found in one explanation; a word no explanation
        has weighs as much as the rarest one (the question is about something else). A word
        found counts only if a compound it forms in the question (`pairs`) and that some
        explanation has is found too: "thời hạn" is not found in "thôi" and "hạn"; when no
        explanation has its compounds, it is not found in one that has it only inside another
        compound (`bound_words`: "ủy quyền" is not found in "ủy ban" and "quyền"). A word
        whose spelling is known (`spelt`, typed with marks) is found only so spelt: "con"
        (child) typed in a message with marks is not found in "còn" (still). `idfs`: of the
        question's words and their pairs' words (None: no explanation has it)."""
        total = found = 0.0
        doc = self._index.terms(doc_index)
        bound = self._bound[doc_index]
        unknown = UNKNOWN * self._index.max_idf()
        for token, weight in query.items():
            if "_" in token:
                idf = idfs[token]
                if idf is None:  # a pair no explanation has: as strong as its words
                    a, b = token.split("_", 1)
                    pair = (idfs.get(a) or unknown) + (idfs.get(b) or unknown)
                    idf = UNKNOWN_PAIR * pair / 2
                w = weight * idf * BIGRAM
            else:
                w = weight * (idfs[token] or unknown)
            total += w
            if token in doc and (token not in spelt or spelt[token] & self._spellings[doc_index]):
                formed = pairs.get(token, ())
                known = [p for p in formed if idfs[p] is not None]
                if known:
                    whole = any(p in doc for p in known)
                else:  # no explanation has its compounds: not found inside another one
                    whole = not formed or bound.get(token, token) in query
                found += w if whole else w * LOOSE
        return found / total if total else 0.0

    def _passages_of(self, slot: int) -> tuple[str, ...]:
        """An explanation's sentences and list items (each with its lead line) and its
        summary, folded (with the lock held)."""
        found = self._passages[slot]
        if found is None:
            doc = self._docs[slot]
            assert doc is not None
            texts = [f"{u.lead} {u.text}" for u in units(doc.body)] + [doc.summary]
            found = self._passages[slot] = tuple(normalize(t) for t in texts)
        return found

    def _unfit(self, slot: int, asks: Asks, subjects: tuple[Subject, ...]) -> bool:
        """Whether an explanation lacks a kind of information asked or a subject named, or
        states the kind asked nowhere it names the subject (with the lock held)."""
        return (
            unmet(asks, self._texts[slot])
            or unmentioned(subjects, self._mentions[slot])
            or unpaired(subjects, asks, partial(self._passages_of, slot))
        )

    def _covered(self, q: Question, slot: int, unfit: bool, idfs: dict[str, float | None]) -> float:
        """How much of the question an explanation covers (with the lock held): a question that
        tells its situation, then asks, is covered as well as its best clause is (the
        situation's own words need not be in the explanation), and as well as its asking part
        judged on its own (the subjects and kinds of the situation are not what is asked)."""
        coverage = max(
            self._coverage(query, pairs, slot, q.spelt, idfs)
            for query, pairs in [(q.query, q.pairs), *q.clauses]
        ) * (UNMET_ASK if unfit else 1)
        if q.asking is not None:
            a = q.asking
            part = self._coverage(a.query, a.pairs, slot, q.spelt, idfs)
            coverage = max(
                coverage, part * (UNMET_ASK if self._unfit(slot, a.asks, a.subjects) else 1)
            )
        return coverage

    def search(self, question: str, k: int = 3) -> list[Hit]:
        """The k best explanations for a question, best first (no threshold applied)."""
        q = Question.of(question)
        with self._lock:
            idfs = {t: self._index.idf(t) for t in q.words()}
            known = [t for t in q.query if idfs[t] is not None]
            if not known:
                return []
            found = [
                (slot, score, self._unfit(slot, q.asks, q.subjects))
                for slot, score in self._index.top(known, k + RERANK)
                if score > 0
            ]
            # an explanation that states the kind of information asked, and mentions the
            # subjects named, ranks first
            found.sort(key=lambda f: f[2])
            hits = []
            for slot, score, unfit in found[:k]:
                doc = self._docs[slot]
                assert doc is not None
                hits.append(Hit(doc, score, self._covered(q, slot, unfit, idfs)))
            return hits

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
