"""Who an engine conversation speaks for, from the gateway's own records.

The engine's REST channel is open to any process on the host, so whatever a request to it
carries (metadata included) is untrusted; the sender id is the conversation's random
`engine_sender`, which only the gateway knows and hands to the engine.
"""

from __future__ import annotations

import structlog

from bot.store import contacts
from bot.store.db import Database

log = structlog.get_logger(__name__)


async def contact_for_sender(db: Database, engine_sender: str) -> int | None:
    """The contact id behind an engine sender id; None for a sender the gateway never gave
    out (a forged or stale conversation), which the actions treat as an anonymous visitor."""
    if not engine_sender:
        return None
    async with db.session(read_only=True) as session:
        contact_id = await contacts.contact_id_for_sender(session, engine_sender)
    if contact_id is None:
        log.warning("engine_sender_unknown")
    return contact_id
