"""A unit of work waiting for SQLite's write lock never freezes the event loop.

SQLite's own busy wait runs inside a statement and holds its connection's mutex meanwhile. A
cursor of that connection finalized on the event loop's thread (the garbage collector freeing
one that a failed statement left behind: SQLAlchemy's aiosqlite adapter does not close it)
then waits for the same mutex, so the loop stopped until the busy wait gave up, and the
writer holding the lock, whose commit needed the loop, could not release it: "database is
locked" after the whole timeout, seen in the suite once in a few hundred runs. The wait for
the write lock now happens between short attempts, with the loop free (bot/store/db.py)."""

from __future__ import annotations

import asyncio
import gc
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.store.db import Database


async def test_a_cursor_freed_while_its_connection_waits_for_the_write_lock_stalls_nothing(
    tmp_path: Path,
) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'waits.db'}", busy_timeout_s=3.0)
    try:
        async with db.session() as session:
            await session.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY)"))
            await session.execute(text("INSERT INTO t VALUES (1)"))

        async with db.engine.connect() as waiting:
            # a cursor of this connection whose failed statement is still attached
            raw = await waiting.get_raw_connection()
            driver = raw.driver_connection
            assert driver is not None
            left_behind = await driver.cursor()
            with pytest.raises(sqlite3.IntegrityError):
                await left_behind.execute("INSERT INTO t VALUES (1)")

            holding, release = asyncio.Event(), asyncio.Event()

            async def writer() -> None:
                async with db.session() as session:
                    await session.execute(text("INSERT INTO t VALUES (2)"))
                    holding.set()
                    await release.wait()  # commits when the loop runs this task again

            held = asyncio.create_task(writer())
            await holding.wait()

            async def wait_and_write() -> None:
                async with waiting.begin():
                    await waiting.execute(text("INSERT INTO t VALUES (3)"))

            waiter = asyncio.create_task(wait_and_write())
            await asyncio.sleep(0.3)  # the waiting connection now waits for the write lock
            release.set()
            del left_behind  # freed here, on the loop's thread, while its connection waits
            gc.collect()  # (the failed statement's traceback holds it in a cycle)
            await asyncio.wait_for(waiter, timeout=10)
            await held
        async with db.session() as session:
            rows = await session.execute(text("SELECT id FROM t ORDER BY id"))
            assert [r for (r,) in rows] == [1, 2, 3]
    finally:
        await db.dispose()
