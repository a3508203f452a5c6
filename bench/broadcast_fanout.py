"""Fan-out planning at scale: one outbox delivery per matching subscriber, by INSERT ... SELECT.

For each size N a fresh database gets the schema (Alembic), one agency, three topics, N
Telegram contacts and about 1.5 subscriptions each (bench/seed.py, which also holds the
checks below), with real vietnam-provinces codes: most
for a commune, some for a province or the whole country, some on a second topic, a share
subscribed twice to the same topic (commune and province, or commune and country) to exercise
the one-delivery-per-contact rule, a few paused or cancelled subscriptions and a few
unreachable contacts that must not match.

Measured, commits included: publishing-like creation of the explanation and its broadcast,
then `plan_in_batches` (50,000 contact ids per transaction) for an
explanation to the whole country on the main topic, then for one to three provinces and two
communes on two topics. Each figure is printed next to its floor, a bare INSERT ... SELECT of
as many rows from the contacts into a table with the deliveries' columns and no index or
constraint, timed the same way on the same database, with the ratio (goal: ≤ 5×) and the
growth of the process's peak RSS while planning (the database does the work, not Python).
Every plan is checked against an independent COUNT(DISTINCT contact_id) of the matching
subscribers, for duplicates and for strays (the exit status is 1 if one fails); buttons that
are not the JSON '[]' only warn.

    python -m bench.broadcast_fanout [--sizes 100000,1000000] [--database-url URL | --postgres]
                                     [--keep] [--analyze-only]

SQLite by default: a fresh file per size in a temp dir (or in the folder of a given
sqlite+aiosqlite URL). With a postgresql+asyncpg URL, a fresh database per size is created
on that server (the role needs CREATEDB) and dropped afterwards; there the RSS is the
client's only. With --postgres, on a throw-away PostgreSQL cluster of its own on 127.0.0.1
(bench/servers.py: Debian's packages, fsync off), stopped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import resource
import sqlite3
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import create_async_engine

from bench.seed import (
    Case,
    cases,
    check,
    counts,
    expected_recipients,
    seed_population,
    seed_reference_rows,
    seed_sqlite,
)
from bench.servers import postgres_server
from bot.services.broadcasts import PLAN_BATCH, plan_in_batches
from bot.store.db import Database
from bot.store.migrate import upgrade
from bot.store.models import Broadcast, Explanation

GOAL = 5.0  # issue 15, on SQLite and PostgreSQL alike
# The floor: a table with the deliveries' columns and nothing else (no key, index, default
# or constraint), filled with as many rows as the plan writes, straight from the contacts.
BARE_DDL = "CREATE TABLE bench_bare AS SELECT * FROM deliveries WHERE 1 = 0"
BARE_INSERT = """
    INSERT INTO bench_bare (contact_id, kind, broadcast_id, text, buttons, status, attempts,
                            next_attempt_at, created_at)
    SELECT c.id, 'broadcast', 0, '', '[]', 'pending', 0, c.created_at, c.created_at
    FROM contacts c
    LIMIT :rows
    """


@dataclass(frozen=True, slots=True)
class Result:
    """One measured plan next to its floor."""

    case: Case
    deliveries: int
    seconds: float
    floor: float
    rss_kib: int
    problems: tuple[str, ...]
    warnings: tuple[str, ...]


# --- memory ------------------------------------------------------------------------------


def _status_kib(field: str) -> int | None:
    """A size from /proc/self/status (Linux), in KiB."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return None
    found = re.search(rf"^{field}:\s+(\d+) kB", status, re.MULTILINE)
    return int(found.group(1)) if found else None


def _reset_peak() -> bool:
    """Reset the kernel's peak-RSS mark to the current RSS (Linux ≥ 4.0), if allowed."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return _status_kib("VmHWM") is not None


@contextmanager
def peak_rss_growth() -> Iterator[list[int]]:
    """Growth of the peak RSS over the block, in KiB (yields a list that gets the figure).

    Where the peak cannot be reset, ru_maxrss before and after: that shows only growth
    beyond the process's earlier peak.
    """
    out: list[int] = []
    resettable = _reset_peak()
    before = (_status_kib("VmRSS") if resettable else None) or _maxrss_kib()
    yield out
    after = (_status_kib("VmHWM") if resettable else None) or _maxrss_kib()
    out.append(max(0, after - before))


def _maxrss_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


# --- measuring ---------------------------------------------------------------------------


def sqlite_floor(path: Path, rows: int) -> float:
    """Seconds for the bare INSERT ... SELECT with the stdlib driver and the gateway's pragmas."""
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.execute("DROP TABLE IF EXISTS bench_bare")
        connection.execute(BARE_DDL)
        start = time.perf_counter()
        connection.execute("BEGIN")
        connection.execute(BARE_INSERT, {"rows": rows})
        connection.execute("COMMIT")
        seconds = time.perf_counter() - start
        connection.execute("DROP TABLE bench_bare")
    finally:
        connection.close()
    return seconds


