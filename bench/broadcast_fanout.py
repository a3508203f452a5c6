"""Fan-out planning at scale: one outbox delivery per matching subscriber, by INSERT ... SELECT.

For each size N a fresh database gets the schema (Alembic), one agency, three topics, N
Telegram contacts and about 1.5 subscriptions each, with real vietnam-provinces codes: most
for a commune, some for a province or the whole country, some on a second topic, a share
subscribed twice to the same topic (commune and province, or commune and country) to exercise
the one-delivery-per-contact rule, a few paused or cancelled subscriptions and a few
unreachable contacts that must not match.

Measured, commits included: publishing-like creation of the explanation and its broadcast,
then `plan_in_batches` (50,000 contact ids per transaction) for an
explanation to the whole country on the main topic, then for one to three provinces and two
communes on two topics. Each figure is printed next to its floor, a bare INSERT ... SELECT of
as many rows from the contacts into a table with the deliveries' columns and no index or
constraint, timed the same way on the same database, with the ratio (goal: ≤ 10×) and the
growth of the process's peak RSS while planning (the database does the work, not Python).
Every plan is checked against an independent COUNT(DISTINCT contact_id) of the matching
subscribers, for duplicates and for strays (the exit status is 1 if one fails); buttons that
are not the JSON '[]' only warn.

    python -m bench.broadcast_fanout [--sizes 100000,1000000] [--database-url URL] [--keep]

SQLite by default: a fresh file per size in a temp dir (or in the folder of a given
sqlite+aiosqlite URL). With a postgresql+asyncpg URL, a fresh database per size is created
on that server (the role needs CREATEDB) and dropped afterwards; there the RSS is the
client's only.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import resource
import sqlite3
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import create_async_engine

from bot.domain.localities import COUNTRY, Locality, all_localities
from bot.services.broadcasts import plan_in_batches
from bot.store.db import Database
from bot.store.migrate import upgrade
from bot.store.models import Agency, Broadcast, Explanation, Topic

GOAL = 10.0
MAIN_TOPIC = "chinhquyen2cap"
SECOND_TOPIC = "datdai"
THIRD_TOPIC = "giaitrinh"
TOPICS = {
    MAIN_TOPIC: "Chính quyền địa phương hai cấp",
    SECOND_TOPIC: "Đất đai",
    THIRD_TOPIC: "Trách nhiệm giải trình",
}
# Provinces of the regional case: Hà Nội, Đà Nẵng, Cần Thơ (two communes elsewhere are added).
CASE_PROVINCES = ("p:1", "p:48", "p:92")

# The communes, numbered 0..3320, so that SQL can spread contacts over them.
COMMUNES_DDL = (
    "CREATE TABLE bench_communes (n INTEGER PRIMARY KEY, code VARCHAR(20) NOT NULL, "
    "province VARCHAR(20) NOT NULL)"
)
COMMUNES_INSERT = "INSERT INTO bench_communes (n, code, province) VALUES (:n, :code, :province)"

# Seeding in plain SQL that SQLite and PostgreSQL both run, so no row passes through Python.
# A contact's commune is a multiplicative hash of its id; its subscriptions follow its id's
# remainders. Timestamps are copied from the agency row, which the ORM wrote in the
# database's own format.
SEED = (
    # N contacts; 1 in 250 unreachable (blocked the bot). Ids are 1..N in a fresh database.
    """
    WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < :n)
    INSERT INTO contacts (channel, channel_user_id, display_name, locale, created_at,
                          last_seen_at, unreachable_at)
    SELECT 'telegram', CAST(700000000 + i AS VARCHAR(128)), '', 'vi', a.created_at,
           a.created_at, CASE WHEN i % 250 = 0 THEN a.created_at END
    FROM seq CROSS JOIN agencies a
    ORDER BY i
    """,
    # Everyone, on the main topic: 80 % for their commune, 12 % their province, 8 % the
    # country; 1 in 97 paused, 1 in 211 cancelled.
    """
    INSERT INTO subscriptions (contact_id, topic, locality, province, status, created_at,
                               updated_at)
    SELECT c.id, :main,
           CASE WHEN c.id % 100 < 80 THEN w.code
                WHEN c.id % 100 < 92 THEN w.province ELSE 'country' END,
           CASE WHEN c.id % 100 < 92 THEN w.province ELSE 'country' END,
           CASE WHEN c.id % 97 = 0 THEN 'paused'
                WHEN c.id % 211 = 0 THEN 'cancelled' ELSE 'active' END,
           c.created_at, c.created_at
    FROM contacts c JOIN bench_communes w ON w.n = c.id * 2654435761 % 4294967296 % :communes
    ORDER BY c.id
    """,
    # 35 % also on the second topic, for their commune.
    """
    INSERT INTO subscriptions (contact_id, topic, locality, province, status, created_at,
                               updated_at)
    SELECT c.id, :second, w.code, w.province, 'active', c.created_at, c.created_at
    FROM contacts c JOIN bench_communes w ON w.n = c.id * 2654435761 % 4294967296 % :communes
    WHERE c.id % 20 IN (1, 4, 6, 9, 12, 15, 18)
    ORDER BY c.id
    """,
    # Duplicates on the main topic: 8 % of all contacts (commune subscribers) also for their
    # province, 3 % also for the whole country.
    """
    INSERT INTO subscriptions (contact_id, topic, locality, province, status, created_at,
                               updated_at)
    SELECT c.id, :main, w.province, w.province, 'active', c.created_at, c.created_at
    FROM contacts c JOIN bench_communes w ON w.n = c.id * 2654435761 % 4294967296 % :communes
    WHERE c.id % 100 < 80 AND c.id % 10 = 3
    ORDER BY c.id
    """,
    """
    INSERT INTO subscriptions (contact_id, topic, locality, province, status, created_at,
                               updated_at)
    SELECT c.id, :main, 'country', 'country', 'active', c.created_at, c.created_at
    FROM contacts c
    WHERE c.id % 100 < 80 AND c.id % 25 = 7
    ORDER BY c.id
    """,
    # 5 % on the third topic, for the whole country.
    """
    INSERT INTO subscriptions (contact_id, topic, locality, province, status, created_at,
                               updated_at)
    SELECT c.id, :third, 'country', 'country', 'active', c.created_at, c.created_at
    FROM contacts c
    WHERE c.id % 20 = 11
    ORDER BY c.id
    """,
)

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

# Who should get a broadcast, written from the rule in plain SQL (not from plan_range's
# query): an active subscription on one of the topics, for the whole country when the
# explanation targets it, else for a target locality or a locality in a target province;
# the contact still reachable.
MATCHING = """
    FROM subscriptions s JOIN contacts c ON c.id = s.contact_id
    WHERE s.status = 'active' AND c.unreachable_at IS NULL AND s.topic IN :topics
      AND (:everywhere OR s.locality IN :places OR s.province IN :places)
    """
EXPECTED = text("SELECT COUNT(DISTINCT s.contact_id)" + MATCHING).bindparams(
    bindparam("topics", expanding=True), bindparam("places", expanding=True)
)
STRAYS = text(
    # Constant fragments only; every value is a bound parameter.
    "SELECT COUNT(*) FROM deliveries d WHERE d.broadcast_id = :broadcast AND NOT EXISTS "  # noqa: S608
    "(SELECT 1" + MATCHING + " AND s.contact_id = d.contact_id)"
).bindparams(bindparam("topics", expanding=True), bindparam("places", expanding=True))
PLANNED = text("SELECT COUNT(*) FROM deliveries WHERE broadcast_id = :broadcast")
DUPLICATES = text(
    "SELECT COUNT(*) FROM (SELECT contact_id FROM deliveries WHERE broadcast_id = :broadcast "
    "GROUP BY contact_id HAVING COUNT(*) > 1) twice"
)
# The JSON list the column promises; CAST('[]' AS JSON) in SQLite yields the integer 0
# (JSON is a NUMERIC-affinity type name there).
BAD_BUTTONS = text(
    "SELECT COUNT(*) FROM deliveries WHERE broadcast_id = :broadcast "
    "AND CAST(buttons AS TEXT) <> '[]'"
)


@dataclass(frozen=True, slots=True)
class Case:
    """One explanation to plan: its topics and target localities."""

    name: str
    topics: tuple[str, ...]
    localities: tuple[str, ...]


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


def cases() -> list[Case]:
    """The whole country on the main topic; three provinces and two communes on two topics."""
    communes = [loc for loc in all_localities() if loc.level == 2]
    provinces = {int(code.removeprefix("p:")) for code in CASE_PROVINCES}
    elsewhere = [loc.code for loc in communes if loc.province_code not in provinces]
    regional = (*CASE_PROVINCES, elsewhere[0], elsewhere[len(elsewhere) // 2])
    return [
        Case("country", (MAIN_TOPIC,), (COUNTRY,)),
        Case("3 provinces + 2 communes", (MAIN_TOPIC, SECOND_TOPIC), regional),
    ]


def commune_rows(communes: Sequence[Locality]) -> list[dict[str, Any]]:
    """The commune table's rows: number, commune code, province code."""
    return [
        {"n": n, "code": loc.code, "province": f"p:{loc.province_code}"}
        for n, loc in enumerate(communes)
    ]


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


