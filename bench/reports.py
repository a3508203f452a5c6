"""Report queries at scale (issue 16: each under 200 ms on 1,000,000 cases in PostgreSQL).

A throw-away PostgreSQL (bench/servers.py) gets the schema (Alembic), ten agencies (each
serving whole provinces), the 3,321 communes (bench/seed.py's table) and N cases written by the
server itself (generate_series, no row through Python) over 22 months, in the order received:
explanation requests and petitions, every status, deadlines, decisions, answers, extensions,
working days; ratings for a third of the answered ones; 100,000 handoffs, 200,000 question
gaps and 20 broadcasts of 10,000 deliveries each. Then the monthly case tallies are counted
from the cases (`bot.store.tallies.rebuild`, timed; the services keep them as cases change)
and ANALYZE. Each report is run once to warm up, then `--repeat` times: every SQL statement it
runs is timed (by kind: the median and the worst are printed), and the whole `report()`.

    python -m bench.reports [--cases 1000000] [--repeat 5] [--database-url URL]

Without --database-url, on a cluster of its own on 127.0.0.1 (Debian's packages, fsync off),
stopped at the end. The numbers are not the data set's legal truth (deadlines here are simple
offsets): tests/integration/test_reports.py checks the figures; this measures the queries.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from datetime import date
from typing import Any

from sqlalchemy import event, text

from bench.seed import COMMUNES_DDL, COMMUNES_INSERT, commune_rows, communes
from bench.servers import postgres_server
from bot.domain.actors import Actor
from bot.domain.reports import ReportPeriod
from bot.domain.roles import Role
from bot.services.reports import ReportFilter, report
from bot.store import tallies
from bot.store.db import Database
from bot.store.migrate import upgrade
from bot.store.models import Agency, Contact, Conversation, Topic

GOAL_MS = 200.0
AGENCIES = 10

# h is a multiplicative hash of the case number, for choices that do not follow i's
# remainders; every time is an offset from 2025-01-01 Vietnam midnight.
CASES = """
WITH s AS (
    SELECT i, (i * 2654435761) % 4294967296 AS h,
           TIMESTAMPTZ '2025-01-01 00:00+07' + (i * 7919 % (670 * 1440)) * INTERVAL '1 minute'
               AS received
    FROM generate_series(1, CAST(:n AS BIGINT)) AS i
), t AS (
    SELECT s.*, CASE WHEN i % 5 < 3 THEN 'explanation' ELSE 'petition' END AS kind,
           CASE WHEN i % 20 = 0 THEN 'withdrawn' WHEN i % 20 = 1 THEN 'received'
                WHEN i % 20 = 2 AND i % 5 < 3 THEN 'refused'
                WHEN i % 20 IN (3, 4) THEN 'in_progress' WHEN i % 20 = 5 THEN 'extended'
                WHEN i % 20 < 12 THEN 'answered' ELSE 'closed' END AS status,
           received + (h % 10) * INTERVAL '1 day' + INTERVAL '2 hours' AS decided
    FROM s
)
INSERT INTO cases (code, kind, status, agency_id, contact_id, anonymous, requester_name,
                   requester_contact, target, subject, content, location, attachments,
                   due_at, extensions, due_soon_notified, overdue_notified, answer,
                   refusal_reason, created_at, updated_at, channel, locality, province, topic,
                   accept_due_at, decided_at, answer_due_at, answered_at, answer_working_days)
SELECT 'B' || lpad(i::text, 10, '0'), kind, status,
       (SELECT MIN(id) FROM agencies)  -- an agency serves whole provinces
           + CASE WHEN i % 10 = 0 THEN h / 13 ELSE CAST(substr(w.province, 3) AS BIGINT) END
             % :agencies,
       NULL, false, '', '', '', '', '', '', '[]',
       CASE WHEN status IN ('received') THEN received + INTERVAL '7 days'
            WHEN status IN ('in_progress', 'extended') THEN decided + INTERVAL '15 days' END,
       CASE WHEN status = 'extended' OR i % 13 = 0 THEN 1 ELSE 0 END, false, false, '', '',
       received, received,
       (ARRAY['telegram', 'zalo', 'web', ''])[1 + h % 4],
       CASE WHEN i % 10 = 0 THEN '' WHEN i % 10 = 1 THEN w.province ELSE w.code END,
       CASE WHEN i % 10 = 0 THEN '' ELSE w.province END,
       (ARRAY['datdai', 'giaitrinh', 'chinhquyen2cap', ''])[1 + (h / 7) % 4],
       CASE WHEN kind = 'explanation' THEN received + INTERVAL '7 days' END,
       CASE WHEN kind = 'explanation' AND status NOT IN ('received', 'withdrawn')
            THEN decided END,
       CASE WHEN status NOT IN ('received', 'refused', 'withdrawn')
            THEN decided + INTERVAL '15 days' END,
       CASE WHEN status IN ('answered', 'closed')
            THEN decided + ((h / 11) % 25) * INTERVAL '1 day' END,
       CASE WHEN status IN ('answered', 'closed') THEN ((h / 11) % 25) * 5 / 7 END