async def postgres_floor(db: Database, rows: int) -> float:
    """Seconds for the bare INSERT ... SELECT in one transaction on the server."""
    async with db.engine.begin() as connection:
        await connection.execute(text("DROP TABLE IF EXISTS bench_bare"))
        await connection.execute(text(BARE_DDL))
    start = time.perf_counter()
    async with db.engine.begin() as connection:
        await connection.execute(text(BARE_INSERT), {"rows": rows})
    seconds = time.perf_counter() - start
    async with db.engine.begin() as connection:
        await connection.execute(text("DROP TABLE bench_bare"))
    return seconds


async def plan(db: Database, case: Case, batch: int = PLAN_BATCH) -> tuple[int, int, float]:
    """Publish-like: an explanation and its broadcast in one transaction, then the plan in
    batches of contact ids (`plan_in_batches`, one transaction each), all timed."""
    start = time.perf_counter()
    async with db.session() as session:
        agency_id = (await session.execute(text("SELECT MIN(id) FROM agencies"))).scalar_one()
        explanation = Explanation(
            agency_id=agency_id,
            slug=f"bench-{case.name}-{time.time_ns()}"[:120],
            version=1,
            is_current=True,
            title=f"Benchmark: {case.name}",
            summary="Phân bổ gửi tin (benchmark).",
            body="Nội dung minh họa.",
            topics=list(case.topics),
            localities=list(case.localities),
        )
        session.add(explanation)
        await session.flush()
        broadcast = Broadcast(explanation_id=explanation.id, created_by="bench")
        session.add(broadcast)
        await session.flush()
        broadcast_id = broadcast.id
    recipients = await plan_in_batches(db, broadcast_id, batch)
    return broadcast_id, recipients, time.perf_counter() - start


async def run_case(db: Database, case: Case, sqlite_path: Path | None) -> Result:
    """Floor first, then the plan, then the checks."""
    expected = await expected_recipients(db, case)
    if sqlite_path is not None:
        floor = sqlite_floor(sqlite_path, expected)
    else:
        floor = await postgres_floor(db, expected)
    with peak_rss_growth() as growth:
        broadcast_id, recipients, seconds = await plan(db, case)
    problems, warnings = await check(db, case, broadcast_id, recipients, expected)
    return Result(case, recipients, seconds, floor, growth[0], problems, warnings)


# --- one size, one database --------------------------------------------------------------


def load() -> str:
    """The machine's 1-minute load average and its cores (others may be running)."""
    return f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"


def remove_database_files(path: Path) -> None:
    """The SQLite file and its -wal and -shm companions."""
    for leftover in path.parent.glob(f"{path.name}*"):
        leftover.unlink()


async def bench_sqlite(folder: Path, n: int, keep: bool) -> list[Result]:
    """A fresh SQLite file for `n` contacts: schema, seed, cases."""
    path = folder / f"fanout_{n}.db"
    remove_database_files(path)
    url = f"sqlite+aiosqlite:///{path}"
    await upgrade(url)
    db = Database(url)
    try:
        await seed_reference_rows(db)
        await db.dispose()  # the seed connection below wants the file to itself
        start = time.perf_counter()
        seed_sqlite(path, n)
        contacts, subs = await counts(db)
        print(
            f"seeded {contacts:,} contacts, {subs:,} subscriptions in "
            f"{time.perf_counter() - start:.1f} s (SQLite {sqlite3.sqlite_version}, {path}; "
            f"load average {load()})"
        )
        return [await run_case(db, case, path) for case in cases()]
    finally:
        await db.dispose()
        if not keep:
            remove_database_files(path)


