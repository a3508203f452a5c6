"""Publishing policy explanations (versioned) and planning their broadcast to subscribers."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import structlog
from sqlalchemy import (
    JSON,
    Integer,
    String,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    union,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from bot.domain.explanations import source_line
from bot.domain.localities import COUNTRY, by_code
from bot.errors import InvalidInput, NotFound
from bot.store.agencies import primary_agency
from bot.store.db import Database
from bot.store.models import (
    Broadcast,
    Contact,
    Delivery,
    Explanation,
    Subscription,
    Topic,
    UTCDateTime,
    utcnow,
)
from nlu.text import fold

log = structlog.get_logger(__name__)

PLAN_BATCH = 50_000  # contact ids per planning transaction (about 0.1 s of SQLite writing)
RESUME_AFTER = timedelta(minutes=1)  # a plan untouched this long was cut short: resume it
VIETNAM = timezone(timedelta(hours=7), "ICT")
STOP_LINE = "Gõ “hủy nhận tin” để dừng nhận tin."


@dataclass(frozen=True, slots=True)
class ExplanationSpec:
    """What an officer publishes."""

    title: str
    body: str
    summary: str = ""
    source_document: str = ""
    source_url: str = ""
    topics: tuple[str, ...] = ()
    localities: tuple[str, ...] = (COUNTRY,)
    slug: str = ""
    publish_at: datetime | None = None  # None: now


@dataclass(frozen=True, slots=True)
class Published:
    """The stored version and its broadcast (planned now, or at `scheduled_for`)."""

    slug: str
    version: int
    broadcast_id: int
    recipients: int
    scheduled_for: datetime | None = None

    def as_json(self) -> dict[str, Any]:
        """JSON for the API and CLI."""
        return {
            "slug": self.slug,
            "version": self.version,
            "scheduled_for": self.scheduled_for.isoformat() if self.scheduled_for else None,
            "broadcast": {"id": self.broadcast_id, "recipients": self.recipients},
        }


def slugify(title: str) -> str:
    """A URL-safe slug from a Vietnamese title."""
    return re.sub(r"[^a-z0-9]+", "-", fold(title)).strip("-")[:100] or "giai-trinh"


def spec_from_json(body: dict[str, Any]) -> ExplanationSpec:
    """Validate an API/CLI payload into a spec (clear errors, nothing stored)."""

    def text(name: str, limit: int, required: bool = False) -> str:
        value = body.get(name, "")
        if not isinstance(value, str):
            raise InvalidInput(f"'{name}' must be text.", code="invalid_body")
        value = value.strip()
        if required and not value:
            raise InvalidInput(f"'{name}' is required.", code="invalid_body")
        if len(value) > limit:
            raise InvalidInput(f"'{name}' is longer than {limit} characters.", code="too_long")
        return value

    def codes(name: str, default: list[str]) -> tuple[str, ...]:
        value = body.get(name, default)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise InvalidInput(f"'{name}' must be a list of strings.", code="invalid_body")
        return tuple(dict.fromkeys(value))

    localities = codes("localities", [COUNTRY]) or (COUNTRY,)
    for code in localities:
        if code != COUNTRY and by_code(code) is None:
            raise InvalidInput(f"Unknown locality {code!r}.", code="invalid_locality")
    return ExplanationSpec(
        publish_at=_publish_time(body.get("publish_at")),
        title=text("title", 300, required=True),
        body=text("body", 50_000, required=True),
        summary=text("summary", 1000),
        source_document=text("source_document", 300),
        source_url=text("source_url", 500),
        topics=codes("topics", []),
        localities=localities,
        slug=text("slug", 120),
    )


def _publish_time(value: Any) -> datetime | None:
    """ISO 8601 (or a YAML timestamp); without an offset it is Vietnam time (UTC+7)."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError as exc:
            raise InvalidInput(
                "'publish_at' must be a date and time such as 2026-12-01T08:00+07:00.",
                code="invalid_publish_at",
            ) from exc
    if not isinstance(value, datetime):
        raise InvalidInput("'publish_at' must be a date and time.", code="invalid_publish_at")
    if value.tzinfo is None:
        value = value.replace(tzinfo=VIETNAM)
    moment: datetime = value.astimezone(UTC)
    return moment


