"""The message flow of DESIGN.md steps 1-7: store first, dedupe, order, engine, reply, retry.

The queries live in bot/store (messages.py, contacts.py); what a send's outcome means for a
reply is the delivery policy of bot/domain/delivery.py, the same one the outbox applies.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import structlog
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.channels import (
    ChannelRegistry,
    InboundMessage,
    OutboundMessage,
    Recipient,
)
from bot.domain.messages import ConversationMode, MessageStatus
from bot.engine import EngineClient
from bot.errors import EngineRefused, EngineUnavailable
from bot.metrics import NO_METRICS, Inbound, Metrics
from bot.services import privacy
from bot.services.dispatch import Dispatcher
from bot.services.leases import ConversationLocks, Lease
from bot.services.loops import LoopState, supervise
from bot.services.replies import Replies
from bot.services.subscriptions import set_reachable
from bot.store import contacts, messages
from bot.store import deferred as deferred_rows
from bot.store.db import Database
from bot.store.models import Conversation, Message, utcnow

log = structlog.get_logger(__name__)

APOLOGY = (
    "Xin lỗi anh/chị, hệ thống trả lời tự động đang tạm gián đoạn. Tin nhắn của anh/chị "
    "đã được ghi nhận và sẽ được trả lời ngay khi hệ thống hoạt động trở lại."
)
QUOTE_CHARS = 60
FRESH = timedelta(seconds=5)  # a message younger than this is its receiving gateway's


def not_handled_text(text: str) -> str:
    """What the citizen reads once when the engine kept refusing one of their messages:
    which message, and what to do instead (that message is not tried again)."""
    quoted = " ".join(text.split())
    if len(quoted) > QUOTE_CHARS:
        quoted = quoted[: QUOTE_CHARS - 1].rstrip() + "…"
    which = f"tin nhắn “{quoted}”" if quoted else "tin nhắn vừa rồi"
    return (
        f"Xin lỗi anh/chị, hệ thống chưa xử lý được {which} của anh/chị. Anh/chị vui lòng "
        "gửi lại với cách diễn đạt khác, hoặc nhắn “gặp cán bộ” để được hỗ trợ."
    )


@dataclass(frozen=True, slots=True)
class Turn:
    """A message for the engine, with what it is sent and where the answer goes."""

    conversation_id: int
    message_id: int
    sender: str
    text: str
    metadata: dict[str, Any]
    recipient: Recipient


@dataclass(frozen=True, slots=True)
class Receipt:
    """Where an inbound message was stored, and whether it had been stored before."""

    message_id: int
    conversation_id: int
    duplicate: bool


class MessageFlow:
    """Takes inbound messages from any channel through the engine and back out."""

    def __init__(
        self,
        db: Database,
        engine: EngineClient,
        channels: ChannelRegistry,
        engine_max_chars: int = 2000,
        engine_max_attempts: int = 3,
        lease_s: float = 15.0,
        background_turns: int = 32,
        metrics: Metrics = NO_METRICS,
    ) -> None:
        self._db = db
        self._engine = engine
        self._channels = channels
        self._metrics = metrics
        self._replies = Replies(db, channels, metrics)
        self._engine_max_chars = engine_max_chars
        self._engine_max_attempts = engine_max_attempts
        # One turn-taker per conversation, in this process and between processes.
        self._locks = ConversationLocks(db, timedelta(seconds=lease_s))
        self._tasks: set[asyncio.Task[bool]] = set()
        self._again: dict[int, bool] = {}  # scheduled conversations: look again when done?
        self._slots = asyncio.Semaphore(background_turns)
        self.retry_loop = LoopState("engine_retry")
        # Sends what waited for a citizen, in order, before the bot's answer (no spacing).
        self._waiting = Dispatcher(db, channels, concurrency=1, lanes=1, metrics=metrics)

    # -- steps 1-2: store first, once ------------------------------------------------------

    async def receive(self, inbound: InboundMessage) -> Receipt:
        """Store the message before anything else; a second delivery of it is recognised."""
        for _attempt in range(3):
            try:
                async with self._db.session() as session:
                    existing = await messages.find_by_external_id(
                        session, inbound.channel, inbound.external_id
                    )
                    if existing is not None:
                        receipt = Receipt(existing.id, existing.conversation_id, duplicate=True)
                    else:
                        conversation = await self._conversation_for(session, inbound)
                        message = await messages.add_inbound(session, conversation.id, inbound)
                        receipt = Receipt(message.id, conversation.id, duplicate=False)
            except IntegrityError:
                # A concurrent delivery of the same message (or first message of the same
                # contact) won the insert; the next attempt finds its row.
                continue
            # Counted once committed: a message is "stored" only when it is.
            outcome = Inbound.DUPLICATE if receipt.duplicate else Inbound.STORED
            self._metrics.inbound(inbound.channel, outcome)
            return receipt
        raise RuntimeError("could not store inbound message after concurrent retries")

    @staticmethod
    async def _conversation_for(session: AsyncSession, inbound: InboundMessage) -> Conversation:
        """The sender's current conversation; a first message creates contact and
        conversation, a later one marks the contact seen (and reachable) again."""
        contact = await contacts.find_contact(session, inbound.channel, inbound.channel_user_id)
        now = utcnow()
        if contact is None:
            contact = await contacts.add_contact(
                session,
                inbound.channel,
                inbound.channel_user_id,
                inbound.display_name,
                inbound.locale,
            )
        else:
            contact.last_seen_at = now
            await set_reachable(session, contact, True)
        conversation = await contacts.current_conversation(session, contact.id)
        conversation.updated_at = now
        return conversation

    # -- steps 3-6: one at a time, in order, through the engine ---------------------------

    async def process_conversation(self, conversation_id: int) -> bool:
        """Hand this conversation's pending messages to the engine, oldest first.

        Returns False when the engine is unavailable (messages stay pending) or refused the
        oldest message fewer than `engine_max_attempts` times (the retry loop tries again);
        a message refused that many times is set aside as failed and the next one goes on.
        Only the holder of the conversation's lease does this; a process that finds another
        holding it leaves its messages to it: the holder looks again before letting go.
        """
        async with self._locks.turns(conversation_id) as lease:
            return await self._take_turns(conversation_id, lease)

    async def _take_turns(self, conversation_id: int, lease: Lease) -> bool:
        """process_conversation in this process's turn; a turn's engine call is the only
        wait outside a unit of work: the lease is taken where the first message is read,
        and each answer is stored where the next message is read (or the lease let go)."""
        async with self._db.session() as session:
            if not await lease.take(session):
                return True
            waiting_contact = await deferred_rows.waiting_for(session, conversation_id)
            turn = await self._next_or_release(session, lease)
        if waiting_contact is not None:  # deferred for this citizen: goes first
            count = await self._waiting.deliver_waiting(waiting_contact)
            log.info("waiting_deliveries_sent", conversation_id=conversation_id, count=count)
        while turn is not None:
            if lease.lost:  # another process took over (this one stalled)
                return True
            try:
                # A turn the previous holder handed the engine but died before storing: its
                # answer is in the engine's tracker, and the engine must not take it twice.
                replayed = None
                if lease.took_over:
                    replayed = await self._engine.replay(turn.sender, turn.message_id)
                    lease.took_over = False
                answer = replayed or await self._engine.send(turn.sender, turn.text, turn.metadata)
            except EngineUnavailable as exc:
                log.warning(
                    "engine_unavailable", conversation_id=conversation_id, reason=exc.message
                )
                await self._apologize(conversation_id, turn.recipient)
                return False
            except EngineRefused as exc:
                if not await self._refused(turn.message_id, turn.recipient, exc.message):
                    return False
                async with self._db.session() as session:  # set aside: on to the next
                    turn = await self._next_or_let_go(session, lease)
                continue
            turn = await self._store_turn(turn, answer.replies, lease)
        return True

    async def _store_turn(
        self, turn: Turn, replies: Sequence[OutboundMessage], lease: Lease
    ) -> Turn | None:
        """Store the engine's answer and send it; the next turn (None: nothing more)."""
        conversation_id = turn.conversation_id
        async with self._db.session() as session:
            await messages.mark_processed(session, turn.message_id, utcnow())
            rows = self._replies.rows(conversation_id, turn.recipient, turn.message_id, replies)
            session.add_all(rows)
            forget = await privacy.asked_to_forget(session, conversation_id)
            # Replies to push, or a dialogue to forget (a new sender id), come before the
            # next turn; otherwise the next message is read right here.
            settled = not forget and not self._replies.to_send(rows)
            following = await self._next_or_let_go(session, lease) if settled else None
        await self._replies.deliver(rows, turn.recipient)
        if forget:
            await privacy.after_turn(self._db, conversation_id)
        if settled:
            return following
        async with self._db.session() as session:
            return await self._next_or_let_go(session, lease)

    async def _next_or_let_go(self, session: AsyncSession, lease: Lease) -> Turn | None:
        """The next turn while the lease is still this process's, else let it go (None).

        The renewal comes first and locks the conversation's row on PostgreSQL, which storing
        a message also writes: a message stored by another process before this unit of work
        is seen here; one stored after it finds the lease free, and its receiver takes it."""
        if not await lease.renew(session):
            return None
        return await self._next_or_release(session, lease)

    async def _next_or_release(self, session: AsyncSession, lease: Lease) -> Turn | None:
        """The next turn, or the lease let go when there is none."""
        turn = await self._next_turn(session, lease.conversation_id)
        if turn is None:
            await lease.release(session)
        return turn

    async def _next_turn(self, session: AsyncSession, conversation_id: int) -> Turn | None:
        """The conversation's next message for the engine, with what the engine is sent;
        messages that need no engine (an operator has the conversation, nothing readable)
        are settled on the way."""
        while True:
            message = await messages.next_pending(session, conversation_id)
            if message is None:
                return None
            conversation, contact = await contacts.conversation_with_contact(
                session, conversation_id
            )
            if conversation.mode is ConversationMode.OPERATOR:
                message.status = MessageStatus.HANDED_OFF
                continue
            payload = await messages.resolve_button_ref(session, message.payload, conversation_id)
            engine_text = payload or message.text[: self._engine_max_chars]
            if not engine_text.strip():
                # Nothing the engine can read (a sticker, an expired button).
                message.status = MessageStatus.PROCESSED
                continue
            metadata: dict[str, Any] = {
                # No contact id: actions find the contact from the sender id
                # (bot/services/senders.py), never from metadata.
                "channel": contact.channel,
                "locale": contact.locale,
                # References only (image URL/file id, coordinates): a petition form
                # attaches what arrived while it was open.
                "attachments": message.attachments or [],
                # Ours, so an operator's transcript shows what the bot understood.
                "message_id": message.id,
            }
            channel = self._channels.find(contact.channel)
            if channel is not None:  # how many choices the actions may offer as buttons
                metadata["max_buttons"] = channel.capabilities.max_buttons
            recipient = await contacts.recipient_for(session, contact, self._channels.with_window())
            return Turn(
                conversation_id, message.id, conversation.engine_sender, engine_text, metadata,
                recipient,
            )  # fmt: skip

    async def _refused(self, message_id: int, recipient: Recipient, reason: str) -> bool:
        """Count one refusal of a message; at `engine_max_attempts` set it aside as failed
        (the reason stays on the row for operators) and tell the citizen once. True when
        it was set aside."""
        async with self._db.session() as session:
            stored = await session.get(Message, message_id)
            assert stored is not None
            stored.attempts += 1
            stored.error = reason[:500]
            log.warning(
                "engine_refused",
                conversation_id=stored.conversation_id,
                message_id=message_id,
                attempts=stored.attempts,
                reason=reason,
            )
            if stored.attempts < self._engine_max_attempts:
                return False
            stored.status = MessageStatus.FAILED
            stored.processed_at = utcnow()
            notice = OutboundMessage(text=not_handled_text(stored.text))
            rows = self._replies.rows(
                stored.conversation_id, recipient, message_id, [notice], kind="not_handled"
            )
            session.add_all(rows)
        await self._replies.deliver(rows, recipient)
        return True

    # -- step 7: the engine is down ----------------------------------------------------------

    async def _apologize(self, conversation_id: int, recipient: Recipient) -> None:
        """Tell the citizen once per waiting message that it is kept and will be answered."""
        async with self._db.session() as session:
            waiting = await messages.pending_unacknowledged(session, conversation_id)
            if not waiting:
                return
            now = utcnow()
            for message in waiting:
                message.apologized_at = now
            rows = self._replies.rows(
                conversation_id,
                recipient,
                waiting[-1].id,
                [OutboundMessage(text=APOLOGY)],
                kind="apology",
            )
            session.add_all(rows)
        await self._replies.deliver(rows, recipient)

    def schedule(self, conversation_id: int) -> None:
        """Process a conversation in the background (webhooks answer the platform first).
        One task per conversation: a message stored while it runs makes it look again; at
        most `background_turns` run at once, so a flood of webhooks is stored first."""
        if conversation_id in self._again:
            self._again[conversation_id] = True
            return
        self._again[conversation_id] = False
        task = asyncio.create_task(self._in_background(conversation_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        task.add_done_callback(_log_failure)

    async def _in_background(self, conversation_id: int) -> bool:
        try:
            async with self._slots:
                while True:
                    self._again[conversation_id] = False
                    done = await self.process_conversation(conversation_id)
                    if not done or not self._again[conversation_id]:
                        return done
        finally:
            del self._again[conversation_id]

    async def drain(self) -> None:
        """Wait for background processing (on shutdown and in tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def retry_pending(self) -> int:
        """Process conversations whose messages wait for the engine; returns how many ran."""
        # Several gateways: a message just stored is left to the gateway that received it
        # (it answers it in its reply, and a web page sees the answer at once).
        async with self._db.session(read_only=True) as session:
            stored_before = utcnow() - FRESH
            conversation_ids = await messages.conversations_with_pending(session, stored_before)
        if not conversation_ids or not await self._engine.is_ready():
            return 0
        for conversation_id in conversation_ids:
            await self.process_conversation(conversation_id)
        return len(conversation_ids)

    async def _retry_round(self) -> None:
        count = await self.retry_pending()
        if count:
            log.info("queued_messages_retried", conversations=count)

    async def run_retry_loop(self, interval: float) -> None:
        """Background task: keep trying queued messages until the app stops (supervised,
        state in `self.retry_loop`; the first round waits one interval)."""
        await supervise(self.retry_loop, self._retry_round, interval, first_wait=True)


def _log_failure(task: asyncio.Task[bool]) -> None:
    """A background turn that raised is logged (its messages wait for the retry loop)."""
    if not task.cancelled() and (exc := task.exception()) is not None:
        log.error("conversation_processing_failed", error=type(exc).__name__, exc_info=exc)
