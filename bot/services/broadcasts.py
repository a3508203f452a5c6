"""Broadcasting an explanation to its subscribers: the message, the plan written in batches
of contact ids (one outbox delivery per recipient), and the delivery report."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.channels import Button, Card, defer_reason
from bot.domain.actors import Actor
from bot.domain.delivery import DeliveryStatus
from bot.domain.explanations import source_line
from bot.errors import Forbidden, NotFound
from bot.store import broadcasts as store
from bot.store.db import Database
from bot.store.explanations import topic_names
from bot.store.models import Broadcast, Explanation

PLAN_BATCH = 50_000  # deliveries per planning transaction (about 0.1 s of SQLite writing)
# A range of contact ids widens up to this many batches when few of them match (a regional
# broadcast): the transaction still writes about a batch, in fewer round trips.
MAX_STRETCH = 16
RESUME_AFTER = timedelta(minutes=1)  # a plan untouched this long was cut short: resume it
STOP_LINE = "Gõ “hủy nhận tin” để dừng nhận tin."


def broadcast_text(explanation: Explanation, topic_names: list[str]) -> str:
    """The message: title, summary, source; one line on why it arrives and how to stop."""
    lines = [explanation.title]
    if explanation.summary:
        lines += ["", explanation.summary]
    source = source_line(explanation.source_document, explanation.source_url)
    if source:
        lines += ["", source]
    why = ", ".join(f"“{name}”" for name in topic_names) or "chính sách mới"
    lines += ["", f"Anh/chị nhận tin này vì đã đăng ký nhận tin về {why}. {STOP_LINE}"]
    return "\n".join(lines)


def broadcast_card(explanation: Explanation, topic_names: list[str]) -> Card:
    """The same message as a card (a Zalo promotion message beyond the reply window): the
    title, the summary, the source, why it arrives and how to stop, and two buttons that
    open the conversation (ask about it, stop receiving)."""
    source = source_line(explanation.source_document, explanation.source_url)
    why = ", ".join(f"“{name}”" for name in topic_names) or "chính sách mới"
    return Card(
        title=explanation.title,
        lines=tuple(line for line in (explanation.summary, source) if line),
        footer=f"Anh/chị nhận tin này vì đã đăng ký nhận tin về {why}. {STOP_LINE}",
        buttons=(
            Button("Xem giải trình", explanation.title[:200]),
            Button("Hủy nhận tin", "/unsubscribe"),
        ),
    )


def next_width(batch: int, width: int, added: int) -> int:
    """The next range of contact ids: as wide as should give about `batch` deliveries at the
    rate the last range matched, between one batch and MAX_STRETCH batches of ids."""
    wanted = width * batch // max(added, 1)
    return max(batch, min(batch * MAX_STRETCH, wanted))


async def plan_in_batches(db: Database, broadcast_id: int, batch: int = PLAN_BATCH) -> int:
    """Write a broadcast's deliveries range of contact ids by range, each range in its own
    transaction that also moves `planned_upto`: a big broadcast never holds the database's
    write lock for long (SQLite has one writer, and inbound messages are stored first), and
    a plan cut short by a crash resumes where it stopped. Only the planner whose
    conditional UPDATE moves the cursor writes a range, so two planners never both do.
    Returns the recipients counted so far (all of them once the plan is complete)."""
    async with db.session() as session:
        broadcast = await session.get(Broadcast, broadcast_id)
        if broadcast is None:
            raise NotFound("Không tìm thấy đợt gửi.", code="broadcast_not_found")
        explanation = await session.get(Explanation, broadcast.explanation_id)
        assert explanation is not None
        if broadcast.planned_at is not None:
            return broadcast.recipients
        if not broadcast.text:
            names = await topic_names(session, explanation.topics or [])
            broadcast.text = broadcast_text(explanation, names)
            broadcast.card = broadcast_card(explanation, names).as_json()
        top = await store.last_contact_id(session)
        # A second broadcast of the same version skips whoever had the first.
        resend = await store.sent_before(session, explanation.id, broadcast_id)
        cursor = broadcast.planned_upto
    width = batch
    while explanation.topics and cursor < top:
        upto = min(top, cursor + width)
        async with db.session() as session:
            added = await plan_one_range(session, broadcast_id, explanation, cursor, upto, resend)
        if added is None:
            break  # another planner has it
        width = next_width(batch, upto - cursor, added)
        cursor = upto
    async with db.session() as session:
        if cursor >= top or not explanation.topics:
            await store.finish_plan(session, broadcast_id)
        return await store.recipients(session, broadcast_id)


async def plan_one_range(
    session: AsyncSession,
    broadcast_id: int,
    explanation: Explanation,
    cursor: int,
    upto: int,
    resend: bool = False,
) -> int | None:
    """In the session's transaction: take the range of contact ids (cursor, upto], write
    its deliveries, count them and record the ids they got on the broadcast; None when
    another planner moved the cursor first."""
    if not await store.take_range(session, broadcast_id, cursor, upto):
        return None
    ids_after = await store.last_delivery_id(session)
    added = await store.plan_range(session, broadcast_id, explanation, cursor, upto, resend)
    await store.add_recipients(session, broadcast_id, added, ids_after)
    return added


@dataclass
class BroadcastReport:
    """Where a broadcast's deliveries stand."""

    id: int
    recipients: int
    by_status: dict[DeliveryStatus, int] = field(default_factory=dict)
    failed_reasons: dict[str, int] = field(default_factory=dict)
    # Held back by the platform's rules, by reason ("quota", "kind_disabled", "window").
    deferred_reasons: dict[str, int] = field(default_factory=dict)
    received: int = 0  # the platform's receipts (Zalo): delivered to the phone
    seen: int = 0  # and opened
    first_sent_at: str | None = None
    last_sent_at: str | None = None
    # When it goes (None: at once) and whether its deliveries exist yet (for the console).
    send_at: datetime | None = None
    planned: bool = True

    def as_json(self) -> dict[str, Any]:
        """JSON for the API and CLI."""
        count = self.by_status.get
        return {
            "id": self.id,
            "recipients": self.recipients,
            "pending": count(DeliveryStatus.PENDING, 0) + count(DeliveryStatus.SENDING, 0),
            "sent": count(DeliveryStatus.SENT, 0),
            "failed": count(DeliveryStatus.FAILED, 0),
            "blocked": count(DeliveryStatus.BLOCKED, 0),
            # The worker stopped mid-send: maybe delivered, never resent (at most once).
            "unknown": count(DeliveryStatus.UNKNOWN, 0),
            "deferred": count(DeliveryStatus.DEFERRED, 0),
            "received": self.received,
            "seen": self.seen,
            "failed_reasons": self.failed_reasons,
            "deferred_reasons": self.deferred_reasons,
            "first_sent_at": self.first_sent_at,
            "last_sent_at": self.last_sent_at,
        }


