"""PostgreSQL connections in the pool: one that sat idle is tested before use (the server
may have dropped it), one in steady use is not (a ping is three round trips per unit of
work), and a dropped connection in use fails one unit of work and empties the pool."""

from __future__ import annotations

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from bot.store import db as db_module
from bot.store.db import Database
from tests.conftest import _new_postgres_database


async def backend_pid(db: Database) -> int:
    async with db.session() as session:
        return int((await session.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def terminate(port: int, pid: int) -> None:
    admin = await asyncpg.connect(host="127.0.0.1", port=port, user="postgres", database="postgres")
    try:
        assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
    finally:
        await admin.close()


async def test_an_idle_connection_dropped_by_the_server_is_replaced(
    postgres_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = Database(await _new_postgres_database(postgres_port))
    try:
        first = await backend_pid(db)
        await terminate(postgres_port, first)
        monkeypatch.setattr(db_module, "IDLE_PING_S", 0.0)  # every pooled connection is idle
        second = await backend_pid(db)
        assert second != first, "a new connection replaced the dropped one"
    finally:
        await db.dispose()


async def test_a_busy_connection_is_not_pinged_and_a_drop_fails_one_unit_of_work(
    postgres_port: int,
) -> None:
    db = Database(await _new_postgres_database(postgres_port))
    try:
        first = await backend_pid(db)
        assert await backend_pid(db) == first, "the pooled connection is used again"
        await terminate(postgres_port, first)
        with pytest.raises(DBAPIError) as failed:
            await backend_pid(db)
        assert failed.value.connection_invalidated, "recognised as a lost connection"
        assert await backend_pid(db) not in (first, 0), "the next unit of work connects afresh"
    finally:
        await db.dispose()
