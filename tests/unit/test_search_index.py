"""The incremental BM25 index: bm25s's scores and ranks, bit for bit, and a knowledge base
that followed any sequence of publications answers exactly as one built from scratch."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import bm25s
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.eval_search import demo_docs, labelled
from bot.search.index import Bm25Index
from bot.search.results import Doc
from bot.search.tokens import weighted_question_tokens
from bot.services.knowledge import KnowledgeBase, doc_tokens

DOCS = demo_docs()
# Every labelled question, and copies of the explanations under other ids: equal scores,
# so the order among equals is checked too.
QUESTIONS = [q["q"] for part in ("tune", "dev", "test", "holdout") for q in labelled(part)]
TWINS = [replace(d, id=100 + d.id, slug=f"{d.slug}-2") for d in DOCS[::2]]


def bm25s_top(docs: list[Doc], query: list[str], k: int) -> list[tuple[int, float]]:
    """What bm25s ranks, as (document id, score)."""
    reference = bm25s.BM25()
    reference.index([doc_tokens(d) for d in docs], show_progress=False)
    ids, scores = reference.retrieve([query], k=k, show_progress=False, n_threads=0)
    return [(docs[int(i)].id, float(s)) for i, s in zip(ids[0], scores[0], strict=True)]


@pytest.fixture(scope="module")
def corpus() -> list[Doc]:
    return sorted([*DOCS, *TWINS], key=lambda d: d.id)


def test_scores_and_ranks_are_those_of_bm25s_in_any_order_of_arrival(corpus: list[Doc]) -> None:
    index = Bm25Index()
    # arrive backwards, some twice (removed and added again): slots differ from bm25s's rows
    slots = index.add((d.id, doc_tokens(d)) for d in reversed(corpus))
    by_slot = dict(zip(slots, reversed(corpus), strict=True))
    again = corpus[1::3]
    index.remove([s for s, d in by_slot.items() if d in again])
    by_slot.update(zip(index.add((d.id, doc_tokens(d)) for d in again), again, strict=True))
    reference = bm25s.BM25()
    reference.index([doc_tokens(d) for d in corpus], show_progress=False)
    compared = 0
    for question in QUESTIONS:
        query = [t for t in weighted_question_tokens(question) if t in reference.vocab_dict]
        if not query:
            continue
        ids, scores = reference.retrieve([query], k=6, show_progress=False, n_threads=0)
        expected = [(corpus[int(i)].id, float(s)) for i, s in zip(ids[0], scores[0], strict=True)]
        got = [(by_slot[slot].id, score) for slot, score in index.top(query, 6)]
        assert got == expected, question
        compared += 1
    assert compared > 500


def test_idf_and_rarest_term_follow_removals() -> None:
    index = Bm25Index()
    assert index.max_idf() == 1.0
    slots = index.add([(1, ["a", "b", "b"]), (2, ["b", "c"]), (3, ["b"])])
    assert (index.df("b"), index.df("a"), index.idf("z")) == (3, 1, None)
    index.remove([slots[0]])
    assert (index.df("a"), index.idf("a"), len(index)) == (0, None, 2)
    assert index.max_idf() == index.idf("c")
    assert index.top(["b"], 5)[0][1] > 0 and [s for s, _ in index.top(["c"], 1)] == [slots[1]]


@dataclass
class Catalogue:
    """The explanations a sequence of publications leaves current, by slug."""

    current: dict[str, Doc] = field(default_factory=dict)
    next_id: int = 1000
    reserved: list[int] = field(default_factory=list)  # ids of versions scheduled earlier

    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id


POOL = [*DOCS, *TWINS]
STEPS = st.lists(
    st.tuples(
        st.sampled_from(["publish", "withdraw", "edit", "schedule", "release"]),
        st.integers(0, len(POOL) - 1),
        st.booleans(),  # whether the process looks (refreshes) after this step
    ),
    max_size=12,
)


@settings(max_examples=30)
@given(start=st.sets(st.integers(0, len(POOL) - 1), max_size=8), steps=STEPS)
def test_following_any_publications_answers_as_a_rebuild(start: set[int], steps: list) -> None:
    catalogue = Catalogue()
    for i in sorted(start):
        doc = POOL[i]
        catalogue.current[doc.slug] = replace(doc, id=catalogue.new_id())
    followed = KnowledgeBase()
    followed.rebuild(sorted(catalogue.current.values(), key=lambda d: d.id))
    added: list[Doc] = []
    removed: list[int] = []
    for op, i, look in steps:
        pick = POOL[i]
        slugs = sorted(catalogue.current)
        if op == "publish" and pick.slug not in catalogue.current:
            new = replace(pick, id=catalogue.new_id())
        elif op == "schedule":
            catalogue.reserved.append(catalogue.new_id())
            continue
        elif op in ("withdraw", "edit", "release") and slugs:
            old = catalogue.current.pop(slugs[i % len(slugs)])
            if old in added:  # published since the process last looked
                added.remove(old)
            else:
                removed.append(old.id)
            if op == "withdraw":
                new = None
            else:  # a new version: another explanation's words under this slug
                if op == "release" and catalogue.reserved:
                    new_id = catalogue.reserved.pop(0)  # older than versions published since
                else:
                    new_id = catalogue.new_id()
                new = replace(pick, id=new_id, slug=old.slug)
        else:
            continue
        if new is not None:
            catalogue.current[new.slug] = new
            added.append(new)
        if look:
            followed.update(added, removed)
            added, removed = [], []
            for question in QUESTIONS[::8]:  # questions between publications (warm caches)
                followed.search(question, k=5)
    followed.update(added, removed)

    rebuilt = KnowledgeBase()
    rebuilt.rebuild(sorted(catalogue.current.values(), key=lambda d: d.id))
    assert len(followed) == len(rebuilt)
    for question in QUESTIONS[::8]:
        assert followed.search(question, k=5) == rebuilt.search(question, k=5), question
        assert followed.answer(question) == rebuilt.answer(question), question
    for doc in catalogue.current.values():
        assert followed.by_slug(doc.slug) == doc


def test_a_pair_no_explanation_has_weighs_by_its_words_even_one_the_question_leaves_out() -> None:
    """'co_quyen' is in no explanation; 'co' (from "cơ quan") is left out of the question's
    words but not of the explanations': the more of them have it, the less the pair weighs."""
    question = "minh co quyen khieu nai ko"

    def coverage(common: bool) -> float:
        kb = KnowledgeBase()
        rights = Doc(1, "a", "Quyền khiếu nại", "", "Người dân được quyền khiếu nại.", "", "", "")
        others = [
            Doc(
                i,
                f"x{i}",
                "Lịch tiếp dân",
                "",
                f"{'Cơ quan' if common or i == 2 else 'Phường'} tiếp dân. Số {i}.",
                "",
                "",
                "",
            )
            for i in range(2, 8)
        ]
        kb.rebuild([rights, *others])
        return next(h.coverage for h in kb.search(question, k=2) if h.doc.slug == "a")

    assert coverage(common=True) > coverage(common=False)