FROM t JOIN bench_communes w ON w.n = t.h % :communes
ORDER BY received  -- filed in time order, as in life: ids and pages follow received
"""
RATINGS = """
INSERT INTO ratings (case_id, contact_id, score, comment, created_at)
SELECT id, NULL, 1 + id % 5, CASE WHEN id % 4 = 0 THEN 'Góp ý' ELSE '' END, created_at
FROM cases WHERE answered_at IS NOT NULL AND id % 3 = 0
"""
HANDOFFS = """
INSERT INTO handoffs (conversation_id, agency_id, status, reason, requested_at,
                      first_response_at, ended_at)
SELECT :conversation, (SELECT MIN(id) FROM agencies) + i % :agencies, 'closed', 'asked', at,
       CASE WHEN i % 5 > 0 THEN at + (i % 900) * INTERVAL '1 second' END,
       at + (600 + i % 3600) * INTERVAL '1 second'
FROM (SELECT i, TIMESTAMPTZ '2025-01-01 00:00+07' + (i * 7919 % (670 * 1440))
             * INTERVAL '1 minute' AS at
      FROM generate_series(1, CAST(100000 AS BIGINT)) AS i) AS s
"""
GAPS = """
INSERT INTO question_gaps (text, reason, explanation_slug, locality, created_at)
SELECT 'Câu hỏi số ' || (i * 37 % 500), 'unanswered', NULL, w.code,
       TIMESTAMPTZ '2025-01-01 00:00+07' + (i * 7919 % (670 * 1440)) * INTERVAL '1 minute'
FROM generate_series(1, CAST(200000 AS BIGINT)) AS i
JOIN bench_communes w ON w.n = i * 31 % :communes
"""
BROADCASTS = """
WITH e AS (
    INSERT INTO explanations (agency_id, slug, version, is_current, title, summary, body,
                              source_document, source_url, topics, localities, questions,
                              published_at, created_at)
    SELECT (SELECT MIN(id) FROM agencies) + b % :agencies, 'bench-' || b, 1, true, 'Tin', '',
           '', '', '', '[]', '[]', '[]', now(), now()
    FROM generate_series(1, 20) AS b RETURNING id
)
INSERT INTO broadcasts (explanation_id, created_by, recipients, text, planned_upto, created_at)
SELECT id, 'bench', 10000, 'Tin', 0,
       TIMESTAMPTZ '2025-01-01 00:00+07' + id * 30 * INTERVAL '1 day' FROM e
"""
DELIVERIES = """
INSERT INTO deliveries (contact_id, kind, broadcast_id, text, buttons, status, attempts,
                        next_attempt_at, created_at, received_at, seen_at)
SELECT :contact, 'broadcast', :broadcast, '', '[]',
       (ARRAY['sent', 'sent', 'sent', 'deferred', 'failed', 'pending'])[1 + i % 6], 1, NULL,
       now(), CASE WHEN i % 3 > 0 THEN now() END, CASE WHEN i % 3 = 2 THEN now() END
