"""The outbox dispatcher: claims pending deliveries, sends them, records each outcome.

Claiming sets status 'sending' with a lease (claimed_until) in one UPDATE, so two workers
never take the same row (PostgreSQL: FOR UPDATE SKIP LOCKED; SQLite: one writer at a time).
A worker that dies mid-send leaves its rows 'sending'; when the lease expires they go back
to 'pending' (at-least-once: a case update must not be lost).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import select, update

from bot.domain.ratelimit import RateLimiter
from bot.services.conversations import recipient_for
from bot.services.subscriptions import set_reachable
from bot.store.db import Database
from bot.store.models import Contact, Conversation, Delivery, Message, utcnow
from connectors.base import Button, ChannelRegistry, DeliveryOutcome, OutboundMessage

log = structlog.get_logger(__name__)

MAX_ATTEMPTS = 8


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


class Dispatcher:
    """Sends outbox rows through their contact's channel."""

    def __init__(
        self,
        db: Database,
        channels: ChannelRegistry,
        batch: int = 50,
        lease_seconds: int = 120,
        limiter: RateLimiter | None = None,
    ) -> None:
        self._db = db
        self._channels = channels
        self._limiter = limiter or RateLimiter({})
        self._batch = batch
        self._lease = timedelta(seconds=lease_seconds)

    async def _claim(self, now: datetime) -> list[Claimed]:
        async with self._db.session() as session:
            # Rows whose worker died go back to the queue once their lease is over.
            await session.execute(
                update(Delivery)
                .where(Delivery.status == "sending", Delivery.claimed_until < now)
                .values(status="pending", claimed_until=None)
            )
            ids_query = (
                select(Delivery.id)
                .where(Delivery.status == "pending", Delivery.next_attempt_at <= now)
                .order_by(Delivery.id)
                .limit(self._batch)
            )
            if not self._db.is_sqlite:
                ids_query = ids_query.with_for_update(skip_locked=True)
            ids = list((await session.execute(ids_query)).scalars().all())
            if not ids:
                return []
            rows = (
                await session.execute(
                    update(Delivery)
                    .where(Delivery.id.in_(ids), Delivery.status == "pending")
                    .values(
                        status="sending",
                        claimed_until=now + self._lease,
                        attempts=Delivery.attempts + 1,
                    )
                    .returning(
                        Delivery.id,
                        Delivery.contact_id,
                        Delivery.kind,
                        Delivery.text,
                        Delivery.buttons,
                        Delivery.attempts,
                        Delivery.message_id,
                    )
                )
            ).all()
        return [Claimed(*row) for row in sorted(rows)]

    async def dispatch_once(self, now: datetime | None = None) -> int:
        """Claim one batch and send it; returns how many were claimed."""
        now = now or utcnow()
        claimed = await self._claim(now)
        for item in claimed:
            await self._send(item)
        return len(claimed)

    async def _send(self, item: Claimed) -> None:
        async with self._db.session() as session:
            contact = await session.get(Contact, item.contact_id)
            assert contact is not None
            conversation_id = await session.scalar(
                select(Conversation.id)
                .where(Conversation.contact_id == contact.id)
                .order_by(Conversation.id.desc())
                .limit(1)
            )
            recipient = await recipient_for(session, contact)
        channel = self._channels.get(recipient.channel)
        await self._limiter.acquire(recipient.channel, recipient.channel_user_id)
        message = OutboundMessage(
            text=item.text,
            buttons=tuple(Button(b["title"], b["payload"]) for b in item.buttons or []),
            ref=item.message_id,
        )
        result = await channel.send(recipient, message)
        now = utcnow()
        async with self._db.session() as session:
            delivery = await session.get(Delivery, item.id)
            assert delivery is not None
            delivery.claimed_until = None
            if result.outcome is DeliveryOutcome.SENT and item.message_id is not None:
                # A reply that had to wait (rate limit): its message row already exists.
                delivery.status = "sent"
                delivery.sent_at = now
                stored = await session.get(Message, item.message_id)
                if stored is not None:
                    stored.status = "sent"
                    stored.error = None
            elif result.outcome is DeliveryOutcome.SENT:
                delivery.status = "sent"
                delivery.sent_at = now
                if conversation_id is None:
                    conversation = Conversation(contact_id=item.contact_id)
                    session.add(conversation)
                    await session.flush()
                    conversation_id = conversation.id
                # The conversation history shows what was delivered, on every channel.
                row = Message(
                    conversation_id=conversation_id,
                    direction="out",
                    channel=recipient.channel,
                    kind=item.kind,
                    text=item.text,
                    buttons=item.buttons or [],
                    status="sent",
                    external_id=None,
                )
                session.add(row)
                await session.flush()
                delivery.message_id = row.id
            elif result.outcome is DeliveryOutcome.RETRY and item.attempts < MAX_ATTEMPTS:
                delivery.status = "pending"
                wait = result.retry_after or min(300.0, 2.0**item.attempts)
                delivery.next_attempt_at = now + timedelta(seconds=wait)
                delivery.error = result.reason[:500] or None
            else:
                delivery.status = (
                    "blocked" if result.outcome is DeliveryOutcome.UNREACHABLE else "failed"
                )
                delivery.error = (result.reason or result.outcome.value)[:500]
                if result.outcome is DeliveryOutcome.UNREACHABLE:
                    contact_row = await session.get(Contact, item.contact_id)
                    if contact_row is not None:
                        await set_reachable(session, contact_row, False)
                if item.message_id is not None:
                    stored = await session.get(Message, item.message_id)
                    if stored is not None:
                        stored.status = "failed"
                        stored.error = delivery.error
                log.warning(
                    "delivery_not_sent",
                    delivery_id=item.id,
                    channel=recipient.channel,
                    outcome=result.outcome.value,
                )

    async def run(self, interval: float) -> None:
        """Background loop: drain the outbox, then sleep a little."""
        while True:
            try:
                while await self.dispatch_once():
                    pass
                self._limiter.forget_idle()
            except Exception:  # one bad round must not stop deliveries for good
                log.exception("dispatch_round_failed")
            await asyncio.sleep(interval)