async def bench_postgres(server: URL, n: int, keep: bool, analyze_only: bool) -> list[Result]:
    """A fresh PostgreSQL database for `n` contacts on the given server."""
    name = f"giaitrinh_fanout_{n}"
    admin = create_async_engine(server, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
        url = server.set(database=name).render_as_string(hide_password=False)
        await upgrade(url)
        db = Database(url)
        try:
            await seed_reference_rows(db)
            start = time.perf_counter()
            await seed_population(db, n)
            async with db.engine.connect() as connection:
                # What autovacuum would have done by the time a real broadcast goes out:
                # statistics, and (PostgreSQL >= 13 vacuums tables that only grew, too) the
                # visibility map that lets the planner read the subscriptions' indexes
                # without their table. --analyze-only leaves the tables unvacuumed.
                await connection.execution_options(isolation_level="AUTOCOMMIT")
                await connection.execute(text("ANALYZE" if analyze_only else "VACUUM ANALYZE"))
                version = (await connection.execute(text("SHOW server_version"))).scalar()
            contacts, subs = await counts(db)
            print(
                f"seeded {contacts:,} contacts, {subs:,} subscriptions in "
                f"{time.perf_counter() - start:.1f} s (PostgreSQL {version}, database {name}; "
                f"load average {load()})"
            )
            return [await run_case(db, case, None) for case in cases()]
        finally:
            await db.dispose()
    finally:
        if not keep:
            async with admin.connect() as connection:
                await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        await admin.dispose()


def report(n: int, result: Result) -> str:
    """One line: the plan, its floor, the ratio, the memory."""
    ratio = result.seconds / result.floor if result.floor else float("inf")
    line = (
        f"fan-out {n:,} subscribers ({result.case.name} → {result.deliveries:,} deliveries): "
        f"{result.seconds:.2f} s; bare INSERT…SELECT {result.floor:.2f} s; "
        f"ratio {ratio:.1f}× (goal ≤ {GOAL:.0f}×); RSS +{result.rss_kib / 1024:.0f} MB"
    )
    line += "".join(f"\n  CHECK FAILED: {problem}" for problem in result.problems)
    return line + "".join(f"\n  warning: {warning}" for warning in result.warnings)


def parse_sizes(value: str) -> list[int]:
    """'100000,1000000' (or 100_000,1_000_000) as a list of positive ints."""
    try:
        sizes = [int(part) for part in value.split(",") if part.strip()]
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"not a list of numbers: {value!r}") from error
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError("sizes must be positive")
    return sizes


async def run(
    sizes: list[int], database_url: str | None, keep: bool, analyze_only: bool = False
) -> bool:
    """Every size on its own fresh database; True when every check passed."""
    server = make_url(database_url) if database_url else None
    ok = True
    with tempfile.TemporaryDirectory(prefix="giaitrinh-fanout-") as tmp:
        for n in sizes:
            if server is None or server.get_backend_name() == "sqlite":
                folder = Path(server.database).parent if server and server.database else None
                results = await bench_sqlite((folder or Path(tmp)).resolve(), n, keep)
            else:
                results = await bench_postgres(server, n, keep, analyze_only)
            for result in results:
                print(report(n, result), flush=True)
                ok = ok and not result.problems
            print(f"load average after {n:,}: {load()}", flush=True)
    return ok


def main() -> None:
    """Parse the options, run every size, exit non-zero when a plan was wrong."""
    parser = argparse.ArgumentParser(
        description=(__doc__ or "").split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--sizes",
        type=parse_sizes,
        default=[100_000, 1_000_000],
        help="numbers of subscribers (contacts), comma-separated (default: 100000,1000000)",
    )
    parser.add_argument(
        "--database-url",
        help=(
            "postgresql+asyncpg://user:pw@host/db: a fresh database per size on that server; "
            "sqlite+aiosqlite:///dir/x.db: SQLite files in that folder (default: a temp dir)"
        ),
    )
    parser.add_argument(
        "--postgres",
        action="store_true",
        help="on a throw-away PostgreSQL of its own (bench/servers.py), instead of SQLite",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the databases (with an explicit URL only)"
    )
    parser.add_argument(
        "--analyze-only",
        action="store_true",
        help="PostgreSQL: ANALYZE the seeded tables, not VACUUM ANALYZE (no visibility map yet)",
    )
    args = parser.parse_args()
    if args.postgres and args.database_url:
        parser.error("--postgres starts its own server: give no --database-url")
    if args.postgres:
        with postgres_server() as server:
            ok = asyncio.run(run(args.sizes, server.url(), False, args.analyze_only))
    else:
        ok = asyncio.run(run(args.sizes, args.database_url, args.keep, args.analyze_only))
    if not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