FROM generate_series(1, 10000) AS i
"""


async def seed(db: Database, n: int) -> None:
    """Agencies, topics, one contact and conversation, then everything above in SQL."""
    async with db.session() as session:
        session.add_all(
            Agency(slug=f"bench-{k}", name=f"UBND (benchmark {k})") for k in range(AGENCIES)
        )
        session.add_all(Topic(slug=s, name=s) for s in ("datdai", "giaitrinh", "chinhquyen2cap"))
        contact = Contact(channel="web", channel_user_id="bench-reports")
        session.add(contact)
        await session.flush()
        conversation = Conversation(contact_id=contact.id)
        session.add(conversation)
        await session.flush()
        ids = {"contact": contact.id, "conversation": conversation.id}
    places = communes()
    params = {"n": n, "agencies": AGENCIES, "communes": len(places)}
    async with db.engine.begin() as connection:
        await connection.execute(text(COMMUNES_DDL))
        await connection.execute(text(COMMUNES_INSERT), commune_rows(places))
        for statement in (CASES, RATINGS, HANDOFFS, GAPS, BROADCASTS):
            await connection.execute(text(statement), {**params, **ids})
        broadcasts = (await connection.execute(text("SELECT id FROM broadcasts"))).scalars()
        for broadcast in list(broadcasts):
            after = (
                await connection.execute(text("SELECT COALESCE(MAX(id), 0) FROM deliveries"))
            ).scalar_one()
            await connection.execute(text(DELIVERIES), {**ids, "broadcast": broadcast})
            await connection.execute(
                text(
                    "UPDATE broadcasts SET delivery_ids_after = :after, delivery_ids_upto ="
                    " (SELECT MAX(id) FROM deliveries), delivery_ids_claimed ="
                    " (SELECT MAX(id) FROM deliveries) WHERE id = :id"
                ),
                {"after": after, "id": broadcast},
            )
    await analyze(db)


async def analyze(db: Database) -> None:
    """VACUUM ANALYZE, as autovacuum would have by the time anyone reads a report."""
    async with db.engine.connect() as connection:
        autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
        await autocommit.execute(text("VACUUM ANALYZE"))


# The reports measured: (name, first day, last day, agency, place, topic).
REPORTS: list[tuple[str, ReportFilter]] = [
    (name, ReportFilter(ReportPeriod(first, last), agency, place, topic))
    for name, first, last, agency, place, topic in [
        ("country, one year, by province", date(2025, 1, 1), date(2025, 12, 31), None, None, None),
        ("one agency, one month", date(2025, 3, 1), date(2025, 3, 31), "bench-0", None, None),
        ("one agency, one year", date(2025, 1, 1), date(2025, 12, 31), "bench-0", None, None),
        ("p:1, one quarter, by commune", date(2025, 4, 1), date(2025, 6, 30), None, "p:1", None),
        ("w:70, one year", date(2025, 1, 1), date(2025, 12, 31), None, "w:70", None),
        ("one topic, all 22 months", date(2025, 1, 1), date(2026, 10, 31), None, None, "datdai"),
    ]
]


# What each statement of a report is, from its text (the first match names it).
LABELS = (
    ("case_tally_days", "tallies: working days"),
    ("case_tallies", "tallies: counts"),
    ("FROM agencies", "agency by slug"),
    ("LEFT OUTER JOIN ratings", "cases: counts"),
    ("answer_working_days", "cases: working days"),
    ("status IN (", "open cases"),
    ("FROM handoffs", "handoffs"),
    ("question_gaps", "gaps"),
    ("deliveries", "broadcasts: deliveries"),
    ("broadcasts", "broadcasts: count"),
)


class StatementTimes:
    """Milliseconds of every SQL statement the engine runs, by label, while recording."""

    def __init__(self, db: Database) -> None:
        self.times: dict[str, list[float]] = {}
        self.recording = False
        self._started: dict[int, tuple[str, float]] = {}
        engine = db.engine.sync_engine
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        label = next((name for key, name in LABELS if key in statement), "other")
        self._started[id(cursor)] = (label, time.perf_counter())

    def _after(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        label, started = self._started.pop(id(cursor), ("other", time.perf_counter()))
        if self.recording:
            self.times.setdefault(label, []).append((time.perf_counter() - started) * 1000)


async def measure(db: Database, repeat: int) -> list[tuple[str, str, list[float]]]:
    """Milliseconds of each kind of statement of each report (every run of a statement
    counts; a report may run the cases' counts for the days before and after its whole
    months), and of the whole service call."""
    admin = Actor(name="bench", role=Role.ADMIN)
    recorder = StatementTimes(db)
    rows: list[tuple[str, str, list[float]]] = []
    for name, wanted in REPORTS:
        await report(db, admin, wanted)  # warm: plans, caches
        recorder.times = {}
        whole = []
        for _ in range(repeat):
            recorder.recording = True
            start = time.perf_counter()
            await report(db, admin, wanted)
            whole.append((time.perf_counter() - start) * 1000)
            recorder.recording = False
        rows.extend((name, label, times) for label, times in sorted(recorder.times.items()))
        rows.append((name, "report() (every query)", whole))
    return rows


async def run(url: str, n: int, repeat: int) -> int:
    """Seed, measure, print; exit status 1 when a query's median is over the goal."""
    await upgrade(url)
    db = Database(url)
    try:
        start = time.perf_counter()
        await seed(db, n)
        async with db.session() as session:
            count = (await session.execute(text("SELECT COUNT(*) FROM cases"))).scalar_one()
        print(f"seeded {count:,} cases in {time.perf_counter() - start:.1f} s")
        start = time.perf_counter()
        async with db.session() as session:
            await tallies.rebuild(session)
            rows = (await session.execute(text("SELECT COUNT(*) FROM case_tallies"))).scalar_one()
        await analyze(db)
        print(f"tallied into {rows:,} rows in {time.perf_counter() - start:.1f} s")
        rows = await measure(db, repeat)
    finally:
        await db.dispose()
    print("| report | query | median ms | worst ms |\n|---|---|---:|---:|")
    over = 0
    for name, step, times in rows:
        median = statistics.median(times)
        single = not step.startswith("report()")
        over += single and median > GOAL_MS
        print(f"| {name} | {step} | {median:.1f} | {max(times):.1f} |")
    print(f"queries over {GOAL_MS:.0f} ms (median): {over}")
    return 1 if over else 0


def main() -> int:
    """Entry point: `python -m bench.reports`."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--database-url", help="a postgresql+asyncpg URL of an empty database")
    args = parser.parse_args()
    if args.database_url:
        return asyncio.run(run(args.database_url, args.cases, args.repeat))
    with postgres_server() as server:
        return asyncio.run(run(server.create_database("reports"), args.cases, args.repeat))


if __name__ == "__main__":
    sys.exit(main())