async def publish(db: Database, spec: ExplanationSpec, author: str) -> Published:
    """Store a new version (the old one stays readable) and its broadcast in one
    transaction, then plan the broadcast in batches (`plan_in_batches`).

    With a publish time in the future the version waits, not current and not searchable,
    and `release_scheduled` makes it current and plans its broadcast when the time comes
    (for the subscribers of that day)."""
    slug = slugify(spec.slug or spec.title)
    async with db.session() as session:
        known = set((await session.execute(select(Topic.slug))).scalars())
        unknown = [t for t in spec.topics if t not in known]
        if unknown:
            raise InvalidInput(f"Unknown topics: {', '.join(unknown)}", code="invalid_topic")
        agency = await primary_agency(session)
        now = utcnow()
        later = spec.publish_at is not None and spec.publish_at > now
        current = await _current_locked(session, slug)
        latest = await session.scalar(
            select(func.max(Explanation.version)).where(Explanation.slug == slug)
        )
        version = int(latest or 0) + 1
        if current is not None and not later:
            current.is_current = False
            await session.flush()
        explanation = Explanation(
            agency_id=agency.id,
            slug=slug,
            version=version,
            is_current=not later,
            published_at=spec.publish_at if later else now,
            title=spec.title,
            summary=spec.summary,
            body=spec.body,
            source_document=spec.source_document,
            source_url=spec.source_url,
            topics=list(spec.topics),
            localities=list(spec.localities),
        )
        session.add(explanation)
        await session.flush()
        broadcast = Broadcast(
            explanation_id=explanation.id, created_by=author, send_at=explanation.published_at
        )
        session.add(broadcast)
        await session.flush()
        broadcast_id = broadcast.id
    if later:
        return Published(slug, version, broadcast_id, 0, explanation.published_at)
    return Published(slug, version, broadcast_id, await plan_in_batches(db, broadcast_id))


async def release_scheduled(db: Database, now: datetime | None = None) -> int:
    """Make due scheduled versions current and plan their broadcasts, and finish plans a
    crashed process left half done; returns how many broadcasts it released or resumed.

    A broadcast being planned right now by the process that published it is left alone
    (it is younger than RESUME_AFTER); two planners on one broadcast cannot both write a
    batch (see `plan_in_batches`). A version overtaken by a newer current one is not
    released."""
    now = now or utcnow()
    async with db.session() as session:
        due = (
            await session.execute(
                select(Broadcast.id)
                .where(
                    Broadcast.planned_at.is_(None),
                    Broadcast.send_at <= now,
                    or_(
                        Broadcast.send_at > Broadcast.created_at,
                        Broadcast.created_at < now - RESUME_AFTER,
                    ),
                )
                .order_by(Broadcast.id)
            )
        ).scalars()
        due_ids = list(due)
    released = 0
    for broadcast_id in due_ids:
        if await _go_live(db, broadcast_id, now):
            await plan_in_batches(db, broadcast_id)
            released += 1
    return released


async def _current_locked(session: AsyncSession, slug: str) -> Explanation | None:
    """The current version of a slug, locked until the transaction ends (one current)."""
    query = (
        select(Explanation)
        .where(Explanation.slug == slug, Explanation.is_current.is_(True))
        .with_for_update()
    )
    return (await session.execute(query)).scalar_one_or_none()


async def _go_live(db: Database, broadcast_id: int, now: datetime) -> bool:
    """Make a broadcast's version the current one (if it is not already); False when a
    newer version became current meanwhile (the broadcast is then closed unsent)."""
    async with db.session() as session:
        broadcast = await session.get(Broadcast, broadcast_id)
        assert broadcast is not None
        explanation = await session.get(Explanation, broadcast.explanation_id)
        assert explanation is not None
        if explanation.is_current:
            return True
        current = await _current_locked(session, explanation.slug)
        if current is not None and current.version > explanation.version:
            broadcast.planned_at = now
            log.warning("scheduled_version_overtaken", broadcast_id=broadcast_id)
            return False
        if current is not None:
            current.is_current = False
            await session.flush()
        explanation.is_current = True
        return True


