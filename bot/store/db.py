"""The database handle: one async engine and session factory per process."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.util import await_only

# SQLite's own wait for a lock, per attempt. It runs inside the statement and holds the
# connection's mutex meanwhile: anything else that needs that connection, such as a cursor of
# it freed on the event loop's thread by the garbage collector, waits as long, with the loop
# stopped. A unit of work therefore waits for the write lock in short attempts with the loop
# free between them (`_begin_immediate`), up to the configured timeout.
LOCK_ATTEMPT_MS = 50
FIRST_PAUSE_S, LAST_PAUSE_S = 0.002, 0.05  # between attempts, doubling


def _sqlite_pragmas(busy_timeout_ms: int, dbapi_connection: Any, _record: Any) -> None:
    """WAL lets readers and one writer work at once; busy_timeout waits briefly instead of
    failing (the longer wait for the write lock is `_begin_immediate`'s)."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={min(busy_timeout_ms, LOCK_ATTEMPT_MS):d}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
    # The driver's own transaction handling (a BEGIN only before the first write) is off:
    # every unit of work begins with BEGIN IMMEDIATE instead (`_begin_immediate`).
    dbapi_connection.isolation_level = None


IDLE_PING_S = 10.0  # a pooled connection idle longer than this is tested before use


def _idle_since(_dbapi_connection: Any, record: Any) -> None:
    record.info["idle_since"] = time.monotonic()


def _ping_if_idle(dialect: Any, dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    """Test a connection that sat idle in the pool before handing it out (the server may
    have restarted or dropped it meanwhile); on failure the pool connects afresh.

    Pinging every checkout (pool_pre_ping) costs three round trips per unit of work; a
    connection used moments ago that fails anyway fails its statement as a disconnect,
    which empties the pool (SQLAlchemy invalidates every older connection), so one unit
    of work per process fails (a webhook answered 5xx is sent again) after a restart."""
    since = record.info.get("idle_since")
    if since is None or time.monotonic() - since < IDLE_PING_S:
        return
    try:
        dialect.do_ping(dbapi_connection)
    except Exception as exc:
        raise DisconnectionError("idle connection failed its ping") from exc


READ_ONLY = "giaitrinh_read_only"  # execution option: a unit of work that never writes


def _begin_immediate(wait_s: float, connection: Any) -> None:
    """Each unit of work takes SQLite's write lock when it begins, so it never holds a read
    snapshot while waiting for a writer that waits for it ("database is locked" after the
    whole timeout under concurrency). It waits for the writer before it in attempts of
    LOCK_ATTEMPT_MS with the event loop free between them, up to `wait_s`, then makes a last
    attempt whose failure is reported as any statement's."""
    if connection.get_execution_options().get(READ_ONLY, False):
        connection.exec_driver_sql("BEGIN")
        return
    driver = connection.connection.driver_connection  # aiosqlite's connection
    deadline = time.monotonic() + wait_s
    pause = FIRST_PAUSE_S
    while time.monotonic() < deadline:
        try:
            cursor = await_only(driver.execute("BEGIN IMMEDIATE"))
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc):
                break  # reported by the last attempt, as any statement's error
        else:
            await_only(cursor.close())
            return
        await_only(asyncio.sleep(pause))
        pause = min(pause * 2, LAST_PAUSE_S)
    connection.exec_driver_sql("BEGIN IMMEDIATE")


class Database:
    """Owns the engine; `session()` gives a unit of work that commits or rolls back."""

    def __init__(self, url: str, busy_timeout_s: float = 10.0) -> None:
        parsed = make_url(url)
        self.url = url
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        if self.is_sqlite and parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        # hide_parameters: a database error names the statement, never the values (a
        # citizen's phone number, a token hash), so logging the error leaks nothing.
        # PostgreSQL: a statement waits for another's lock as long as SQLite's busy wait, then
        # fails (a webhook is answered 5xx and sent again) instead of hanging.
        lock_wait = {"server_settings": {"lock_timeout": str(round(busy_timeout_s * 1000))}}
        self.engine: AsyncEngine = create_async_engine(
            url,
            hide_parameters=True,
            connect_args={}
            if self.is_sqlite or parsed.get_driver_name() != "asyncpg"
            else lock_wait,
        )
        if not self.is_sqlite:
            pool = self.engine.sync_engine.pool
            event.listen(pool, "checkin", _idle_since)
            event.listen(pool, "checkout", partial(_ping_if_idle, self.engine.dialect))
        if self.is_sqlite:
            pragmas = partial(_sqlite_pragmas, round(busy_timeout_s * 1000))
            event.listen(self.engine.sync_engine, "connect", pragmas)
            event.listen(
                self.engine.sync_engine, "begin", partial(_begin_immediate, busy_timeout_s)
            )
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    @asynccontextmanager
    async def session(self, read_only: bool = False) -> AsyncIterator[AsyncSession]:
        """A session whose transaction commits on success and rolls back on error; a
        `read_only` one does not wait for SQLite's write lock (it must not write)."""
        async with self.sessions() as session, session.begin():
            if read_only:
                await session.connection(execution_options={READ_ONLY: True})
            yield session

    async def reachable(self) -> bool:
        """True when a trivial query answers (for /healthz); never raises."""
        try:
            async with self.session(read_only=True) as session:
                await session.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    async def dispose(self) -> None:
        """Close pooled connections (on shutdown)."""
        await self.engine.dispose()
