"""Receipts: the platform says a message we sent reached the citizen's phone, or was seen.

They land on the delivery that sent the message (found by the platform's message id, kept
when it was sent); seen implies received. A receipt for a message we do not know (a reply
outside the outbox, an id from before receipts were kept) changes nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, func, text, update

from bot.store.db import Database
from bot.store.models import Contact, Delivery

# Spelled as the partial index ix_deliveries_external_id is.
HAS_EXTERNAL_ID = text("deliveries.external_id IS NOT NULL")


async def record_receipts(
    db: Database, channel: str, external_ids: list[str], seen: bool, at: datetime
) -> int:
    """Mark the deliveries of `channel` that sent these messages received (and seen);
    the first time counts. Returns how many deliveries changed."""
    if not external_ids:
        return 0
    values = {"received_at": func.coalesce(Delivery.received_at, at)}
    if seen:
        values["seen_at"] = func.coalesce(Delivery.seen_at, at)
    async with db.session() as session:
        result = await session.execute(
            update(Delivery)
            .where(
                HAS_EXTERNAL_ID,
                Delivery.external_id.in_(external_ids),
                exists().where(Contact.id == Delivery.contact_id, Contact.channel == channel),
            )
            .values(values)
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
