"""One turn-taker per conversation, across processes: an asyncio lock inside this process,
a lease in the database between processes (bot/store/leases.py).

The holder renews its lease in the background while it works (every third of the lease),
so a slow engine turn never loses it; when the holder dies, the lease ends by itself and
another gateway's retry loop takes the conversation over (at once on the same host, where
a dead holder's process can be seen gone: bot/services/workers.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import structlog

from bot.services.workers import claimer_is_dead, new_worker_id
from bot.store import leases
from bot.store.db import Database
from bot.store.models import utcnow

log = structlog.get_logger(__name__)


class Lease:
    """A conversation's lease while this process holds it."""

    def __init__(self, db: Database, conversation_id: int, holder: str, ttl: timedelta) -> None:
        self._db = db
        self.conversation_id = conversation_id
        self.holder = holder
        self._ttl = ttl
        self.lost = False  # set when a renewal found another holder
        # Taken from another holder (dead, or its lease ended): its last turn may have
        # reached the engine without its answer being stored.
        self.took_over = False

    async def take(self) -> bool:
        """Take or renew it for one more lease length; False when another process has it.
        A holder on this host whose process is gone (a gateway killed and restarted) is
        taken over at once, without waiting for its lease to end."""
        now = utcnow()
        async with self._db.session() as session:
            cid, until = self.conversation_id, now + self._ttl
            before = await leases.holder(session, cid)
            held = await leases.take(session, cid, self.holder, now, until)
            if not held and before is not None:
                if claimer_is_dead(before, socket.gethostname()[:40]):
                    held = await leases.take_over(session, cid, self.holder, before, until)
        self.took_over = self.took_over or (held and before not in (None, self.holder))
        self.lost = not held
        return held

    async def keep(self) -> None:
        """Renew every third of the lease until cancelled (or lost)."""
        pause = self._ttl.total_seconds() / 3
        while not self.lost:
            await asyncio.sleep(pause)
            try:
                await self.take()
            except Exception as exc:  # noqa: BLE001 - a failed renewal is retried next time
                log.warning(
                    "lease_renewal_failed",
                    conversation_id=self.conversation_id,
                    error=type(exc).__name__,
                )
        log.warning("lease_lost", conversation_id=self.conversation_id)

    async def release(self) -> None:
        """Let it go (if it is still ours); on failure it ends by itself."""
        try:
            async with self._db.session() as session:
                await leases.release(session, self.conversation_id, self.holder)
        except Exception as exc:  # noqa: BLE001 - the lease expires anyway
            log.warning(
                "lease_release_failed",
                conversation_id=self.conversation_id,
                error=type(exc).__name__,
            )


class ConversationLocks:
    """Who may hand a conversation to the engine now."""

    def __init__(self, db: Database, ttl: timedelta, holder: str | None = None) -> None:
        self._db = db
        self._ttl = ttl
        self.holder = holder or new_worker_id()
        # Weak values let the locks of idle conversations disappear.
        self._locks: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()

    @asynccontextmanager
    async def hold(self, conversation_id: int) -> AsyncIterator[Lease | None]:
        """The conversation's lease for the block (renewed meanwhile, let go after), or None
        when another process holds it."""
        async with self._locks.setdefault(conversation_id, asyncio.Lock()):
            lease = Lease(self._db, conversation_id, self.holder, self._ttl)
            if not await lease.take():
                yield None
                return
            keeper = asyncio.create_task(lease.keep())
            try:
                yield lease
            finally:
                keeper.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await keeper
                await lease.release()
