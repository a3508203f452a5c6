"""The audit of staff API use: one row per state-changing call, allowed or refused."""

from __future__ import annotations

from bot.domain.actors import Actor
from bot.store.audit import ApiCall, add_call
from bot.store.db import Database


async def record_call(
    db: Database, caller: Actor | None, method: str, path: str, target: str | None, status: int
) -> None:
    """Note who called which route on what, and the outcome; never the body (it may carry
    personal data), and nothing about a caller without a valid token but the attempt."""
    async with db.session() as session:
        add_call(
            session,
            ApiCall(
                username=caller.name if caller else None,
                role=caller.role.value if caller and caller.role else None,
                agency_id=caller.agency_id if caller else None,
                method=method[:10],
                path=path[:200],
                target=target[:120] if target else None,
                status=status,
            ),
        )
