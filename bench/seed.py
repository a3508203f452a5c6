"""Subscribers for the broadcast benchmarks and tests, at two scales.

- A population (`seed_reference_rows`, then `seed_population` or, for a SQLite file,
  `seed_sqlite`): N Telegram contacts and about 1.5 subscriptions each, written by the
  database itself in plain SQL that SQLite and PostgreSQL both run, so no row passes through
  Python and a million contacts take seconds; with it, the explanations to plan on it
  (`cases`) and who should receive them, counted by an independent rule in plain SQL
  (`expected_recipients`, `check`). The fan-out benchmark plans it at 100,000 and 1,000,000
  contacts; tests/integration/test_broadcast.py plans a small one with the same checks.
- A handful of named subscribers (`add_subscribers`): contacts subscribed through the
  subscription service, as chat subscribes them, for tests that assert who receives what.
- A planned broadcast waiting in the outbox (`seed_outbox`): Telegram chats (or Zalo users)
  with one broadcast delivery each (and optionally a case update first for some of them),
  for the dispatcher's benchmark and tests/integration/test_outbox.py.
"""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, insert, select, text

from bot.domain.delivery import DeliveryKind
from bot.domain.localities import COUNTRY, Locality, all_localities
from bot.services import subscriptions
from bot.store.db import Database
from bot.store.models import (
    Agency,
    Broadcast,
    Contact,
    Conversation,
    Delivery,
    Explanation,
    Topic,
    utcnow,
)

MAIN_TOPIC = "chinhquyen2cap"
SECOND_TOPIC = "datdai"
THIRD_TOPIC = "giaitrinh"
TOPICS = {
    MAIN_TOPIC: "Chính quyền địa phương hai cấp",
    SECOND_TOPIC: "Đất đai",
    THIRD_TOPIC: "Trách nhiệm giải trình",
}

# The communes, numbered 0..3320, so that SQL can spread contacts over them.
COMMUNES_DDL = (
    "CREATE TABLE bench_communes (n INTEGER PRIMARY KEY, code VARCHAR(20) NOT NULL, "
    "province VARCHAR(20) NOT NULL)"
)
COMMUNES_INSERT = "INSERT INTO bench_communes (n, code, province) VALUES (:n, :code, :province)"

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


# --- a population --------------------------------------------------------------------------


def communes() -> list[Locality]:
    """Every commune, in the package's order."""
    return [loc for loc in all_localities() if loc.level == 2]


def commune_rows(places: Sequence[Locality]) -> list[dict[str, Any]]:
    """The commune table's rows: number, commune code, province code."""
    return [
        {"n": n, "code": loc.code, "province": f"p:{loc.province_code}"}
        for n, loc in enumerate(places)
    ]


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
    """The population with the stdlib driver, journal off: the fastest way into a SQLite
    file no one else has open (the benchmark does not measure seeding)."""
    places = communes()
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode=OFF")
        connection.execute("PRAGMA synchronous=OFF")
        connection.execute("PRAGMA cache_size=-262144")  # 256 MiB for the index builds
        connection.execute("BEGIN")
        connection.execute(COMMUNES_DDL)
        connection.executemany(COMMUNES_INSERT, commune_rows(places))
        for statement in SEED:
            connection.execute(statement, seed_params(n, len(places)))
        connection.execute("COMMIT")
    finally:
        connection.close()


async def seed_population(db: Database, n: int) -> None:
    """The population through the database's own connection (PostgreSQL, or any SQLite
    database in use), in one transaction, then ANALYZE (as autovacuum would)."""
    places = communes()
    async with db.engine.begin() as connection:
        await connection.execute(text(COMMUNES_DDL))
        await connection.execute(text(COMMUNES_INSERT), commune_rows(places))
        for statement in SEED:
            await connection.execute(text(statement), seed_params(n, len(places)))
    async with db.engine.connect() as connection:
        autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
        await autocommit.execute(text("ANALYZE"))


async def counts(db: Database) -> tuple[int, int]:
    """How many contacts and subscriptions were seeded."""
    async with db.session() as session:
        contacts = (await session.execute(text("SELECT COUNT(*) FROM contacts"))).scalar_one()
        subs = (await session.execute(text("SELECT COUNT(*) FROM subscriptions"))).scalar_one()
    return int(contacts), int(subs)


# --- broadcasts to plan on a population, and who should receive them --------------------

# Provinces of the regional case: Hà Nội, Đà Nẵng, Cần Thơ (two communes elsewhere are added).
CASE_PROVINCES = ("p:1", "p:48", "p:92")

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


