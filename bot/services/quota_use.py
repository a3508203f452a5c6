"""Quota units after a wave: what certainly was not sent gives its unit back, and a
platform that says the quota is spent makes it spent here too (bot/store/quotas.py)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.channels import (
    DeferReason,
    DeliveryOutcome,
    DeliveryResult,
    QuotaClaim,
    Route,
    defer_reason,
)
from bot.domain.quota import period
from bot.store import quotas
from bot.store.db import Database


async def settle(
    session: AsyncSession, sends: Sequence[tuple[Route | None, DeliveryResult]], now: datetime
) -> None:
    """Give back the units of sends that did not happen (a send that may have reached the
    platform keeps its unit); a quota the platform says is spent is spent for the month."""
    returned: Counter[QuotaClaim] = Counter()
    spent: set[QuotaClaim] = set()
    for route, result in sends:
        if route is None or route.quota is None or not route.taken:
            continue
        if result.outcome is DeliveryOutcome.SENT or result.ambiguous:
            continue
        returned[route.quota] += 1
        if defer_reason(result.reason) == DeferReason.QUOTA.value:
            spent.add(route.quota)
    term = period(now).key
    for claim, units in returned.items():
        await quotas.give_back(session, claim.pool, term, units)
    for claim in spent:
        await quotas.exhaust(session, claim.pool, term, claim.limit)


async def quota_status(db: Database, pool: str, limit: int, now: datetime) -> dict[str, Any]:
    """For /healthz: this month's use of a quota, and when it resets."""
    term = period(now)
    async with db.session(read_only=True) as session:
        used = await quotas.used(session, pool, term.key)
    return {
        "period": term.key,
        "used": used,
        "limit": limit,
        "resets_at": term.resets_at.isoformat(),
    }
