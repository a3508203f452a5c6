"""The bot's replies in a conversation: stored as outbound messages, then sent through the
contact's channel, each outcome recorded by the delivery policy (bot/domain/delivery.py),
the same one the outbox applies."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import structlog

from bot.channels import (
    Button,
    ChannelRegistry,
    DeliveryOutcome,
    OutboundMessage,
    Recipient,
    not_configured,
)
from bot.domain.delivery import WHEN_THEY_WRITE, DeliveryKind, DeliveryStatus, decide
from bot.domain.messages import Direction, MessageStatus
from bot.metrics import NO_METRICS, Metrics
from bot.services.subscriptions import set_reachable
from bot.store import contacts, outbox
from bot.store.db import Database
from bot.store.models import Message, utcnow

log = structlog.get_logger(__name__)


def _buttons_json(buttons: Sequence[Button]) -> list[Any]:
    return [{"title": b.title, "payload": b.payload} for b in buttons]


def _outbound(row: Message) -> OutboundMessage:
    return OutboundMessage(
        text=row.text,
        buttons=tuple(Button(title=b["title"], payload=b["payload"]) for b in row.buttons or []),
        ref=row.id,
    )


class Replies:
    """Stores and sends the replies of one conversation turn."""

    def __init__(
        self, db: Database, channels: ChannelRegistry, metrics: Metrics = NO_METRICS
    ) -> None:
        self._db = db
        self._channels = channels
        self._metrics = metrics

    def rows(
        self,
        conversation_id: int,
        recipient: Recipient,
        in_reply_to: int,
        replies: Sequence[OutboundMessage],
        kind: str = "text",
    ) -> list[Message]:
        # A channel that cannot push (the web chat polls) has a reply delivered as soon
        # as it is stored; others queue it for deliver.
        # A channel this process does not serve queues it too: deliver fails it alone.
        pushes = self._channels.pushes(recipient.channel)
        return [
            Message(
                conversation_id=conversation_id,
                direction=Direction.OUT,
                channel=recipient.channel,
                kind=kind,
                text=reply.text,
                buttons=_buttons_json(reply.buttons),
                status=MessageStatus.QUEUED if pushes else MessageStatus.SENT,
                in_reply_to_id=in_reply_to,
            )
            for reply in replies
        ]

    @staticmethod
    def to_send(rows: Sequence[Message]) -> list[Message]:
        """The rows `deliver` sends (the others were delivered by being stored)."""
        return [row for row in rows if row.status is MessageStatus.QUEUED]

    async def deliver(self, rows: Sequence[Message], recipient: Recipient) -> None:
        """Send queued replies through the channel and record each outcome as the delivery
        policy decides for a reply: a rate limit or network error hands it to the outbox
        (sent later, at least once); a blocked user marks the contact unreachable;
        anything else is failed with the reason."""
        queued = self.to_send(rows)
        for _row in range(len(rows) - len(queued)):  # delivered by being stored (web chat)
            self._metrics.outbound(recipient.channel, DeliveryOutcome.SENT)
        if not queued:
            return
        channel = self._channels.find(recipient.channel)
        results = []
        for row in queued:
            if channel is None:
                result = not_configured(recipient.channel)
            else:
                result = await channel.send(recipient, _outbound(row))
            results.append((row, result))
            self._metrics.outbound(recipient.channel, result.outcome)
            if result.outcome is not DeliveryOutcome.SENT:
                log.warning(
                    "reply_not_delivered",
                    channel=recipient.channel,
                    outcome=result.outcome.value,
                    reason=result.reason,
                )
        now = utcnow()
        async with self._db.session() as session:
            for row, result in results:
                stored = await session.get(Message, row.id)
                if stored is None:
                    continue
                stored.error = result.reason[:500] or None
                # Not yet an outbox attempt: 0 (the policy's first wait for a reply).
                decision = decide(result, DeliveryKind.REPLY, attempts=0)
                if decision.status is DeliveryStatus.SENT:
                    stored.status = MessageStatus.SENT
                    continue
                _, contact = await contacts.conversation_with_contact(
                    session, stored.conversation_id
                )
                if decision.status is DeliveryStatus.PENDING:  # stays queued until then
                    due = now + timedelta(seconds=decision.wait)
                    outbox.queue_reply(session, stored, contact.id, due)
                    continue
                if decision.status is DeliveryStatus.DEFERRED:  # until the citizen writes
                    outbox.queue_reply(
                        session,
                        stored,
                        contact.id,
                        WHEN_THEY_WRITE,
                        DeliveryStatus.DEFERRED,
                        stored.error,
                    )
                    continue
                stored.status = MessageStatus.FAILED
                if decision.unreachable:
                    await set_reachable(session, contact, False)
