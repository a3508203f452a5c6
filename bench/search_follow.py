"""`make bench-search`: a gateway process following publications at 10,000 explanations.

On SQLite and on a throw-away PostgreSQL (bench/servers.py), a database holds the demo
explanations and synthetic ones made from them (bench/eval_search.py `synthetic`) up to
10,000. One knowledge base (a gateway process) loads them; then explanations are published
through the service (edits: a new version of a slug; and new slugs), and after each one the
process answers a question, as it does in production: `refresh` (the version check, then
only what changed) and `answer`. Printed: the cost of the check when nothing changed, the
time to follow one publication, query latency before, right after (the first question
after a change computes its terms' scores again) and after, and the full rebuild every
process paid on every publication before (a new knowledge base loading everything), whose
answers must be those of the process that followed (checked on every labelled question).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path

from sqlalchemy import func, select

from bench.eval_search import demo_docs, labelled, percentile, synthetic
from bench.servers import postgres_server
from bot.domain.actors import Actor
from bot.domain.roles import Role
from bot.services.demo import load_demo
from bot.services.explanations import ExplanationSpec, publish
from bot.services.knowledge import KnowledgeBase
from bot.store import explanations as versions
from bot.store.db import Database
from bot.store.migrate import upgrade
from bot.store.models import Agency, Explanation

ADMIN = Actor("bench", Role.ADMIN)
AGENCY = "ubnd-phuong-demo"


async def seed(db: Database, n: int) -> None:
    """The demo explanations, and synthetic ones up to n, current."""
    await load_demo(db)
    async with db.session() as session:
        agency = await session.scalar(select(Agency.id).where(Agency.slug == AGENCY))
        session.add_all(
            Explanation(
                agency_id=agency,
                slug=d.slug,
                version=1,
                is_current=True,
                title=d.title[:300],
                summary=d.summary,
                body=d.body,
                topics=[],
                localities=["country"],
                questions=[],
            )
            for d in synthetic(demo_docs(), n)[len(demo_docs()) :]
        )


async def old_check(db: Database) -> None:
    """The version check before (count, max id of the current explanations), for comparison."""
    async with db.session() as session:
        query = select(func.count(), func.max(Explanation.id)).where(Explanation.is_current)
        (await session.execute(query)).one()


async def read_ids(db: Database) -> None:
    """What `refresh` reads on a change, besides the changed rows: the current ids."""
    async with db.session() as session:
        await versions.current_ids(session)


async def timed(call: Callable[[], Awaitable[object]]) -> float:
    """Seconds one awaited call takes."""
    start = time.perf_counter()
    await call()
    return time.perf_counter() - start


def latencies(kb: KnowledgeBase, questions: list[str]) -> list[float]:
    """answer() latency of each question, in seconds."""
    out = []
    for q in questions:
        start = time.perf_counter()
        kb.answer(q)
        out.append(time.perf_counter() - start)
    return out


def ms(values: list[float]) -> str:
    """p50 / p95 in milliseconds."""
    return f"{percentile(values, 0.5):.2f} / {percentile(values, 0.95):.2f}"


async def run(url: str, name: str, n: int, publications: int) -> None:
    """The measurements on one database."""
    await upgrade(url)
    db = Database(url)
    try:
        await seed(db, n)
        questions = [q["q"] for part in ("tune", "dev", "test", "holdout") for q in labelled(part)]
        process = KnowledgeBase()
        first_load = await timed(lambda: process.refresh(db))
        before = latencies(process, questions) + latencies(process, questions)
        checks = [await timed(lambda: process.refresh(db)) for _ in range(200)]
        old_checks = [await timed(lambda: old_check(db)) for _ in range(200)]
        id_reads = [await timed(lambda: read_ids(db)) for _ in range(20)]
        follow, first_answer, publishing = [], [], []
        for i in range(publications):
            # an edit of a synthetic explanation (new version, old one withdrawn), or a new one
            slug = f"syn-{100 + i}" if i % 2 == 0 else f"bench-new-{i}"
            spec = ExplanationSpec(
                title=f"Phí trông giữ xe tại chợ phường, đợt {i}",
                summary="Mức thu phí trông giữ xe đạp, xe máy tại chợ phường.",
                body="Người gửi xe tại chợ phường trả phí trông giữ theo lượt, có vé.",
                agency=AGENCY,
                slug=slug,
            )
            start = time.perf_counter()
            await publish(db, spec, ADMIN)
            publishing.append(time.perf_counter() - start)
            follow.append(await timed(lambda: process.refresh(db)))
            first_answer += latencies(process, questions[i :: len(questions) // 4][:1])
        after = latencies(process, questions) + latencies(process, questions)
        in_place = []  # the index's share of following: an edit applied in memory
        for i in range(publications):
            old = process.by_slug(f"syn-{200 + i}")
            assert old is not None
            edited = replace(old, id=10**9 + i, body=old.body + " Sửa đổi.")
            start = time.perf_counter()
            process.update([edited], [old.id])
            in_place.append(time.perf_counter() - start)
            process.update([old], [edited.id])  # back: the database's set again
        fresh = KnowledgeBase()
        rebuild = await timed(lambda: fresh.refresh(db))
        same = all(process.search(q, k=5) == fresh.search(q, k=5) for q in questions)
        print(f"\n## {name}: {len(process):,} explanations, {publications} publications")
        print("| step | p50 / p95 (or each) |")
        print("|---|---:|")
        print(f"| version check, nothing changed (per question) | {ms(checks)} ms |")
        print(f"| the same, before: count, max(id) (per question) | {ms(old_checks)} ms |")
        print(f"| publish (the service, in the publishing process) | {ms(publishing)} ms |")
        print(f"| follow one publication (refresh, incremental) | {ms(follow)} ms |")
        print(f"| each, in order | {', '.join(f'{1000 * s:.0f}' for s in follow)} ms |")
        print(f"| of which reading the current ids | {ms(id_reads)} ms |")
        print(f"| of which the index update in memory (an edit) | {ms(in_place)} ms |")
        print(f"| full rebuild (a new process's first load; before: every publication) | "
              f"{rebuild:.2f} s (first load here: {first_load:.2f} s) |")  # fmt: skip
        print(f"| answer() before the publications | {ms(before)} ms |")
        print(f"| first answer() after a publication | {ms(first_answer)} ms |")
        print(f"| answer() after the publications | {ms(after)} ms |")
        print(f"answers of the process that followed = a full rebuild's, {len(questions)} "
              f"questions: {'identical' if same else 'DIFFERENT'}")  # fmt: skip
    finally:
        await db.dispose()


def main() -> None:
    """CLI entry."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--explanations", type=int, default=10_000)
    parser.add_argument("--publications", type=int, default=10)
    parser.add_argument("--databases", default="sqlite,postgresql")
    args = parser.parse_args()
    print(f"# Following publications (load average {os.getloadavg()[0]:.2f}, "
          f"{os.cpu_count()} cores)")  # fmt: skip
    for name in args.databases.split(","):
        if name == "sqlite":
            with tempfile.TemporaryDirectory() as tmp:
                url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
                asyncio.run(run(url, "SQLite", args.explanations, args.publications))
        else:
            with postgres_server() as server:
                url = server.create_database("bench")
                asyncio.run(run(url, "PostgreSQL", args.explanations, args.publications))


if __name__ == "__main__":
    main()