async def send_again(db: Database, slug: str, author: str) -> Published:
    """`giaitrinh broadcast send`: broadcast the current version now, to matching
    subscribers who have not received any broadcast of this version yet."""
    async with db.session() as session:
        explanation = (
            await session.execute(
                select(Explanation).where(
                    Explanation.slug == slug, Explanation.is_current.is_(True)
                )
            )
        ).scalar_one_or_none()
        if explanation is None:
            raise NotFound("Không tìm thấy bài giải trình.", code="explanation_not_found")
        broadcast = Broadcast(explanation_id=explanation.id, created_by=author, send_at=utcnow())
        session.add(broadcast)
        await session.flush()
        broadcast_id, version = broadcast.id, explanation.version
    return Published(slug, version, broadcast_id, await plan_in_batches(db, broadcast_id))


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
            names = (
                await session.execute(
                    select(Topic.name).where(Topic.slug.in_(explanation.topics or []))
                )
            ).scalars()
            broadcast.text = broadcast_text(explanation, list(names))
        top = int(await session.scalar(select(func.coalesce(func.max(Contact.id), 0))) or 0)
        # A second broadcast of the same version skips whoever had the first.
        resend = bool(
            await session.scalar(
                select(
                    exists().where(
                        Broadcast.explanation_id == explanation.id, Broadcast.id < broadcast_id
                    )
                )
            )
        )
        cursor = broadcast.planned_upto
    while explanation.topics and cursor < top:
        upto = min(top, cursor + batch)
        async with db.session() as session:
            moved = await session.execute(
                update(Broadcast)
                .where(
                    Broadcast.id == broadcast_id,
                    Broadcast.planned_upto == cursor,
                    Broadcast.planned_at.is_(None),
                )
                .values(planned_upto=upto)
            )
            if moved.rowcount != 1:  # type: ignore[attr-defined]
                break  # another planner has it
            added = await plan_range(session, broadcast_id, explanation, cursor, upto, resend)
            await session.execute(
                update(Broadcast)
                .where(Broadcast.id == broadcast_id)
                .values(recipients=Broadcast.recipients + added)
            )
        cursor = upto
    async with db.session() as session:
        if cursor >= top or not explanation.topics:
            await session.execute(
                update(Broadcast)
                .where(Broadcast.id == broadcast_id, Broadcast.planned_at.is_(None))
                .values(planned_at=utcnow())
            )
        recipients = await session.scalar(
            select(Broadcast.recipients).where(Broadcast.id == broadcast_id)
        )
        return int(recipients or 0)


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