# --- seeding -----------------------------------------------------------------------------


def seed_params(n: int, communes: int) -> dict[str, Any]:
    """Parameters of the SEED statements."""
    return {
        "n": n,
        "communes": communes,
        "main": MAIN_TOPIC,
        "second": SECOND_TOPIC,
        "third": THIRD_TOPIC,
    }


async def seed_reference_rows(db: Database) -> None:
    """The agency and topics, through the ORM (so timestamps have the database's format)."""
    async with db.session() as session:
        session.add(Agency(slug="bench", name="UBND (benchmark)", locality="", contact=""))
        session.add_all(Topic(slug=slug, name=name) for slug, name in TOPICS.items())


def seed_sqlite(path: Path, n: int) -> None:
    """Contacts and subscriptions with the stdlib driver, journal off (not measured)."""
    communes = [loc for loc in all_localities() if loc.level == 2]
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode=OFF")
        connection.execute("PRAGMA synchronous=OFF")
        connection.execute("PRAGMA cache_size=-262144")  # 256 MiB for the index builds
        connection.execute("BEGIN")
        connection.execute(COMMUNES_DDL)
        connection.executemany(COMMUNES_INSERT, commune_rows(communes))
        for statement in SEED:
            connection.execute(statement, seed_params(n, len(communes)))
        connection.execute("COMMIT")
    finally:
        connection.close()


