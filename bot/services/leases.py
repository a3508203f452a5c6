"""One turn-taker per conversation, across processes: an asyncio lock inside this process,
a lease in the database between processes (bot/store/leases.py).

The lease is taken and let go inside the caller's units of work (the message flow takes it
in the transaction that reads the turn's message, and lets it go in the one that finds
nothing more to do); once taken, the holder renews it in the background (every third of
the lease), so a slow engine turn never loses it. When the holder dies, the lease ends by
itself and another gateway's retry loop takes the conversation over (at once on the same
host, where a dead holder's process can be seen gone: bot/services/workers.py).
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
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.workers import claimer_is_dead, new_worker_id
from bot.store import leases
from bot.store.db import Database
from bot.store.models import utcnow

log = structlog.get_logger(__name__)


class Lease:
    """A conversation's lease, as this process sees it while it works on the conversation."""

    def __init__(self, db: Database, conversation_id: int, holder: str, ttl: timedelta) -> None:
        self._db = db
        self.conversation_id = conversation_id
        self.holder = holder
        self._ttl = ttl
        self.held = False  # taken, and not let go (as far as committed units of work go)
        self.lost = False  # set when a renewal found another holder
        # Taken from another holder (dead, or its lease ended): its last turn may have
        # reached the engine without its answer being stored.
        self.took_over = False
        self._keeper: asyncio.Task[None] | None = None

    async def take(self, session: AsyncSession) -> bool:
        """Take or renew it in the caller's unit of work (counted held once that commits:
        the caller raises otherwise, and `stop` lets go of a lease that was not taken);
        False when another process has it. An ended lease, or one whose holder on this host
        is gone (a gateway killed and restarted), is taken over."""
        now = utcnow()
        cid, until = self.conversation_id, now + self._ttl
        held = await leases.take_free(session, cid, self.holder, until)
        if not held:
            before, before_until = await leases.current(session, cid)
            if before is not None and (
                (before_until is not None and before_until < now)
                or claimer_is_dead(before, socket.gethostname()[:40])
            ):
                held = await leases.take_over(session, cid, self.holder, before, until)
                self.took_over = self.took_over or held
        self.held, self.lost = held, not held
        if held and self._keeper is None:
            self._keeper = asyncio.create_task(self._keep())
        return held

    async def release(self, session: AsyncSession) -> bool:
        """Let it go in the caller's unit of work; True when it was still ours."""
        mine = await leases.release(session, self.conversation_id, self.holder)
        self.held = False
        return mine

    async def renew(self, session: AsyncSession) -> bool:
        """Extend it in the caller's unit of work (on PostgreSQL this locks the
        conversation's row); False, and lost, when another process has it now."""
        until = utcnow() + self._ttl
        if await leases.renew(session, self.conversation_id, self.holder, until):
            return True
        self.lost, self.held = True, False
        return False

    async def _renew(self) -> None:
        async with self._db.session() as session:
            await self.renew(session)

    async def _keep(self) -> None:
        """Renew every third of the lease until cancelled (or lost)."""
        pause = self._ttl.total_seconds() / 3
        while self.held and not self.lost:
            await asyncio.sleep(pause)
            if not self.held:  # let go meanwhile
                return
            try:
                await self._renew()
            except Exception as exc:  # noqa: BLE001 - a failed renewal is retried next time
                log.warning(
                    "lease_renewal_failed",
                    conversation_id=self.conversation_id,
                    error=type(exc).__name__,
                )
        if self.lost:
            log.warning("lease_lost", conversation_id=self.conversation_id)

    async def stop(self) -> None:
        """Stop renewing, and let go if it may still be held (on failure it ends by itself)."""
        if self._keeper is not None:
            self._keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._keeper
            self._keeper = None
        if not self.held:
            return
        try:
            async with self._db.session() as session:
                await self.release(session)
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
    async def turns(self, conversation_id: int) -> AsyncIterator[Lease]:
        """This process's turn at the conversation for the block, with its lease not yet
        taken (`Lease.take` in the caller's unit of work); renewed once taken, let go at the
        end if still held."""
        async with self._locks.setdefault(conversation_id, asyncio.Lock()):
            lease = Lease(self._db, conversation_id, self.holder, self._ttl)
            try:
                yield lease
            finally:
                await lease.stop()

    @asynccontextmanager
    async def hold(self, conversation_id: int) -> AsyncIterator[Lease | None]:
        """The conversation's lease for the block (taken in a unit of work of its own), or
        None when another process holds it."""
        async with self.turns(conversation_id) as lease:
            async with self._db.session() as session:
                taken = await lease.take(session)
            yield lease if taken else None