async def plan_range(
    session: AsyncSession,
    broadcast_id: int,
    explanation: Explanation,
    after: int,
    upto: int,
    skip_received: bool = False,
) -> int:
    """The deliveries for contacts with after < id <= upto, written by the database
    (INSERT ... SELECT); returns how many.

    A subscriber matches when the topic is one of the explanation's and the explanation
    targets the whole country, their locality, or their locality's province. Contacts with
    several matching subscriptions get one delivery (the select is over contacts, and a
    unique index on broadcast and contact backs it). The text is kept once, on the
    broadcast, not on every row.
    """
    now = utcnow()
    targets = list(explanation.localities)
    wanted = (Subscription.status == "active", Subscription.topic.in_(explanation.topics))
    # Selecting contacts (not subscriptions) gives each contact once without GROUP BY or a
    # sort; the shape keeps the same plan whether or not the database has statistics.
    subscribed: ColumnElement[bool]
    if COUNTRY in targets:  # most contacts match: one index probe per contact
        subscribed = exists().where(Subscription.contact_id == Contact.id, *wanted)
    else:  # few match: two index searches, (topic, locality) and (topic, province)
        in_range = (Subscription.contact_id > after, Subscription.contact_id <= upto)
        subscribed = Contact.id.in_(
            union(
                select(Subscription.contact_id).where(
                    *wanted, *in_range, Subscription.locality.in_(targets)
                ),
                select(Subscription.contact_id).where(
                    *wanted, *in_range, Subscription.province.in_(targets)
                ),
            )
        )
    matching = select(
        Contact.id,
        literal("broadcast", String),
        literal(broadcast_id, Integer),
        literal("", String),
        literal([], JSON),  # not cast('[]' AS JSON): SQLite reads that as the number 0
        literal("pending", String),
        literal(0, Integer),
        literal(now, UTCDateTime),
        literal(now, UTCDateTime),
    ).where(Contact.id > after, Contact.id <= upto, Contact.unreachable_at.is_(None), subscribed)
    if skip_received:  # an explicit resend: not to whoever already has this version
        earlier = aliased(Delivery)
        matching = matching.where(
            ~exists()
            .where(earlier.contact_id == Contact.id)
            .where(
                earlier.broadcast_id.in_(
                    select(Broadcast.id).where(
                        Broadcast.explanation_id == explanation.id, Broadcast.id != broadcast_id
                    )
                )
            )
        )
    result = await session.execute(
        insert(Delivery).from_select(
            [
                "contact_id",
                "kind",
                "broadcast_id",
                "text",
                "buttons",
                "status",
                "attempts",
                "next_attempt_at",
                "created_at",
            ],
            matching,
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def get_version(db: Database, slug: str, version: int | None = None) -> dict[str, Any]:
    """The current version of an explanation, or an older one by number."""
    async with db.session() as session:
        query = select(Explanation).where(Explanation.slug == slug)
        query = (
            query.where(Explanation.version == version)
            if version is not None
            else query.where(Explanation.is_current.is_(True))
        )
        row = (await session.execute(query)).scalar_one_or_none()
        if row is None:
            raise NotFound("Không tìm thấy bài giải trình.", code="explanation_not_found")
        return {
            "slug": row.slug,
            "version": row.version,
            "current": row.is_current,
            "title": row.title,
            "summary": row.summary,
            "body": row.body,
            "source_document": row.source_document,
            "source_url": row.source_url,
            "topics": row.topics,
            "localities": row.localities,
            "published_at": row.published_at.isoformat(),
        }


@dataclass
class BroadcastReport:
    """Where a broadcast's deliveries stand."""

    id: int
    recipients: int
    by_status: dict[str, int] = field(default_factory=dict)
    failed_reasons: dict[str, int] = field(default_factory=dict)
    first_sent_at: str | None = None
    last_sent_at: str | None = None

    def as_json(self) -> dict[str, Any]:
        """JSON for the API and CLI."""
        return {
            "id": self.id,
            "recipients": self.recipients,
            "pending": self.by_status.get("pending", 0) + self.by_status.get("sending", 0),
            "sent": self.by_status.get("sent", 0),
            "failed": self.by_status.get("failed", 0),
            "blocked": self.by_status.get("blocked", 0),
            # The worker stopped mid-send: maybe delivered, never resent (at most once).
            "unknown": self.by_status.get("unknown", 0),
            "failed_reasons": self.failed_reasons,
            "first_sent_at": self.first_sent_at,
            "last_sent_at": self.last_sent_at,
        }


async def broadcast_report(db: Database, broadcast_id: int) -> BroadcastReport:
    """Counts by status, failures by reason, and when sending started and ended."""
    async with db.session() as session:
        broadcast = await session.get(Broadcast, broadcast_id)
        if broadcast is None:
            raise NotFound("Không tìm thấy đợt gửi.", code="broadcast_not_found")
        report = BroadcastReport(broadcast.id, broadcast.recipients)
        rows = await session.execute(
            select(Delivery.status, func.count())
            .where(Delivery.broadcast_id == broadcast_id)
            .group_by(Delivery.status)
        )
        report.by_status = {status: int(n) for status, n in rows}
        reasons = await session.execute(
            select(Delivery.error, func.count())
            .where(
                Delivery.broadcast_id == broadcast_id, Delivery.status.in_(["failed", "blocked"])
            )
            .group_by(Delivery.error)
        )
        report.failed_reasons = {str(reason): int(n) for reason, n in reasons}
        first, last = (
            await session.execute(
                select(func.min(Delivery.sent_at), func.max(Delivery.sent_at)).where(
                    Delivery.broadcast_id == broadcast_id
                )
            )
        ).one()
        report.first_sent_at = first.isoformat() if first else None
        report.last_sent_at = last.isoformat() if last else None
        return report