def cases() -> list[Case]:
    """The whole country on the main topic; three provinces and two communes on two topics."""
    provinces = {int(code.removeprefix("p:")) for code in CASE_PROVINCES}
    elsewhere = [loc.code for loc in communes() if loc.province_code not in provinces]
    regional = (*CASE_PROVINCES, elsewhere[0], elsewhere[len(elsewhere) // 2])
    return [
        Case("country", (MAIN_TOPIC,), (COUNTRY,)),
        Case("3 provinces + 2 communes", (MAIN_TOPIC, SECOND_TOPIC), regional),
    ]


def matching_params(case: Case) -> dict[str, Any]:
    """Parameters of the independent matching queries."""
    return {
        "topics": list(case.topics),
        "places": list(case.localities),
        "everywhere": COUNTRY in case.localities,
    }


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


# --- a few named subscribers ---------------------------------------------------------------


async def add_subscribers(
    db: Database, *wanted: Sequence[tuple[str, str]], channel: str = "web"
) -> list[int]:
    """One new contact per argument, subscribed to each (topic, locality) it lists (none:
    a contact who has not subscribed yet); returns their ids in argument order."""
    async with db.session() as session:
        contacts = [
            # A web contact's id is a random bearer token; these never open the chat.
            Contact(channel=channel, channel_user_id=secrets.token_urlsafe(24))
            for _ in wanted
        ]
        session.add_all(contacts)
    for contact, subscribed in zip(contacts, wanted, strict=True):
        for topic, locality in subscribed:
            await subscriptions.subscribe(db, contact.id, topic, locality)
    return [contact.id for contact in contacts]


async def seed_outbox(
    db: Database,
    chats: int,
    text: str,
    first_chat: int,
    doubles: int = 0,
    channel: str = "telegram",
    last_seen_at: datetime | None = None,
) -> list[int]:
    """An agency, an explanation and its broadcast, `chats` contacts on `channel` (user ids
    from `first_chat`, each with a conversation, as subscribers who came by chat; last seen
    at `last_seen_at`, default now) with one broadcast delivery each; the first `doubles`
    chats also get a case update, queued first (same chat: the per-chat spacing applies).
    Returns the broadcast deliveries' ids, in chat order. Bulk inserts: 20,000 chats take
    about a second."""
    async with db.session() as session:
        agency = Agency(slug="bench", name="Cơ quan thử")
        session.add(agency)
        await session.flush()
        explanation = Explanation(agency_id=agency.id, slug="bench", title="Thử")
        session.add(explanation)
        await session.flush()
        broadcast = Broadcast(explanation_id=explanation.id, text=text, recipients=chats)
        session.add(broadcast)
        await session.flush()
        users = [str(first_chat + i) for i in range(chats)]
        seen = last_seen_at or utcnow()
        await session.execute(
            insert(Contact),
            [{"channel": channel, "channel_user_id": u, "last_seen_at": seen} for u in users],
        )
        ids = dict(
            (
                await session.execute(
                    select(Contact.channel_user_id, Contact.id).where(
                        Contact.channel == channel, Contact.channel_user_id.in_(users)
                    )
                )
            )
            .tuples()
            .all()
        )
        contact_ids = [ids[u] for u in users]
        await session.execute(insert(Conversation), [{"contact_id": c} for c in contact_ids])
        if doubles:
            await session.execute(
                insert(Delivery),
                [
                    {
                        "contact_id": c,
                        "kind": DeliveryKind.CASE_UPDATE,
                        "text": f"Hồ sơ của anh/chị đã được tiếp nhận ({i}).",
                    }
                    for i, c in enumerate(contact_ids[:doubles])
                ],
            )
        await session.execute(
            insert(Delivery),
            [
                {  # as the planner writes them: no due time, found by the id range
                    "contact_id": c,
                    "kind": DeliveryKind.BROADCAST,
                    "broadcast_id": broadcast.id,
                    "text": "",
                    "next_attempt_at": None,
                }
                for c in contact_ids
            ],
        )
        by_contact = dict(
            (
                await session.execute(
                    select(Delivery.contact_id, Delivery.id).where(
                        Delivery.broadcast_id == broadcast.id
                    )
                )
            )
            .tuples()
            .all()
        )
        if by_contact:
            broadcast.delivery_ids_after = min(by_contact.values()) - 1
            broadcast.delivery_ids_upto = max(by_contact.values())
        return [by_contact[c] for c in contact_ids]
