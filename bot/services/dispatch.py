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
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from bot.channels import (
    Button,
    Card,
    ChannelRegistry,
    DeferReason,
    DeliveryOutcome,
    DeliveryResult,
    OutboundMessage,
    QuotaClaim,
    Recipient,
    Route,
    defer_reason,
    deferred,
    not_configured,
)
from bot.domain.delivery import CATEGORIES, DeliveryStatus, decide, deferred_until, send_verdict
from bot.domain.quota import period
from bot.domain.ratelimit import RateLimiter
from bot.metrics import NO_METRICS, Metrics
from bot.services import outbox, quota_use
from bot.services.explanations import release_scheduled
from bot.services.journal import Journal
from bot.services.loops import LoopState, supervise
from bot.services.subscriptions import set_reachable
from bot.services.workers import host_of, new_worker_id
from bot.store import contacts, queue, quotas
from bot.store import deferred as deferred_rows
from bot.store import outbox as store
from bot.store.db import Database
from bot.store.models import Contact, utcnow
from bot.store.outbox import Claimed, Unsent

log = structlog.get_logger(__name__)

# Longer than any platform's reply window (Zalo: 48 hours): contacts not seen for this long
# are outside it, and their window details are not read.
WINDOW_LOOKBACK = timedelta(days=8)