async def seed_postgres(db: Database, n: int) -> None:
    """Contacts and subscriptions in plain SQL on the server, then ANALYZE (autovacuum would)."""
    communes = [loc for loc in all_localities() if loc.level == 2]
    async with db.engine.begin() as connection:
        await connection.execute(text(COMMUNES_DDL))
        await connection.execute(text(COMMUNES_INSERT), commune_rows(communes))
        for statement in SEED:
            await connection.execute(text(statement), seed_params(n, len(communes)))
    async with db.engine.connect() as connection:
        autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
        await autocommit.execute(text("ANALYZE"))


async def counts(db: Database) -> tuple[int, int]:
    """How many contacts and subscriptions were seeded."""
    async with db.session() as session:
        contacts = (await session.execute(text("SELECT COUNT(*) FROM contacts"))).scalar_one()
        subs = (await session.execute(text("SELECT COUNT(*) FROM subscriptions"))).scalar_one()
    return int(contacts), int(subs)


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


def matching_params(case: Case) -> dict[str, Any]:
    """Parameters of the independent matching queries."""
    return {
        "topics": list(case.topics),
        "places": list(case.localities),
        "everywhere": COUNTRY in case.localities,
    }


async def plan(db: Database, case: Case) -> tuple[int, int, float]:
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
    recipients = await plan_in_batches(db, broadcast_id)
    return broadcast_id, recipients, time.perf_counter() - start


async def check(
    db: Database, case: Case, broadcast_id: int, recipients: int, expected: int
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(problems, warnings) of a plan: counts, duplicates and strays; malformed buttons."""
    problems: list[str] = []
    warnings: list[str] = []
    if recipients != expected:
        problems.append(f"plan_in_batches returned {recipients:,}, expected {expected:,}")
    ids = {"broadcast": broadcast_id}
    async with db.session() as session:
        planned = (await session.execute(PLANNED, ids)).scalar_one()
        twice = (await session.execute(DUPLICATES, ids)).scalar_one()
        strays = (await session.execute(STRAYS, ids | matching_params(case))).scalar_one()
        bad_buttons = (await session.execute(BAD_BUTTONS, ids)).scalar_one()
    if planned != expected:
        problems.append(f"{planned:,} delivery rows, expected {expected:,}")
    if twice:
        problems.append(f"{twice:,} contacts have more than one delivery")
    if strays:
        problems.append(f"{strays:,} deliveries to contacts that do not match")
    if bad_buttons:
        # Not fatal: the outbox reads `buttons or []`, but the column promises a JSON list.
        warnings.append(
            f"{bad_buttons:,} deliveries store buttons as something other than the JSON '[]'"
        )
    return tuple(problems), tuple(warnings)


async def expected_recipients(db: Database, case: Case) -> int:
    """The independent COUNT(DISTINCT contact_id) of matching subscribers."""
    async with db.session() as session:
        return int((await session.execute(EXPECTED, matching_params(case))).scalar_one())


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
            f"{time.perf_counter() - start:.1f} s (SQLite {sqlite3.sqlite_version}, {path})"
        )
        return [await run_case(db, case, path) for case in cases()]
    finally:
        await db.dispose()
        if not keep:
            remove_database_files(path)


async def bench_postgres(server: URL, n: int, keep: bool) -> list[Result]:
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
            await seed_postgres(db, n)
            contacts, subs = await counts(db)
            print(
                f"seeded {contacts:,} contacts, {subs:,} subscriptions in "
                f"{time.perf_counter() - start:.1f} s (PostgreSQL, database {name})"
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


async def run(sizes: list[int], database_url: str | None, keep: bool) -> bool:
    """Every size on its own fresh database; True when every check passed."""
    server = make_url(database_url) if database_url else None
    ok = True
    with tempfile.TemporaryDirectory(prefix="giaitrinh-fanout-") as tmp:
        for n in sizes:
            if server is None or server.get_backend_name() == "sqlite":
                folder = Path(server.database).parent if server and server.database else None
                results = await bench_sqlite((folder or Path(tmp)).resolve(), n, keep)
            else:
                results = await bench_postgres(server, n, keep)
            for result in results:
                print(report(n, result), flush=True)
                ok = ok and not result.problems
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
        "--keep", action="store_true", help="keep the databases (with an explicit URL only)"
    )
    args = parser.parse_args()
    if not asyncio.run(run(args.sizes, args.database_url, args.keep)):
        sys.exit(1)


if __name__ == "__main__":
    main()
