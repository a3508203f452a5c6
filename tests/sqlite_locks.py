"""Who holds SQLite's write lock when a unit of work gets "database is locked" in a test.

A diagnostic for the test suite only (loaded by tests/conftest.py): every SQLite transaction
is tracked from its BEGIN (or its wait for one) to its end, with its task. When a statement
fails with "database is locked", the transactions still open on that database file are
written to stderr with their age and where their task waits now: a rare lock held too long
names its holder in the failing test's report, not only its victims."""

from __future__ import annotations

import asyncio
import sys
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine, ExceptionContext
from sqlalchemy.pool import Pool

from tests.stuck import await_chain


@dataclass
class _Open:
    began: float
    database: str
    task: asyncio.Task[Any] | None


_open: dict[int, _Open] = {}


def _current_task() -> asyncio.Task[Any] | None:
    try:
        return asyncio.current_task()
    except RuntimeError:
        return None


def _key(connection: Connection) -> int:
    """The DB-API connection's id, read without `Connection.connection`, which would
    reconnect an invalidated connection from inside an event."""
    pooled = getattr(connection, "_dbapi_connection", None)
    return id(getattr(pooled, "dbapi_connection", None) or connection)


def _begin(connection: Connection) -> None:
    if connection.dialect.name == "sqlite":
        database = str(connection.engine.url.database)
        _open[_key(connection)] = _Open(time.monotonic(), database, _current_task())


def _end(connection: Connection, *_args: object) -> None:
    _open.pop(_key(connection), None)


def _returned(dbapi_connection: Any, *_args: object) -> None:
    _open.pop(id(dbapi_connection), None)


def _where(task: asyncio.Task[Any] | None) -> list[str]:
    """Where the task waits now (`tests.stuck.await_chain`)."""
    if task is None:
        return ["    (no task)"]
    if task.done():
        return [f"    task {task.get_name()} is done"]
    chain = await_chain(task.get_coro(), limit=30)
    return [f"    task {task.get_name()}"] + [f"      {line}" for line in chain]


def _locked(context: ExceptionContext) -> None:
    if "database is locked" not in str(context.original_exception) or context.engine is None:
        return
    database = str(context.engine.url.database)
    now = time.monotonic()
    lines = [f"database is locked ({context.statement}); open transactions on {database}:"]
    for held in list(_open.values()):
        if held.database == database:
            lines.append(f"  open for {now - held.began:.1f} s")
            lines.extend(_where(held.task))
    sys.stderr.write("\n".join(lines) + "\n")


def install() -> None:
    """Listen on every engine and pool of the process (idempotent)."""
    if event.contains(Engine, "begin", _begin):
        return
    event.listen(Engine, "begin", _begin)
    event.listen(Engine, "commit", _end)
    event.listen(Engine, "rollback", _end)
    event.listen(Engine, "handle_error", _locked)
    for name in ("reset", "checkin", "close"):
        event.listen(Pool, name, _returned)
