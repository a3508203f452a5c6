"""A BM25 index that takes documents in and out one at a time and scores as bm25s does.

bm25s precomputes every (term, document) score; those depend on the number of documents,
their average length and each term's document frequency, so one publication changes them
all and a bm25s index can only be rebuilt (5 s at 10,000 explanations). This index keeps
postings instead (which documents hold a term, how often) and computes those figures when
asked, with bm25s's formulas (Lucene variant, k1 1.5, b 0.75) and float types: its scores
and rankings are bm25s's, bit for bit (tests/unit/test_search_index.py), whatever order the
documents came and went in.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np
from numpy.typing import NDArray

K1 = 1.5
B = 0.75

_NO_TERMS: frozenset[str] = frozenset()


def idf(n: int, df: int) -> float:
    """Lucene's inverse document frequency (bm25s's, and the coverage rule's weight)."""
    return math.log((n - df + 0.5) / (df + 0.5) + 1.0)


class _Postings:
    """One term's postings: the slots of the documents holding it and how often, in the
    first `n` places of arrays that grow by doubling (a removal moves the last one in)."""

    __slots__ = ("n", "slots", "tfs")

    def __init__(self, slots: list[int], tfs: list[int]) -> None:
        self.slots = np.array(slots, dtype=np.int32)
        self.tfs = np.array(tfs, dtype=np.float32)
        self.n = len(slots)

    def extend(self, slots: list[int], tfs: list[int]) -> None:
        """Add documents that hold the term."""
        end = self.n + len(slots)
        if end > len(self.slots):
            size = max(end, 2 * len(self.slots))
            self.slots = np.resize(self.slots, size)
            self.tfs = np.resize(self.tfs, size)
        self.slots[self.n : end] = slots
        self.tfs[self.n : end] = tfs
        self.n = end

    def drop(self, slots: list[int]) -> None:
        """Remove documents that hold the term."""
        for slot in slots:
            at = int(np.flatnonzero(self.slots[: self.n] == slot)[0])
            self.n -= 1
            self.slots[at] = self.slots[self.n]
            self.tfs[at] = self.tfs[self.n]