async def broadcast_report(
    db: Database, broadcast_id: int, viewer: Actor | None = None
) -> BroadcastReport:
    """Counts by status, failures and deferrals by reason, receipts (received, seen), and
    when sending started and ended; staff of another agency than the explanation's are
    refused (403 `other_agency`)."""
    async with db.session() as session:
        broadcast = await session.get(Broadcast, broadcast_id)
        if broadcast is None:
            raise NotFound("Không tìm thấy đợt gửi.", code="broadcast_not_found")
        if viewer is not None and not viewer.sees_every_agency:
            explanation = await session.get(Explanation, broadcast.explanation_id)
            if explanation is None or explanation.agency_id != viewer.agency_id:
                raise Forbidden("Đợt gửi thuộc cơ quan khác.", code="other_agency")
        if broadcast.recipients and broadcast.delivery_ids_upto is None:
            await store.record_range(session, broadcast)  # planned by an older release
        by_status = await store.count_by_status(session, broadcast)
        reasons = await store.failure_reasons(session, broadcast)
        first, last = await store.sending_span(session, broadcast)
        deferred: Counter[str] = Counter()
        for reason, n in (await store.deferred_reasons(session, broadcast)).items():
            deferred[defer_reason(reason)] += n
        received, seen = await store.receipts(session, broadcast)
        return BroadcastReport(
            broadcast.id,
            broadcast.recipients,
            by_status=by_status,
            failed_reasons=reasons,
            deferred_reasons=dict(deferred),
            received=received,
            seen=seen,
            first_sent_at=first.isoformat() if first else None,
            last_sent_at=last.isoformat() if last else None,
            send_at=broadcast.send_at,
            planned=broadcast.planned_at is not None,
        )
