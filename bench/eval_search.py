"""`make eval`: answer quality and search speed of the knowledge base on the labelled set.

Quality on tests/data/qa_eval.yaml against the demo explanations: top-1 and top-3 accuracy
and MRR over answerable questions (a hit below the coverage threshold counts as no answer),
and the rate of correct "I don't know" on unanswerable ones. Speed: search latency with
10,000 explanations loaded, next to a bare bm25s query over 1,000 documents as the floor.
"""

from __future__ import annotations

import argparse
import platform
import random
import time
from datetime import UTC, datetime
from pathlib import Path

import bm25s
import yaml

from bot.services.knowledge import Doc, KnowledgeBase
from bot.settings import PROJECT_ROOT

EVAL = PROJECT_ROOT / "tests" / "data" / "qa_eval.yaml"
DEMO = PROJECT_ROOT / "bot" / "demo" / "demo_data.yaml"


def demo_docs(path: Path = DEMO) -> list[Doc]:
    """The demo explanations as search documents."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [
        Doc(
            i,
            e["slug"],
            e["title"],
            e["summary"],
            e["body"],
            e["source_document"],
            e["source_url"],
            "",
        )
        for i, e in enumerate(data["explanations"])
    ]


def quality(kb: KnowledgeBase, show_misses: bool) -> dict[str, float]:
    """Top-1, top-3, MRR, correct I-don't-know rate."""
    questions = yaml.safe_load(EVAL.read_text(encoding="utf-8"))["questions"]
    top1 = top3 = idk_ok = answerable = unanswerable = 0
    rr = 0.0
    for item in questions:
        hits = [h for h in kb.search(item["q"], k=3) if h.coverage >= kb.min_coverage]
        slugs = [h.doc.slug for h in hits]
        if item["a"] == "none":
            unanswerable += 1
            idk_ok += not slugs
            if slugs and show_misses:
                print(f"  answered, should not: {item['q']!r} → {slugs[0]}")
            continue
        answerable += 1
        if slugs[:1] == [item["a"]]:
            top1 += 1
        elif show_misses:
            print(f"  miss: {item['q']!r} → {slugs[:1] or 'none'} (want {item['a']})")
        if item["a"] in slugs[:3]:
            top3 += 1
            rr += 1.0 / (slugs.index(item["a"]) + 1)
    return {
        "questions": len(questions),
        "answerable": answerable,
        "top1": top1 / answerable,
        "top3": top3 / answerable,
        "mrr": rr / answerable,
        "idk": idk_ok / unanswerable,
        "unanswerable": unanswerable,
    }


def synthetic(docs: list[Doc], n: int, seed: int = 7) -> list[Doc]:
    """n explanations made by recombining sentences of the demo ones (a realistic vocabulary)."""
    rng = random.Random(seed)
    sentences = [s for d in docs for s in d.body.split("\n") if len(s) > 30]
    out = list(docs)
    for i in range(len(docs), n):
        body = "\n".join(rng.sample(sentences, 8))
        title = " ".join(rng.sample(body.split(), 10))
        out.append(Doc(i, f"syn-{i}", title, title, body, "", "", ""))
    return out


def percentile(values: list[float], q: float) -> float:
    """q-th percentile (0..1) in milliseconds."""
    ordered = sorted(values)
    return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def speed(docs: list[Doc], rounds: int) -> None:
    """Search latency with 10,000 explanations, and the bare bm25s floor over 1,000."""
    questions = [q["q"] for q in yaml.safe_load(EVAL.read_text(encoding="utf-8"))["questions"]]
    big = KnowledgeBase()
    start = time.perf_counter()
    big.rebuild(synthetic(docs, 10_000))
    build = time.perf_counter() - start
    timings = []
    for _ in range(rounds):
        for q in questions:
            t = time.perf_counter()
            big.answer(q)
            timings.append(time.perf_counter() - t)
    floor_corpus = [d.body.split() for d in synthetic(docs, 1_000)]
    bare = bm25s.BM25()
    bare.index(floor_corpus, show_progress=False)
    floor = []
    query_tokens = [q.split() for q in questions]
    for _ in range(rounds):
        for q in query_tokens:
            t = time.perf_counter()
            bare.retrieve([q], k=3, show_progress=False, n_threads=1)
            floor.append(time.perf_counter() - t)
    print(f"index build, 10,000 explanations: {build:.2f} s")
    print("| search | queries | p50 ms | p95 ms |")
    print("|---|---:|---:|---:|")
    print(
        f"| knowledge base answer(), 10,000 explanations | {len(timings)} | "
        f"{percentile(timings, 0.5):.3f} | {percentile(timings, 0.95):.3f} |"
    )
    print(
        f"| bare bm25s retrieve, 1,000 documents (floor) | {len(floor)} | "
        f"{percentile(floor, 0.5):.3f} | {percentile(floor, 0.95):.3f} |"
    )
    print(f"goal: p95 ≤ 2 ms → {'met' if percentile(timings, 0.95) <= 2 else 'NOT met'}")


def main() -> None:
    """CLI entry."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--misses", action="store_true", help="list wrong answers")
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    docs = demo_docs()
    kb = KnowledgeBase()
    kb.rebuild(docs)
    print(
        f"# Search evaluation — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, "
        f"Python {platform.python_version()}"
    )
    q = quality(kb, args.misses)
    print(
        f"labelled set: {q['questions']} questions ({q['answerable']} answerable, "
        f"{q['unanswerable']} not), coverage threshold {kb.min_coverage}"
    )
    print("| metric | value | goal |")
    print("|---|---:|---:|")
    print(f"| top-1 accuracy | {q['top1']:.3f} | ≥ 0.75 |")
    print(f"| top-3 accuracy | {q['top3']:.3f} | ≥ 0.90 |")
    print(f"| MRR | {q['mrr']:.3f} | |")
    print(f'| correct "I don\'t know" | {q["idk"]:.3f} | ≥ 0.80 |')
    print()
    speed(docs, args.rounds)


if __name__ == "__main__":
    main()
