"""The outbox dispatcher: claims pending deliveries, sends them, records each outcome.

One round ("wave"): claim up to `batch` due rows in one UPDATE (status 'sending', a lease,
and this worker's id; PostgreSQL: FOR UPDATE SKIP LOCKED, SQLite: one writer at a time),
defer the rows whose chat must wait (per-chat spacing), send the rest concurrently within
the channel-wide limits, then record every outcome in one transaction.

Crash safety. A worker killed mid-wave leaves its rows 'sending'. They are recovered when
the lease runs out, or at once by a worker on the same host that sees the claiming process
is gone; its send journal (bot/services/journal.py) then says which rows never left and
which the platform confirmed. What happens to the rest depends on the kind:
- broadcasts are sent at most once: a row that may have been sent becomes 'unknown' (shown
  in the delivery report) and is never sent again, so nobody gets a policy message twice;
- replies and case updates are sent at least once: they go back to 'pending', because a
  citizen who misses "your case was answered" is worse off than one who reads it twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import secrets
import socket
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy import (
    JSON,
    Table,
    and_,
    bindparam,
    exists,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from bot.channels import (
    Button,
    ChannelRegistry,
    DeliveryOutcome,
    DeliveryResult,
    OutboundMessage,
    Recipient,
)
from bot.domain.ratelimit import RateLimiter
from bot.services.conversations import recipient_for
from bot.services.explanations import release_scheduled
from bot.services.journal import Journal
from bot.services.subscriptions import set_reachable
from bot.store.db import Database
from bot.store.models import (
    Broadcast,
    Contact,
    Conversation,
    Delivery,
    Message,
    UTCDateTime,
    utcnow,
)

log = structlog.get_logger(__name__)

DELIVERIES: Table = Delivery.__table__  # type: ignore[assignment]
MESSAGES: Table = Message.__table__  # type: ignore[assignment]

MAX_ATTEMPTS = 8
AT_MOST_ONCE = frozenset({"broadcast"})
IN_DOUBT = "worker stopped while sending; not resent (sent at most once)"


def new_worker_id() -> str:
    """host:pid:nonce, so a worker on the same host can tell whether the claimer is alive."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"


def _verdict(result: DeliveryResult) -> str:
    """For the journal: delivered, certainly not delivered, or in doubt."""
    if result.outcome is DeliveryOutcome.SENT:
        return "ok"
    return "doubt" if result.ambiguous else "safe"


def _worker_of(claimed_by: str | None) -> str | None:
    """The worker part of a claim ("<worker>/<wave>")."""
    return claimed_by.split("/", 1)[0] if claimed_by else None


def _claimer_is_dead(claimed_by: str | None, host: str) -> bool:
    """True only when the claim is from this host and its process no longer exists."""
    if not claimed_by:
        return False
    parts = claimed_by.rsplit(":", 2)
    if len(parts) != 3 or parts[0] != host or not parts[1].isdigit():
        return False
    pid = int(parts[1])
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