class Bm25Index:
    """Postings of the documents in the index, each in a slot that a removed one frees.

    Documents rank by score; on equal scores as bm25s ranks them when given the documents in
    the order of their keys (explanation ids), so the result does not depend on the history.
    Not thread-safe: the knowledge base holds its lock around every call."""

    def __init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        """Empty the index."""
        self._postings: dict[str, _Postings] = {}
        self._terms: list[frozenset[str]] = []  # per slot; empty for a free slot
        self._keys = np.zeros(0, dtype=np.int64)
        self._used = np.zeros(0, dtype=np.bool_)
        self._lengths = np.zeros(0, dtype=np.float64)
        self._free: list[int] = []  # slots a removed document left
        self._order = np.zeros(0, dtype=np.intp)  # the slots in use, by key
        self._total = 0  # tokens in all documents
        self._df_counts: Counter[int] = Counter()  # how many terms have each document frequency
        self._norms: NDArray[np.float64] | None = None  # per slot, until the next change
        self._weights: dict[str, NDArray[np.float32]] = {}  # per term, until the next change

    def __len__(self) -> int:
        return len(self._order)

    def terms(self, slot: int) -> frozenset[str]:
        """The distinct terms of the document in a slot."""
        return self._terms[slot]

    def df(self, term: str) -> int:
        """How many documents hold the term."""
        found = self._postings.get(term)
        return 0 if found is None else found.n

    def idf(self, term: str) -> float | None:
        """The term's IDF over the documents now in the index; None if none holds it."""
        df = self.df(term)
        return idf(max(1, len(self)), df) if df else None

    def max_idf(self) -> float:
        """The IDF of the rarest term (1.0 in an empty index)."""
        if not self._df_counts:
            return 1.0
        return idf(max(1, len(self)), min(self._df_counts))

    def add(self, documents: Iterable[tuple[int, Sequence[str]]]) -> list[int]:
        """Index documents given as (key, tokens); returns the slot of each."""
        grouped: dict[str, tuple[list[int], list[int]]] = {}
        slots = []
        for key, tokens in documents:
            counts = Counter(tokens)
            slot = self._take_slot()
            self._terms[slot] = frozenset(counts)
            self._keys[slot] = key
            self._used[slot] = True
            self._lengths[slot] = len(tokens)
            self._total += len(tokens)
            for term, tf in counts.items():
                at, tfs = grouped.setdefault(term, ([], []))
                at.append(slot)
                tfs.append(tf)
            slots.append(slot)
        for term, (at, tfs) in grouped.items():
            postings = self._postings.get(term)
            if postings is None:
                postings = self._postings[term] = _Postings(at, tfs)
            else:
                self._count_df(postings.n, -1)
                postings.extend(at, tfs)
            self._count_df(postings.n, 1)
        self._changed()
        return slots

    def remove(self, slots: Iterable[int]) -> None:
        """Take the documents in these slots out of the index."""
        gone: dict[str, list[int]] = {}
        for slot in slots:
            for term in self._terms[slot]:
                gone.setdefault(term, []).append(slot)
            self._total -= int(self._lengths[slot])
            self._terms[slot] = _NO_TERMS
            self._used[slot] = False
            self._free.append(slot)
        for term, out in gone.items():
            postings = self._postings[term]
            self._count_df(postings.n, -1)
            if len(out) == postings.n:
                del self._postings[term]
            else:
                postings.drop(out)
                self._count_df(postings.n, 1)
        self._changed()

    def top(self, query: Sequence[str], k: int) -> list[tuple[int, float]]:
        """The k best (slot, score) for these query terms, best first, zero scores included
        (what `bm25s.BM25.retrieve` returns for the documents in key order)."""
        n = len(self._order)
        k = min(k, n)
        if k <= 0:
            return []
        scores = np.zeros(len(self._lengths), dtype=np.float32)
        for term in query:
            postings = self._postings.get(term)
            if postings is not None:
                np.add.at(scores, postings.slots[: postings.n], self._weight(term))
        ranked = scores[self._order]
        # bm25s's numpy top-k, on the same array: equal scores fall in the same order
        part = np.argpartition(ranked, -k)[-k:]
        best = part[np.flip(np.argsort(ranked[part]))]
        return [(int(self._order[i]), float(ranked[i])) for i in best]

    def _weight(self, term: str) -> NDArray[np.float32]:
        """The term's score in each document that holds it (bm25s's precomputed matrix
        column), computed on first use after a change."""
        weight = self._weights.get(term)
        if weight is None:
            n = len(self._order)
            norms = self._norms
            if norms is None:  # bm25s: k1 * ((1 - b) + b * l_d / l_avg), in float64
                norms = self._norms = K1 * ((1 - B) + B * self._lengths / (self._total / n))
            postings = self._postings[term]
            at, tfs = postings.slots[: postings.n], postings.tfs[: postings.n]
            # a float32 IDF times a float64 term part, stored as float32 (summed in float32)
            weight = (np.float32(idf(n, len(at))) * (tfs / (norms[at] + tfs))).astype(np.float32)
            self._weights[term] = weight
        return weight

    def _take_slot(self) -> int:
        """A free slot, growing the per-slot arrays when there is none."""
        if self._free:
            return self._free.pop()
        slot = len(self._terms)
        self._terms.append(_NO_TERMS)
        if slot >= len(self._keys):
            size = max(16, 2 * len(self._keys))
            self._keys = np.resize(self._keys, size)
            self._used = np.resize(self._used, size)
            self._used[slot:] = False
            self._lengths = np.resize(self._lengths, size)
            self._lengths[slot:] = 0
        return slot

    def _count_df(self, df: int, change: int) -> None:
        """Keep the count of terms per document frequency (for the rarest term's IDF)."""
        self._df_counts[df] += change
        if not self._df_counts[df]:
            del self._df_counts[df]

    def _changed(self) -> None:
        """After documents came or went: the order of the slots in use, and no cached norms."""
        used = np.flatnonzero(self._used)
        self._order = used[np.argsort(self._keys[used], kind="stable")]
        self._norms = None
        self._weights = {}
