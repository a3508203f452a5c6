"""Keeping the storage promises in both stores: the gateway's messages and the engine's
tracker (texts and slot values of every turn).

The engine appends only the events it has not stored yet for a sender's session, so its
rows cannot be deleted during a turn: a use case that must forget a dialogue (a cancelled
form, an erase request) erases the gateway's copies at once and queues the sender id;
`after_turn`, called by the message flow once the engine's turn is stored, moves the
conversation to a fresh sender id and deletes the old id's events. The retention job
(`purge_expired`, supervised by `run`, or `giaitrinh privacy purge` from cron) erases what
is older than the retention period.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.privacy import ErasureReason
from bot.services.loops import LoopState, supervise
from bot.store import contacts
from bot.store import privacy as store
from bot.store.db import Database
from bot.store.models import Conversation, utcnow
from bot.store.tracker import TrackerStore

log = structlog.get_logger(__name__)

DEFAULT_RETENTION_DAYS = 365
# A forget request whose turn never finished (the process stopped) is carried out once its
# conversation has been quiet this long and has nothing waiting for the engine.
STALE_RESTART = timedelta(minutes=10)
BATCH = 500


@dataclass(frozen=True, slots=True)
class PrivacyConfig:
    """What the privacy use cases need beside the gateway's database."""

    tracker: TrackerStore
    retention_days: int = DEFAULT_RETENTION_DAYS


# The app factory pairs its database with the engine's tracker store, so the message flow
# and the actions, which only hold the database, reach the same tracker.
_configs: weakref.WeakKeyDictionary[Database, PrivacyConfig] = weakref.WeakKeyDictionary()


def configure(db: Database, tracker_db_url: str, days: int = DEFAULT_RETENTION_DAYS) -> None:
    """Pair a gateway database with its engine's tracker store and retention period."""
    _configs[db] = PrivacyConfig(TrackerStore(tracker_db_url), days)


async def close(db: Database) -> None:
    """Release the tracker store paired with this database (on shutdown)."""
    config = _configs.pop(db, None)
    if config is not None:
        await config.tracker.dispose()


def retention_days(db: Database) -> int:
    """The retention period of messages, in days."""
    config = _configs.get(db)
    return config.retention_days if config else DEFAULT_RETENTION_DAYS


async def forget_form(db: Database, sender: str, messages: int) -> int:
    """A case form ended without a case: erase the `messages` latest inbound messages the
    engine read (the form's, the current one included) with the bot's replies to them, and
    have the engine forget the dialogue after this turn. Returns how many rows were erased."""
    async with db.session() as session:
        conversation = await contacts.conversation_for_sender(session, sender)
        if conversation is None:
            return 0
        ids = await store.form_messages(session, conversation.id, messages)
        erased = await store.redact(session, ids, utcnow(), with_replies=True)
        store.add_erasure(session, conversation.id, sender, ErasureReason.FORM_CANCELLED)
    log.info("form_forgotten", conversation_id=conversation.id, messages=erased)
    return erased


async def asked_to_forget(session: AsyncSession, conversation_id: int) -> bool:
    """Whether the turn just stored asked to forget the dialogue (then `after_turn`)."""
    return bool(await store.waiting_restarts(session, conversation_id))


async def after_turn(db: Database, conversation_id: int) -> None:
    """After the engine's turn is stored, when it asked to forget the dialogue (the message
    flow looks with `asked_to_forget` in the unit of work that stores the turn): move the
    conversation to a fresh sender id and delete the old one's tracker events. Never
    raises (what is left is retried by the retention loop)."""
    try:
        async with db.session() as session:
            waiting = await store.waiting_restarts(session, conversation_id)
            for row in waiting:  # the queued rows become ready: their sender is retired
                await store.retire_sender(session, row.conversation_id, row.engine_sender)
        if waiting:
            await flush(db)
    except Exception as exc:  # the citizen's turn is answered either way
        log.warning(
            "after_turn_erasure_failed", conversation_id=conversation_id, error=type(exc).__name__
        )


async def flush(db: Database) -> int:
    """Delete the tracker events that are queued and safe to delete now; returns how many
    erasures were carried out (none when no tracker store is configured)."""
    config = _configs.get(db)
    if config is None:
        return 0
    tracker = config.tracker
    done = 0
    while True:
        async with db.session() as session:
            rows = [
                (row.id, row.engine_sender, row.before)
                for row in await store.ready_erasures(session, BATCH)
            ]
        if not rows:
            return done
        await tracker.delete_senders([sender for _, sender, before in rows if before is None])
        for _, sender, before in rows:
            if before is not None:
                await tracker.delete_before(sender, before)
        async with db.session() as session:
            await store.drop_erasures(session, [row_id for row_id, _, _ in rows])
        done += len(rows)


async def _restart_stale(db: Database, now: datetime) -> int:
    """Carry out forget requests whose turn never reached `after_turn`."""
    async with db.session() as session:
        stale = await store.waiting_restarts(session, requested_before=now - STALE_RESTART)
        moved = 0
        for row in stale:
            moved += await store.retire_sender(
                session, row.conversation_id, row.engine_sender, now - STALE_RESTART
            )
    return moved


@dataclass(frozen=True, slots=True)
class PurgeReport:
    """What one retention round erased."""

    messages: int
    conversations_restarted: int
    question_gaps: int
    tracker_erasures: int

    def as_json(self) -> dict[str, int]:
        """For the CLI."""
        return {
            "messages": self.messages,
            "conversations_restarted": self.conversations_restarted,
            "question_gaps": self.question_gaps,
            "tracker_erasures": self.tracker_erasures,
        }


async def purge_expired(db: Database, now: datetime | None = None) -> PurgeReport:
    """Erase message texts older than the retention period (batch by batch, one short
    transaction each) and the engine's events of the same age: a conversation quiet for the
    whole period moves to a fresh sender id and loses its tracker; a live one loses its
    older sessions. Old unanswered questions go too. Cases are kept under their own rule."""
    config = _configs[db]
    now = now or utcnow()
    cutoff = now - timedelta(days=config.retention_days)
    messages = restarted = 0
    seen: set[int] = set()
    while True:
        async with db.session() as session:
            expired = await store.expired_messages(session, cutoff, BATCH)
            if not expired:
                break
            messages += await store.redact(session, [m for m, _ in expired], now)
            for conversation_id in sorted({c for _, c in expired} - seen):
                seen.add(conversation_id)
                conversation = await session.get(Conversation, conversation_id)
                assert conversation is not None
                sender = conversation.engine_sender
                if await store.retire_sender(session, conversation_id, sender, cutoff):
                    restarted += 1
                    store.add_erasure(session, conversation_id, sender, ErasureReason.RETENTION)
                else:  # still in use: only the sessions older than the period go
                    store.add_erasure(
                        session, conversation_id, sender, ErasureReason.RETENTION, cutoff
                    )
    async with db.session() as session:
        gaps = await store.delete_old_gaps(session, cutoff)
    restarted += await _restart_stale(db, now)
    erasures = await flush(db)
    report = PurgeReport(messages, restarted, gaps, erasures)
    if messages or gaps or erasures:
        log.info("retention_purge", **report.as_json())
    return report


async def run(db: Database, interval: float, state: LoopState) -> None:
    """Background job: the retention purge of the configured database every `interval`
    seconds (supervised, state in `state` for /healthz)."""

    async def round_() -> None:
        await purge_expired(db)

    await supervise(state, round_, interval)
