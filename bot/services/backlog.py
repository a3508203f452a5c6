"""What is waiting right now, read for /metrics at each scrape: the outbox (as /healthz
shows it), the operators' handoff queue, and overdue cases. One read-only unit of work.

The outbox and handoff reads go through indexes to the waiting rows only; the overdue count
scans the cases (no index covers open cases by deadline): docs/operations.md, "Metrics",
has what each costs, measured.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.domain.handoff import HandoffStatus
from bot.store import cases, handoffs, queue
from bot.store.db import Database


@dataclass(frozen=True, slots=True)
class HandoffQueue:
    """Open handoffs of one status: how many, and how long the oldest has waited since the
    citizen asked (seconds; 0 when there is none)."""

    count: int
    oldest_seconds: float


@dataclass(frozen=True, slots=True)
class Backlog:
    """The waiting work of every process (the same for each process that reads it)."""

    outbox: dict[str, Any]  # bot.store.queue.status_counts
    handoffs: dict[HandoffStatus, HandoffQueue]
    overdue_cases: int


async def backlog(db: Database, now: datetime) -> Backlog:
    """The backlog at `now`."""
    async with db.session(read_only=True) as session:
        outbox = await queue.status_counts(session, now)
        open_handoffs = await handoffs.open_by_status(session)
        overdue = await cases.overdue_count(session, now)
    return Backlog(
        outbox=outbox,
        handoffs={
            status: HandoffQueue(count, (now - oldest).total_seconds() if oldest else 0.0)
            for status, (count, oldest) in open_handoffs.items()
        },
        overdue_cases=overdue,
    )