# How a wave takes its rows: (session, wave id) -> the rows it now holds.
Claim = Callable[[AsyncSession, str], Awaitable[list[Claimed]]]


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A claimed delivery ready to go: its message and the way its channel sends it."""

    item: Claimed
    recipient: Recipient
    message: OutboundMessage
    route: Route


@dataclass(frozen=True, slots=True)
class Sent:
    """One send (or one held back by the platform's rules) and what came of it."""

    item: Claimed
    recipient: Recipient
    result: DeliveryResult
    route: Route | None = None


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
        metrics: Metrics = NO_METRICS,
    ) -> None:
        self._db = db
        self._channels = channels
        self._metrics = metrics
        self._limiter = limiter or RateLimiter({})
        self._batch = batch
        self._lease = timedelta(seconds=lease_seconds)
        self._concurrency = concurrency
        self._lanes = lanes
        self._stopping = asyncio.Event()
        # One lane at a time in the database (SQLite has one writer anyway); the others send.
        self._db_turn = asyncio.Lock()
        # broadcast id -> its message (text, card)
        self._broadcasts: dict[int, tuple[str, Card | None]] = {}
        self.worker = new_worker_id()
        self._waves = itertools.count(1)  # claims are "<worker>/<wave>"
        self._host = host_of(self.worker)
        self._journal_dir = journal_dir
        self._journal = Journal(journal_dir, self.worker) if journal_dir is not None else None
        if journal_dir is not None:
            Journal.sweep(journal_dir)
        self.loop = LoopState("outbox")
        # Deferred rows come due only when a monthly quota resets: looked for then, not always.
        self._next_wake: datetime | None = None

    async def recover(self, now: datetime) -> int:
        """Settle rows whose worker is gone (bot/services/outbox.py); returns how many."""
        return await outbox.recover(self._db, self._host, self._journal_dir, now)

    # -- one round --------------------------------------------------------------------------

    async def dispatch_once(self, now: datetime | None = None) -> int:
        """Claim one wave of due rows, send it, record it; returns how many were claimed."""
        at = now or utcnow()
        return await self._wave(
            lambda session, wave: queue.claim(
                session, at, wave, self._batch, self._lease, not self._db.is_sqlite
            )
        )

    async def deliver_waiting(self, contact_id: int) -> int:
        """Send what waits for this contact personally (deferred case updates, replies,
        operator messages), oldest first: they just wrote, so the reply window is open.
        Returns how many rows were taken."""
        return await self._wave(
            lambda session, wave: deferred_rows.claim_waiting(
                session, contact_id, wave, utcnow(), self._lease
            )
        )

    async def _wave(self, claim: Claim) -> int:
        """Claim rows for a new wave, send them, record every outcome; returns how many."""
        # Claiming and reserving chats happen under the lock, so a later wave never
        # overtakes an earlier one in a chat; sending overlaps with other lanes' database work.
        wave = f"{self.worker}/{next(self._waves)}"
        async with self._db_turn:
            async with self._db.session() as session:  # one transaction: claim, defer, units
                claimed = await claim(session, wave)
                if not claimed:
                    return 0
                recipients = await self._recipients(session, claimed)
                outgoing, held = await self._prepare(session, wave, claimed, recipients)
        results = held + await self._send_all(outgoing)
        async with self._db_turn:
            await self._record(wave, results)
        return len(claimed)

    async def _prepare(
        self,
        session: AsyncSession,
        wave: str,
        claimed: list[Claimed],
        recipients: dict[int, Recipient],
    ) -> tuple[list[Outgoing], list[Sent]]:
        """What of a claimed wave goes now: rows of a channel this process does not serve
        fail alone; rows the platform's rules hold back (their channel's route) are deferred
        without a send; rows whose chat must wait go back to the queue; the rest take their
        quota units, if they need any (`_grant`)."""
        ready: list[Outgoing] = []
        waits: list[tuple[int, float]] = []
        held: list[Sent] = []
        for item in claimed:
            recipient = recipients[item.contact_id]
            channel = self._channels.find(recipient.channel)
            if channel is None:  # fails alone, with its reason
                held.append(Sent(item, recipient, not_configured(recipient.channel)))
                continue
            message = self._message(item)
            route = channel.route(recipient, message)
            if route.defer is not None:
                held.append(Sent(item, recipient, route.defer))
                continue
            wait = self._limiter.reserve_chat(recipient.channel, recipient.channel_user_id)
            if wait > 0:
                waits.append((item.id, wait))
            else:
                ready.append(Outgoing(item, recipient, message, route))
        try:
            if waits:
                now = utcnow()
                later = [(i, now + timedelta(seconds=w)) for i, w in waits]
                await store.defer(session, wave, later)  # back to the queue untouched
            outgoing, spent = await self._grant(session, ready)
        except BaseException:  # the wave is rolled back: its chats are free again
            for o in ready:
                self._limiter.release_chat(o.recipient.channel, o.recipient.channel_user_id)
            raise
        return outgoing, held + spent

    async def _recipients(
        self, session: AsyncSession, claimed: list[Claimed]
    ) -> dict[int, Recipient]:
        """Each claimed row's recipient, in a few queries per wave (with reply-window
        details for contacts seen lately, which is all a window channel needs)."""
        found = await contacts.recipients(
            session,
            sorted({item.contact_id for item in claimed}),
            window_channels=self._channels.with_window(),
            active_since=utcnow() - WINDOW_LOOKBACK,
        )
        missing = {i.broadcast_id for i in claimed if i.broadcast_id} - set(self._broadcasts)
        if missing:
            shared = await store.broadcast_messages(session, missing)
            self._broadcasts.update({i: (t, Card.from_json(c)) for i, (t, c) in shared.items()})
        return found

    def _message(self, item: Claimed) -> OutboundMessage:
        """The delivery as a message (a broadcast's text and card come from the broadcast)."""
        text, card = item.text, Card.from_json(item.card)
        if item.broadcast_id is not None:
            shared_text, shared_card = self._broadcasts.get(item.broadcast_id, ("", None))
            text, card = text or shared_text, card or shared_card
        buttons = tuple(Button(b["title"], b["payload"]) for b in item.buttons or ())
        return OutboundMessage(
            text=text,
            buttons=buttons,
            ref=item.message_id,
            category=CATEGORIES[item.kind],
            card=card,
        )

    async def _grant(
        self, session: AsyncSession, ready: list[Outgoing]
    ) -> tuple[list[Outgoing], list[Sent]]:
        """Rows that draw on a monthly quota get their units from the database in one
        statement per quota (case updates, which leave no reserve, first); whatever gets
        none waits for the quota to reset. Returns what goes and what waits."""
        outgoing = [o for o in ready if o.route.quota is None]
        wanting: dict[QuotaClaim, list[Outgoing]] = defaultdict(list)
        for o in ready:
            if o.route.quota is not None:
                wanting[o.route.quota].append(o)
        held: list[Sent] = []
        if not wanting:
            return outgoing, held
        term = period(utcnow())
        for claim in sorted(wanting, key=lambda c: c.keep):
            rows = wanting[claim]
            granted = await quotas.take(
                session, claim.pool, term.key, len(rows), claim.limit, claim.keep
            )
            outgoing += [replace(o, route=o.route.with_quota_taken()) for o in rows[:granted]]
            await store.mark_quota(session, [o.item.id for o in rows[:granted]], claim.pool)
            spent = deferred(
                DeferReason.QUOTA, f"monthly quota spent ({claim.limit} in {term.key})"
            )
            for o in rows[granted:]:
                self._limiter.release_chat(o.recipient.channel, o.recipient.channel_user_id)
                held.append(Sent(o.item, o.recipient, spent, o.route))
        return outgoing, held

    async def _send_all(self, ready: list[Outgoing]) -> list[Sent]:
        """A fixed set of senders work through the wave (no task per delivery); each lane
        gets its share of the concurrency, so about `concurrency` requests are in flight.
        Once the platform says a quota is spent, the wave's rows still waiting for it are
        held back without asking again."""
        results: list[Sent] = []
        queue = iter(ready)
        spent: set[QuotaClaim] = set()

        async def sender() -> None:
            for outgoing in queue:
                claim = outgoing.route.quota
                if claim is not None and claim in spent:
                    held = deferred(DeferReason.QUOTA, "the platform says the quota is spent")
                    results.append(Sent(outgoing.item, outgoing.recipient, held, outgoing.route))
                    continue
                sent = await self._send(outgoing)
                if claim is not None and defer_reason(sent.result.reason) == DeferReason.QUOTA:
                    spent.add(claim)
                results.append(sent)

        senders = max(1, min(len(ready), self._concurrency // self._lanes))
        await asyncio.gather(*(sender() for _ in range(senders)))
        return results

    async def _send(self, outgoing: Outgoing) -> Sent:
        item, recipient = outgoing.item, outgoing.recipient
        channel = self._channels.get(recipient.channel)
        await self._limiter.acquire_overall(recipient.channel)
        if self._journal is not None:
            self._journal.started(item.id)
        try:
            result = await channel.send(recipient, outgoing.message, outgoing.route)
        except Exception as exc:  # a channel must not raise; if it does, say so
            log.exception("channel_send_raised", channel=recipient.channel)
            result = DeliveryResult(DeliveryOutcome.RETRY, type(exc).__name__, ambiguous=True)
        finally:
            self._limiter.chat_done(recipient.channel, recipient.channel_user_id)
        if self._journal is not None:
            self._journal.finished(item.id, send_verdict(result))
        return Sent(item, recipient, result, outgoing.route)

    async def _record(self, wave: str, results: list[Sent]) -> None:
        """Every outcome of a wave in one transaction, each as the delivery policy decides;
        contacts that blocked the bot are marked unreachable in the same transaction."""
        now = utcnow()
        unsent: list[Unsent] = []
        unreachable: set[int] = set()
        replies: list[int] = []
        external_ids: list[tuple[int, str]] = []
        for s in results:
            result, item = s.result, s.item
            decision = decide(result, item.kind, item.attempts)
            self._metrics.outbound(s.recipient.channel, result.outcome)
            self._metrics.delivery(item.kind, decision.status)
            if decision.status is DeliveryStatus.SENT:
                if item.message_id is not None:
                    replies.append(item.message_id)
                if result.external_id and self._channels.receipts(s.recipient.channel):
                    external_ids.append((item.id, result.external_id))
                continue
            reason = (result.reason or result.outcome.value)[:500]
            if decision.status is DeliveryStatus.DEFERRED:  # held back: not an attempt
                at = deferred_until(reason, now)
                unsent.append(Unsent(item.id, decision.status, at, reason, item.message_id, False))
                continue
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
            await store.record_wave(session, wave, now, unsent, replies, external_ids)
            await quota_use.settle(session, [(r.route, r.result) for r in results], now)
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
        self._broadcasts.clear()  # broadcast messages are read again next time (one query)
        return total

    async def round(self) -> None:
        """One round of the background loop: recover orphans, wake deferred rows whose
        quota reset, release scheduled explanations whose time came, drain the outbox."""
        now = utcnow()
        await self.recover(now)
        if self._next_wake is None or now >= self._next_wake:
            async with self._db.session() as session:  # quotas that reset: deferred rows go
                await deferred_rows.wake_deferred(session, now)
            self._next_wake = period(now).resets_at
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
