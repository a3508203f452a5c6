"""The outbox dispatcher: claims pending deliveries, sends them, records each outcome.

One round ("wave"): claim up to `batch` due rows in one UPDATE (status 'sending', a lease,
and this worker's id; PostgreSQL: FOR UPDATE SKIP LOCKED, SQLite: one writer at a time),
defer the rows whose chat must wait (per-chat spacing), send the rest concurrently within
the channel-wide limits, then record every outcome in one transaction. What an outcome
means for a delivery is the domain's policy (`bot.domain.delivery.decide`); the SQL is in
bot/store/outbox.py; rows a dead worker left are settled by bot/services/outbox.py.
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from bot.channels import (
    Button,
    ChannelRegistry,
    DeliveryOutcome,
    DeliveryResult,
    OutboundMessage,
    Recipient,
    not_configured,
)
from bot.domain.delivery import DeliveryStatus, decide, send_verdict
from bot.domain.ratelimit import RateLimiter
from bot.services import outbox
from bot.services.explanations import release_scheduled
from bot.services.journal import Journal
from bot.services.loops import LoopState, supervise
from bot.services.subscriptions import set_reachable
from bot.services.workers import host_of, new_worker_id
from bot.store import outbox as store
from bot.store.contacts import recipient_for
from bot.store.db import Database
from bot.store.models import Contact, utcnow
from bot.store.outbox import Claimed, Unsent

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Sent:
    """One send and what came of it."""

    item: Claimed
    recipient: Recipient
    result: DeliveryResult


class Dispatcher:
    """Sends outbox rows through their contact's channel."""

    def __init__(
        self,
        db: Database,
        channels: ChannelRegistry,
        batch: int = 500,
        lease_seconds: int = 300,
        limiter: RateLimiter | None = None,
        concurrency: int = 100,
        lanes: int = 3,
        journal_dir: Path | None = None,
    ) -> None:
        self._db = db
        self._channels = channels
        self._limiter = limiter or RateLimiter({})
        self._batch = batch
        self._lease = timedelta(seconds=lease_seconds)
        self._concurrency = concurrency
        self._lanes = lanes
        self._stopping = asyncio.Event()
        # One lane at a time in the database (SQLite has one writer anyway); the others send.
        self._db_turn = asyncio.Lock()
        self._texts: dict[int, str] = {}  # broadcast id -> its message
        self.worker = new_worker_id()
        self._waves = itertools.count(1)  # claims are "<worker>/<wave>"
        self._host = host_of(self.worker)
        self._journal_dir = journal_dir
        self._journal = Journal(journal_dir, self.worker) if journal_dir is not None else None
        if journal_dir is not None:
            Journal.sweep(journal_dir)
        self.loop = LoopState("outbox")

    async def recover(self, now: datetime) -> int:
        """Settle rows whose worker is gone (bot/services/outbox.py); returns how many."""
        return await outbox.recover(self._db, self._host, self._journal_dir, now)

    # -- one round --------------------------------------------------------------------------

    async def dispatch_once(self, now: datetime | None = None) -> int:
        """Claim one wave, send it, record it; returns how many rows were claimed."""
        now = now or utcnow()
        # Claiming and reserving chats happen under the lock, so a later wave never
        # overtakes an earlier one in a chat; sending overlaps with other lanes' database work.
        wave = f"{self.worker}/{next(self._waves)}"
        async with self._db_turn:
            async with self._db.session() as session:
                claimed = await store.claim(
                    session, now, wave, self._batch, self._lease, not self._db.is_sqlite
                )
                recipients = await self._recipients(session, claimed) if claimed else {}
            if not claimed:
                return 0
            ready: list[tuple[Claimed, Recipient]] = []
            deferred: list[tuple[int, float]] = []
            unsendable: list[Sent] = []  # no such channel here: fails alone, with its reason
            for item in claimed:
                recipient = recipients[item.contact_id]
                if self._channels.find(recipient.channel) is None:
                    unsendable.append(Sent(item, recipient, not_configured(recipient.channel)))
                    continue
                wait = self._limiter.reserve_chat(recipient.channel, recipient.channel_user_id)
                if wait > 0:
                    deferred.append((item.id, wait))
                else:
                    ready.append((item, recipient))
            if deferred:
                await self._defer(wave, deferred)
        results = unsendable + await self._send_all(ready)
        async with self._db_turn:
            await self._record(wave, results)
        return len(claimed)

    async def _recipients(
        self, session: AsyncSession, claimed: list[Claimed]
    ) -> dict[int, Recipient]:
        """Each claimed row's recipient, in one query (plus one per windowed contact)."""
        recipients: dict[int, Recipient] = {}
        for contact_id, channel_name, user_id in await store.contacts(
            session, sorted({item.contact_id for item in claimed})
        ):
            channel = self._channels.find(channel_name)
            if channel is not None and channel.capabilities.window:
                contact = await session.get(Contact, contact_id)
                assert contact is not None
                recipients[contact_id] = await recipient_for(session, contact)
            else:
                recipients[contact_id] = Recipient(channel_name, user_id)
        missing = {i.broadcast_id for i in claimed if i.broadcast_id} - set(self._texts)
        if missing:
            self._texts.update(await store.broadcast_texts(session, missing))
        return recipients

    async def _defer(self, wave: str, deferred: list[tuple[int, float]]) -> None:
        """Rows whose chat must wait go back to the queue untouched (not an attempt)."""
        now = utcnow()
        async with self._db.session() as session:
            await store.defer(session, wave, [(i, now + timedelta(seconds=w)) for i, w in deferred])

    async def _send_all(self, ready: list[tuple[Claimed, Recipient]]) -> list[Sent]:
        """A fixed set of senders work through the wave (no task per delivery); each lane
        gets its share of the concurrency, so about `concurrency` requests are in flight."""
        results: list[Sent] = []
        queue = iter(ready)

        async def sender() -> None:
            for item, recipient in queue:
                results.append(await self._send(item, recipient))

        senders = max(1, min(len(ready), self._concurrency // self._lanes))
        await asyncio.gather(*(sender() for _ in range(senders)))
        return results

    async def _send(self, item: Claimed, recipient: Recipient) -> Sent:
        text = item.text or self._texts.get(item.broadcast_id or 0, "")
        buttons = (
            tuple(Button(b["title"], b["payload"]) for b in item.buttons) if item.buttons else ()
        )
        message = OutboundMessage(text=text, buttons=buttons, ref=item.message_id)
        channel = self._channels.get(recipient.channel)
        await self._limiter.acquire_overall(recipient.channel)
        if self._journal is not None:
            self._journal.started(item.id)
        try:
            result = await channel.send(recipient, message)
        except Exception as exc:  # a channel must not raise; if it does, say so
            log.exception("channel_send_raised", channel=recipient.channel)
            result = DeliveryResult(DeliveryOutcome.RETRY, type(exc).__name__, ambiguous=True)
        finally:
            self._limiter.chat_done(recipient.channel, recipient.channel_user_id)
        if self._journal is not None:
            self._journal.finished(item.id, send_verdict(result))
        return Sent(item, recipient, result)

    async def _record(self, wave: str, results: list[Sent]) -> None:
        """Every outcome of a wave in one transaction, each as the delivery policy decides;
        contacts that blocked the bot are marked unreachable in the same transaction."""
        now = utcnow()
        unsent: list[Unsent] = []
        unreachable: set[int] = set()
        replies: list[int] = []
        for s in results:
            result, item = s.result, s.item
            decision = decide(result, item.kind, item.attempts)
            if decision.status is DeliveryStatus.SENT:
                if item.message_id is not None:
                    replies.append(item.message_id)
                continue
            reason = (result.reason or result.outcome.value)[:500]
            next_at = now + timedelta(seconds=decision.wait)  # now, unless tried again
            unsent.append(Unsent(item.id, decision.status, next_at, reason, item.message_id))
            if decision.unreachable:
                unreachable.add(item.contact_id)
            if decision.status is not DeliveryStatus.PENDING:
                log.warning(
                    "delivery_not_sent",
                    delivery_id=item.id,
                    channel=s.recipient.channel,
                    outcome=decision.status,
                )
        async with self._db.session() as session:
            await store.record_wave(session, wave, now, unsent, replies)
            for contact_id in sorted(unreachable):
                contact = await session.get(Contact, contact_id)
                if contact is not None:
                    await set_reachable(session, contact, False)

    # -- the loop ---------------------------------------------------------------------------

    async def drain(self) -> int:
        """Send everything due now, in `lanes` overlapping waves; returns rows claimed."""

        async def lane() -> int:
            total = 0
            while not self._stopping.is_set() and (claimed := await self.dispatch_once()):
                total += claimed
            return total

        total = sum(await asyncio.gather(*(lane() for _ in range(self._lanes))))
        if self._journal is not None:
            self._journal.reset()  # nothing in flight, every outcome recorded
        self._texts.clear()  # broadcast texts are read again next time (one query)
        return total

    async def round(self) -> None:
        """One round of the background loop: recover orphans, release scheduled
        explanations whose time came, drain the outbox."""
        await self.recover(utcnow())
        await release_scheduled(self._db)
        await self.drain()
        self._limiter.forget_idle()

    def close(self) -> None:
        """A clean stop: the journal has nothing left to say."""
        if self._journal is not None:
            self._journal.close()
            self._journal = None

    async def run(self, interval: float) -> None:
        """Background loop (supervised, state in `self.loop`) until stop()."""
        await supervise(self.loop, self.round, interval, stop=self._stopping)
        self.close()  # only reached after a finished wave: nothing in flight

    def stop(self) -> None:
        """Finish the waves in flight, then leave run() (a graceful shutdown)."""
        self._stopping.set()
