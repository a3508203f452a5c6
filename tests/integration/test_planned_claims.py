"""A broadcast's planned rows have no due time and no entry in the dispatcher's index: claims
find them by the id range their plan recorded, with a cursor on the broadcast (SQLite and
PostgreSQL). Every planned row is claimed once, in id order, after the rows that have a due
time; a claim rolled back moves no cursor; /healthz counts planned rows as due."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from bench.seed import add_subscribers, seed_reference_rows
from bot.domain.delivery import DeliveryKind, DeliveryStatus
from bot.services.broadcasts import plan_one_range
from bot.store import queue
from bot.store.db import Database
from bot.store.models import Agency, Broadcast, Delivery, Explanation, utcnow

LEASE = timedelta(minutes=5)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    yield database
    await database.dispose()


class Rollback(Exception):
    """Raised to end a unit of work without committing it."""


async def claim(db: Database, batch: int, wave: str, *, roll_back: bool = False) -> list[int]:
    """One wave's claim, as the dispatcher makes it; the claimed ids."""
    try:
        async with db.session() as session:
            claimed = await queue.claim(
                session, utcnow(), wave, batch, LEASE, skip_locked=not db.is_sqlite
            )
            if roll_back:
                raise Rollback
    except Rollback:
        pass
    return [c.id for c in claimed]


async def two_interleaved_plans(db: Database) -> tuple[list[int], dict[int, list[int]]]:
    """Seven subscribers; two broadcasts planned range by range in turns (their ids
    interleave). Returns the contacts and each broadcast's delivery ids."""
    await seed_reference_rows(db)
    contacts = await add_subscribers(db, *[[("datdai", "p:1")]] * 7)
    async with db.session() as session:
        agency = await session.scalar(select(Agency.id).limit(1))
        assert agency is not None
        plans = []
        for slug in ("tin-mot", "tin-hai"):
            explanation = Explanation(
                agency_id=agency, slug=slug, title=slug, topics=["datdai"], localities=["p:1"]
            )
            session.add(explanation)
            await session.flush()
            broadcast = Broadcast(explanation_id=explanation.id, text=slug)
            session.add(broadcast)
            await session.flush()
            plans.append((broadcast.id, explanation))
    for cursor in range(min(contacts) - 1, max(contacts), 3):
        for broadcast_id, explanation in plans:
            async with db.session() as session:
                added = await plan_one_range(session, broadcast_id, explanation, cursor, cursor + 3)
                assert added is not None
    rows: dict[int, list[int]] = {broadcast_id: [] for broadcast_id, _ in plans}
    async with db.session() as session:
        found = await session.execute(
            select(Delivery.broadcast_id, Delivery.id, Delivery.next_attempt_at).order_by(
                Delivery.id
            )
        )
        for broadcast_id, delivery_id, due in found:
            assert due is None, "a planned row has no due time"
            rows[broadcast_id].append(delivery_id)
    return contacts, rows


async def test_planned_rows_are_claimed_once_in_order_after_the_rows_that_are_due(
    db: Database,
) -> None:
    contacts, rows = await two_interleaved_plans(db)
    first, second = rows.values()
    assert len(first) == len(second) == 7
    assert min(second) < max(first), "the two plans' ids interleave"
    async with db.session() as session:
        reply = Delivery(contact_id=contacts[0], kind=DeliveryKind.CASE_UPDATE, text="Hồ sơ")
        session.add(reply)
        # A planned row that something else finished meanwhile is passed over.
        await session.execute(
            update(Delivery).where(Delivery.id == first[2]).values(status=DeliveryStatus.FAILED)
        )
        status = await queue.status_counts(session, utcnow() + timedelta(seconds=1))
    assert status["due"] == 1 + 13, status

    assert await claim(db, 4, "w/0", roll_back=True) != []
    waves = [await claim(db, 4, f"w/{n}") for n in range(1, 7)]
    assert waves[0][0] == reply.id, "what has a due time goes first"
    claimed = [i for wave in waves for i in wave]
    planned = [i for i in claimed if i != reply.id]
    assert len(claimed) == len(set(claimed)) == 14, waves
    assert planned == [i for i in first if i != first[2]] + second, "oldest broadcast, id order"
    assert await claim(db, 4, "w/7") == []
    async with db.session() as session:
        status = await queue.status_counts(session, utcnow())
        left = await session.scalar(
            select(Delivery.id).where(
                Delivery.status == DeliveryStatus.PENDING, Delivery.next_attempt_at.is_(None)
            )
        )
    assert left is None
    assert status["due"] == 0 and status["sending"] == 14, status


async def test_a_claim_rolled_back_leaves_the_rows_to_the_next_one(db: Database) -> None:
    _, rows = await two_interleaved_plans(db)
    everyone = sorted(i for ids in rows.values() for i in ids)
    for n in range(3):  # a worker dies before committing, three times over
        assert len(await claim(db, 5, f"dead/{n}", roll_back=True)) == 5
    claimed: list[int] = []
    while wave := await claim(db, 5, f"w/{len(claimed)}"):
        claimed += wave
    assert sorted(claimed) == everyone


async def test_a_broadcast_planned_by_the_release_before_gets_its_range_when_reported(
    db: Database,
) -> None:
    """During an upgrade a process of the previous release may still plan a broadcast: rows
    with a due time, no recorded range. The dispatcher claims them by its index, and the
    first report finds and records their range."""
    from bot.services.broadcasts import broadcast_report

    await seed_reference_rows(db)
    contacts = await add_subscribers(db, [], [])
    async with db.session() as session:
        agency = await session.scalar(select(Agency.id).limit(1))
        assert agency is not None
        explanation = Explanation(agency_id=agency, slug="tin-cu", title="Tin cũ")
        session.add(explanation)
        await session.flush()
        old = Broadcast(explanation_id=explanation.id, text="Tin cũ", recipients=2)
        session.add(old)
        await session.flush()
        session.add_all(
            Delivery(contact_id=c, kind=DeliveryKind.BROADCAST, broadcast_id=old.id, text="")
            for c in contacts
        )
    report = await broadcast_report(db, old.id)
    assert report.by_status == {DeliveryStatus.PENDING: 2}
    assert await claim(db, 5, "w/1") != [], "claimed by the index: they have a due time"
    assert await claim(db, 5, "w/2") == []
    async with db.session() as session:
        recorded = await session.get(Broadcast, old.id)
    assert recorded is not None and recorded.delivery_ids_claimed == recorded.delivery_ids_upto


async def test_two_workers_claiming_at_once_take_each_planned_row_once(
    db: Database, database_url: str
) -> None:
    """Two processes' dispatchers claim from the same broadcast at the same moment: one
    waits for the other's claim (PostgreSQL: the broadcast's row lock; SQLite: its one
    writer) and takes the rows after; none is claimed twice, none left."""
    _, rows = await two_interleaved_plans(db)
    other = Database(database_url)
    try:
        claimed: list[int] = []
        for n in range(4):
            waves = await asyncio.gather(claim(db, 2, f"a/{n}"), claim(other, 2, f"b/{n}"))
            claimed += [i for wave in waves for i in wave]
    finally:
        await other.dispose()
    assert sorted(claimed) == sorted(i for ids in rows.values() for i in ids)