@dataclass(frozen=True, slots=True)
class Claimed:
    """A delivery taken by this worker."""

    id: int
    contact_id: int
    kind: str
    text: str
    buttons: list[Any]
    attempts: int
    message_id: int | None
    broadcast_id: int | None


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
        self._host = self.worker.rsplit(":", 2)[0]
        self._journal_dir = journal_dir
        self._journal = Journal(journal_dir, self.worker) if journal_dir is not None else None
        if journal_dir is not None:
            Journal.sweep(journal_dir)

    # -- claiming -------------------------------------------------------------------------

    async def recover(self, now: datetime) -> int:
        """Settle rows whose worker is gone; returns how many.

        A worker of this host that died leaves its journal: rows it never sent go back to
        the queue, rows it saw delivered are marked sent, and only rows truly in flight
        follow their kind's rule. Without a journal (lease ran out, other host) every row
        follows its kind's rule: broadcasts become 'unknown', the rest go back to the queue.
        """
        async with self._db.session() as session:
            rows = (
                await session.execute(
                    select(Delivery.id, Delivery.kind, Delivery.claimed_by, Delivery.claimed_until)
                    .where(Delivery.status == "sending")
                    .order_by(Delivery.id)
                )
            ).all()
            workers = {w for row in rows if (w := _worker_of(row.claimed_by)) is not None}
            dead = {w for w in workers if _claimer_is_dead(w, self._host)}
            orphans = [
                row
                for row in rows
                if _worker_of(row.claimed_by) in dead
                or (row.claimed_until is not None and row.claimed_until < now)
            ]
            if not orphans:
                return 0
            journals = {
                worker: Journal.read(self._journal_dir, worker)
                for worker in dead
                if self._journal_dir is not None
            }
            settled: dict[str, list[int]] = defaultdict(list)
            for row in orphans:
                journal = journals.get(_worker_of(row.claimed_by) or "")
                verdict = journal.verdict(row.id) if journal is not None else "doubt"
                if verdict == "ok":
                    settled["sent"].append(row.id)
                elif verdict in ("unsent", "safe") or row.kind not in AT_MOST_ONCE:
                    settled["pending"].append(row.id)
                else:
                    settled["unknown"].append(row.id)
            connection = await session.connection()
            values: dict[str, dict[str, Any]] = {
                "sent": {"status": "sent", "sent_at": now},
                "pending": {"status": "pending", "attempts": DELIVERIES.c.attempts - 1},
                "unknown": {"status": "unknown", "error": IN_DOUBT},
            }
            for status, ids in settled.items():
                for chunk in _chunks(ids, 500):
                    held = and_(DELIVERIES.c.id.in_(chunk), DELIVERIES.c.status == "sending")
                    if status == "sent":  # confirmed by the platform: in the history too
                        await self._history(session, held)
                    await connection.execute(
                        update(DELIVERIES)
                        .where(held)
                        .values(claimed_until=None, claimed_by=None, **values[status])
                    )
        if self._journal_dir is not None:
            for worker in dead:
                Journal.remove(self._journal_dir, worker)
        log.warning("deliveries_recovered", **{k: len(v) for k, v in settled.items()})
        return len(orphans)

    async def _claim(self, session: AsyncSession, now: datetime, wave: str) -> list[Claimed]:
        due = (
            select(Delivery.id)
            .where(Delivery.status == "pending", Delivery.next_attempt_at <= now)
            .order_by(Delivery.id)
            .limit(self._batch)
        )
        if not self._db.is_sqlite:
            due = due.with_for_update(skip_locked=True)
        table = DELIVERIES
        connection = await session.connection()  # Core: no ORM bookkeeping per row
        rows = (
            await connection.execute(
                update(table)
                .where(table.c.id.in_(due.scalar_subquery()), table.c.status == "pending")
                .values(
                    status="sending",
                    claimed_until=now + self._lease,
                    claimed_by=wave,
                    attempts=table.c.attempts + 1,
                )
                .returning(
                    table.c.id,
                    table.c.contact_id,
                    table.c.kind,
                    table.c.text,
                    table.c.buttons,
                    table.c.attempts,
                    table.c.message_id,
                    table.c.broadcast_id,
                )
            )
        ).all()
        return [Claimed(*row) for row in sorted(rows)]

    async def _recipients(
        self, session: AsyncSession, claimed: list[Claimed]
    ) -> dict[int, Recipient]:
        """Each claimed row's recipient, in one query (plus one per windowed contact)."""
        contact_ids = sorted({item.contact_id for item in claimed})
        recipients: dict[int, Recipient] = {}
        rows = await session.execute(
            select(Contact.id, Contact.channel, Contact.channel_user_id).where(
                Contact.id.in_(contact_ids)
            )
        )
        for contact_id, channel_name, user_id in rows.all():
            if self._channels.get(channel_name).capabilities.window:
                contact = await session.get(Contact, contact_id)
                assert contact is not None
                recipients[contact_id] = await recipient_for(session, contact)
            else:
                recipients[contact_id] = Recipient(channel_name, user_id)
        missing = {i.broadcast_id for i in claimed if i.broadcast_id} - set(self._texts)
        if missing:
            texts = await session.execute(
                select(Broadcast.id, Broadcast.text).where(Broadcast.id.in_(missing))
            )
            self._texts.update({bid: text for bid, text in texts.all()})
        return recipients

    # -- one round --------------------------------------------------------------------------

    async def dispatch_once(self, now: datetime | None = None) -> int:
        """Claim one wave, send it, record it; returns how many rows were claimed."""
        now = now or utcnow()
        # Claiming and reserving chats happen under the lock, so a later wave never
        # overtakes an earlier one in a chat; sending overlaps with other lanes' database work.
        wave = f"{self.worker}/{next(self._waves)}"
        async with self._db_turn:
            async with self._db.session() as session:
                claimed = await self._claim(session, now, wave)
                recipients = await self._recipients(session, claimed) if claimed else {}
            if not claimed:
                return 0
            ready: list[tuple[Claimed, Recipient]] = []
            deferred: list[tuple[int, float]] = []
            for item in claimed:
                recipient = recipients[item.contact_id]
                wait = self._limiter.reserve_chat(recipient.channel, recipient.channel_user_id)
                if wait > 0:
                    deferred.append((item.id, wait))
                else:
                    ready.append((item, recipient))
            if deferred:
                await self._defer(wave, deferred)
        results = await self._send_all(ready)
        async with self._db_turn:
            await self._record(wave, results)
        return len(claimed)

    async def _defer(self, wave: str, deferred: list[tuple[int, float]]) -> None:
        """Rows whose chat must wait go back to the queue untouched (not an attempt)."""
        now = utcnow()
        table = DELIVERIES
        async with self._db.session() as session:
            await session.execute(
                update(table)
                .where(table.c.id == bindparam("b_id"), table.c.claimed_by == wave)
                .values(
                    status="pending",
                    claimed_until=None,
                    claimed_by=None,
                    attempts=table.c.attempts - 1,
                    next_attempt_at=bindparam("b_next"),
                ),
                [{"b_id": i, "b_next": now + timedelta(seconds=w)} for i, w in deferred],
            )

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
            self._journal.finished(item.id, _verdict(result))
        return Sent(item, recipient, result)

    # -- recording --------------------------------------------------------------------------

    async def _record(self, wave: str, results: list[Sent]) -> None:
        """Every outcome of a wave in one transaction: the rows that were not sent one by
        one (few), then everything still 'sending' in this wave, which was sent, at once."""
        now = utcnow()
        table = DELIVERIES
        changes: list[dict[str, Any]] = []
        unreachable: set[int] = set()
        failed_messages: list[dict[str, Any]] = []
        replies: list[int] = []
        for s in results:
            result, item = s.result, s.item
            if result.outcome is DeliveryOutcome.SENT:
                if item.message_id is not None:
                    replies.append(item.message_id)
                continue
            reason = (result.reason or result.outcome.value)[:500]
            if result.outcome is DeliveryOutcome.RETRY and (
                result.ambiguous and item.kind in AT_MOST_ONCE
            ):
                status, next_at = "unknown", now
            elif result.outcome is DeliveryOutcome.RETRY and item.attempts < MAX_ATTEMPTS:
                wait = result.retry_after or min(300.0, 2.0**item.attempts)
                status, next_at = "pending", now + timedelta(seconds=wait)
            elif result.outcome is DeliveryOutcome.UNREACHABLE:
                status, next_at = "blocked", now
                unreachable.add(item.contact_id)
            else:
                status, next_at = "failed", now
            changes.append(
                {"b_id": item.id, "status": status, "next_attempt_at": next_at, "error": reason}
            )
            if status != "pending" and item.message_id is not None:
                failed_messages.append({"b_id": item.message_id, "error": reason})
            if status != "pending":
                log.warning(
                    "delivery_not_sent",
                    delivery_id=item.id,
                    channel=s.recipient.channel,
                    outcome=status,
                )
        # Only rows this wave still holds: a row recovered meanwhile is not touched.
        held = and_(table.c.claimed_by == wave, table.c.status == "sending")
        async with self._db.session() as session:
            connection = await session.connection()
            if changes:
                await connection.execute(
                    update(table)
                    .where(table.c.id == bindparam("b_id"), held)
                    .values(claimed_until=None, claimed_by=None),
                    changes,
                )
            await self._history(session, and_(held, table.c.message_id.is_(None)))
            await connection.execute(
                update(table)
                .where(held)
                .values(status="sent", sent_at=now, error=None, claimed_until=None, claimed_by=None)
            )
            if replies:
                await session.execute(
                    update(Message).where(Message.id.in_(replies)).values(status="sent", error=None)
                )
            if failed_messages:
                await connection.execute(
                    update(MESSAGES)
                    .where(MESSAGES.c.id == bindparam("b_id"))
                    .values(status="failed"),
                    failed_messages,
                )
            for contact_id in sorted(unreachable):
                contact = await session.get(Contact, contact_id)
                if contact is not None:
                    await set_reachable(session, contact, False)

    async def _history(self, session: AsyncSession, which: ColumnElement[bool]) -> None:
        """The deliveries `which` selects become outbound messages of their contacts' latest
        conversations (the web chat shows them from there; Zalo's window counts them),
        copied by the database in one INSERT ... SELECT."""
        deliveries, messages = DELIVERIES, MESSAGES
        missing = (  # usually none: subscribers came by chat
            await session.execute(
                select(deliveries.c.contact_id)
                .distinct()
                .where(which, ~exists().where(Conversation.contact_id == deliveries.c.contact_id))
            )
        ).scalars()
        starting = sorted(missing)
        if starting:  # someone reached only by broadcasts: start their history
            session.add_all(Conversation(contact_id=c) for c in starting)
            await session.flush()
        latest = (
            select(func.max(Conversation.id))
            .where(Conversation.contact_id == deliveries.c.contact_id)
            .scalar_subquery()
        )
        text = func.coalesce(func.nullif(deliveries.c.text, ""), Broadcast.text, "")
        rows = (
            select(
                latest,
                literal("out"),
                Contact.channel,
                deliveries.c.kind,
                text,
                deliveries.c.buttons,
                literal([], JSON),  # not cast('[]' AS JSON): SQLite reads that as the number 0
                literal("sent"),
                literal(1),
                literal(utcnow(), UTCDateTime),
            )
            .select_from(deliveries)
            .join(Contact, Contact.id == deliveries.c.contact_id)
            .outerjoin(Broadcast, Broadcast.id == deliveries.c.broadcast_id)
            .where(which)
        )
        columns = ["conversation_id", "direction", "channel", "kind", "text", "buttons"]
        columns += ["attachments", "status", "attempts", "created_at"]
        connection = await session.connection()
        await connection.execute(insert(messages).from_select(columns, rows))

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

    def close(self) -> None:
        """A clean stop: the journal has nothing left to say."""
        if self._journal is not None:
            self._journal.close()
            self._journal = None

    async def run(self, interval: float) -> None:
        """Background loop: recover orphans, drain the outbox, sleep a little; until stop()."""
        while not self._stopping.is_set():
            try:
                await self.recover(utcnow())
                await release_scheduled(self._db)  # scheduled explanations whose time came
                await self.drain()
                self._limiter.forget_idle()
            except Exception:  # one bad round must not stop deliveries for good
                log.exception("dispatch_round_failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), interval)
        self.close()  # only reached after a finished wave: nothing in flight

    def stop(self) -> None:
        """Finish the waves in flight, then leave run() (a graceful shutdown)."""
        self._stopping.set()


async def outbox_status(db: Database, now: datetime | None = None) -> dict[str, Any]:
    """For /healthz: what is due and how long the oldest has waited (a stuck dispatcher
    shows as a growing wait), what is being sent, and what ended in doubt."""
    now = now or utcnow()
    async with db.session() as session:
        due, oldest = (
            await session.execute(
                select(func.count(), func.min(Delivery.next_attempt_at)).where(
                    Delivery.status == "pending", Delivery.next_attempt_at <= now
                )
            )
        ).one()
        rows = await session.execute(
            select(Delivery.status, func.count())
            .where(Delivery.status.in_(["sending", "unknown"]))
            .group_by(Delivery.status)
        )
        by_status = {str(status): int(n) for status, n in rows.all()}
    return {
        "due": int(due or 0),
        "oldest_due_seconds": round((now - oldest).total_seconds(), 1) if oldest else 0.0,
        "sending": int(by_status.get("sending", 0)),
        "unknown": int(by_status.get("unknown", 0)),
    }


def _chunks(items: list[int], size: int) -> Iterable[list[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
