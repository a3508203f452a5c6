"""The engine's tracker store, seen from the gateway: Rasa's SQL table `events`, one row per
dialogue event of a sender id (texts, slot values). The gateway only ever deletes from it.

Rasa appends only the events beyond those it has stored for the sender's current session,
so rows are deleted outside the engine's turns: a retired sender's rows (its conversation
moved to a fresh sender), or a live sender's events older than its latest session.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy import Column, Float, Integer, MetaData, String, Table, Text, delete, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

_metadata = MetaData()
# As rasa/core/tracker_store.py (3.6) declares it.
events = Table(
    "events",
    _metadata,
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255), nullable=False, index=True),
    Column("type_name", String(255), nullable=False),
    Column("timestamp", Float),
    Column("intent_name", String(255)),
    Column("action_name", String(255)),
    Column("data", Text),
)


class TrackerStore:
    """Deletes dialogue events from the engine's tracker database (SQLAlchemy async URL)."""

    def __init__(self, url: str) -> None:
        parsed = make_url(url)
        self.url = url
        file = parsed.database if parsed.get_backend_name() == "sqlite" else None
        # A SQLite tracker that does not exist yet holds nothing: never create it here.
        self._file = Path(file) if file and file != ":memory:" else None
        self._in_memory = parsed.get_backend_name() == "sqlite" and self._file is None
        self._engine: AsyncEngine | None = None

    def _connectable(self) -> AsyncEngine | None:
        if self._in_memory or (self._file is not None and not self._file.exists()):
            return None
        if self._engine is None:
            # Parameters are sender ids: never in logs.
            self._engine = create_async_engine(
                self.url, hide_parameters=True, connect_args=self._connect_args()
            )
        return self._engine

    def _connect_args(self) -> dict[str, float]:
        return {"timeout": 10.0} if self._file is not None else {}

    async def delete_senders(self, senders: list[str]) -> int:
        """Delete every event of these retired sender ids; returns how many rows went."""
        engine = self._connectable()
        if engine is None or not senders:
            return 0
        try:
            async with engine.begin() as conn:
                result = await conn.execute(delete(events).where(events.c.sender_id.in_(senders)))
        except (OperationalError, ProgrammingError) as exc:
            if _no_table(exc):  # the engine never stored anything
                return 0
            raise
        return int(result.rowcount or 0)

    async def delete_before(self, sender: str, before: datetime) -> int:
        """Delete a live sender's events older than `before` and older than its latest
        session start (events the engine no longer loads, so its next save is unaffected)."""
        engine = self._connectable()
        if engine is None:
            return 0
        session_start = (
            select(func.max(events.c.timestamp))
            .where(events.c.sender_id == sender, events.c.type_name == "session_started")
            .scalar_subquery()
        )
        try:
            async with engine.begin() as conn:
                result = await conn.execute(
                    delete(events).where(
                        events.c.sender_id == sender,
                        events.c.timestamp < before.timestamp(),
                        events.c.timestamp < session_start,
                    )
                )
        except (OperationalError, ProgrammingError) as exc:
            if _no_table(exc):
                return 0
            raise
        return int(result.rowcount or 0)

    async def dispose(self) -> None:
        """Close pooled connections (on shutdown)."""
        if self._engine is not None:
            await self._engine.dispose()
            self._engine = None


def _no_table(exc: Exception) -> bool:
    text = str(getattr(exc, "orig", exc)).lower()
    return "no such table" in text or ("relation" in text and "does not exist" in text)
