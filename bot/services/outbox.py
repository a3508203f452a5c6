"""The outbox's state outside a wave: settling rows a dead worker left, and the counts
/healthz shows (the waves themselves: bot/services/dispatch.py).

Crash safety. A worker killed mid-wave leaves its rows 'sending'. They are recovered when
the lease runs out, or at once by a worker on the same host that sees the claiming process
is gone (bot/services/workers.py); its send journal (bot/services/journal.py) then says
which rows never left and which the platform confirmed, and the rest follow their kind's
rule (`bot.domain.delivery.recovered`): broadcasts in doubt become 'unknown' and are never
sent again, replies and case updates go back to the queue.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

import structlog

from bot.domain.delivery import DeliveryStatus, SendVerdict, recovered
from bot.domain.quota import period
from bot.services.journal import Journal
from bot.services.workers import claimer_is_dead, worker_of
from bot.store import outbox as store
from bot.store import queue, quotas
from bot.store.db import Database
from bot.store.models import utcnow

log = structlog.get_logger(__name__)


async def recover(db: Database, host: str, journal_dir: Path | None, now: datetime) -> int:
    """Settle rows whose worker is gone; returns how many.

    A worker of this host that died leaves its journal: rows it never sent go back to
    the queue (and give back the quota units they held), rows it saw delivered are marked
    sent, and only rows truly in flight follow their kind's rule (their units stay used).
    Without a journal (lease ran out, other host) every row follows its kind's rule:
    broadcasts become 'unknown', the rest go back to the queue.
    """
    async with db.session() as session:
        rows = await store.claims_in_progress(session)
        workers = {w for row in rows if (w := worker_of(row.claimed_by)) is not None}
        dead = {w for w in workers if claimer_is_dead(w, host)}
        orphans = [
            row
            for row in rows
            if worker_of(row.claimed_by) in dead
            or (row.claimed_until is not None and row.claimed_until < now)
        ]
        if not orphans:
            return 0
        journals = {
            worker: Journal.read(journal_dir, worker) for worker in dead if journal_dir is not None
        }
        settled: dict[DeliveryStatus, list[int]] = defaultdict(list)
        unused: Counter[str] = Counter()  # quota units of rows that certainly never left
        for row in orphans:
            journal = journals.get(worker_of(row.claimed_by) or "")
            verdict = journal.verdict(row.id) if journal is not None else SendVerdict.DOUBT
            settled[recovered(verdict, row.kind)].append(row.id)
            if row.quota_pool and verdict in (SendVerdict.UNSENT, SendVerdict.SAFE):
                unused[row.quota_pool] += 1
        for status, ids in settled.items():
            await store.settle(session, status, ids, now)
        term = period(now).key
        for pool, units in unused.items():
            await quotas.give_back(session, pool, term, units)
    if journal_dir is not None:
        for worker in dead:
            Journal.remove(journal_dir, worker)
    log.warning("deliveries_recovered", **{str(k): len(v) for k, v in settled.items()})
    return len(orphans)


async def outbox_status(db: Database, now: datetime | None = None) -> dict[str, Any]:
    """For /healthz: what is due and how long the oldest has waited (a stuck dispatcher
    shows as a growing wait), what is being sent, and what ended in doubt."""
    async with db.session(read_only=True) as session:
        return await queue.status_counts(session, now or utcnow())
