"""Publishing policy explanations (versioned) and planning their broadcast to subscribers."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import JSON, Integer, String, exists, func, insert, literal, select, union
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from bot.domain.localities import by_code
from bot.errors import InvalidInput, NotFound
from bot.store.db import Database
from bot.store.models import (
    Agency,
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

COUNTRY = "country"
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


@dataclass(frozen=True, slots=True)
class Published:
    """The stored version and its broadcast."""

    slug: str
    version: int
    broadcast_id: int
    recipients: int


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
        title=text("title", 300, required=True),
        body=text("body", 50_000, required=True),
        summary=text("summary", 1000),
        source_document=text("source_document", 300),
        source_url=text("source_url", 500),
        topics=codes("topics", []),
        localities=localities,
        slug=text("slug", 120),
    )


async def publish(db: Database, spec: ExplanationSpec, author: str) -> Published:
    """Store a new version (the old one stays readable) and plan its broadcast, atomically."""
    slug = slugify(spec.slug or spec.title)
    async with db.session() as session:
        known = set((await session.execute(select(Topic.slug))).scalars())
        unknown = [t for t in spec.topics if t not in known]
        if unknown:
            raise InvalidInput(f"Unknown topics: {', '.join(unknown)}", code="invalid_topic")
        agency = (await session.execute(select(Agency).order_by(Agency.id))).scalars().first()
        if agency is None:
            raise NotFound("No agency configured.", code="no_agency")
        current = (
            await session.execute(
                select(Explanation)
                .where(Explanation.slug == slug, Explanation.is_current.is_(True))
                .with_for_update()
            )
        ).scalar_one_or_none()
        version = 1
        if current is not None:
            current.is_current = False
            version = current.version + 1
            await session.flush()
        explanation = Explanation(
            agency_id=agency.id,
            slug=slug,
            version=version,
            is_current=True,
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
        broadcast = Broadcast(explanation_id=explanation.id, created_by=author)
        session.add(broadcast)
        await session.flush()
        recipients = await plan_broadcast(session, broadcast, explanation)
        broadcast.recipients = recipients
        return Published(slug, version, broadcast.id, recipients)


def broadcast_text(explanation: Explanation, topic_names: list[str]) -> str:
    """The message: title, summary, source; one line on why it arrives and how to stop."""
    lines = [explanation.title]
    if explanation.summary:
        lines += ["", explanation.summary]
    source = explanation.source_document
    if explanation.source_url:
        source = f"{source} – {explanation.source_url}" if source else explanation.source_url
    if source:
        lines += ["", f"Nguồn: {source}"]
    why = ", ".join(f"“{name}”" for name in topic_names) or "chính sách mới"
    lines += ["", f"Anh/chị nhận tin này vì đã đăng ký nhận tin về {why}. {STOP_LINE}"]
    return "\n".join(lines)


async def plan_broadcast(
    session: AsyncSession, broadcast: Broadcast, explanation: Explanation
) -> int:
    """One delivery per matching contact, written by the database (INSERT ... SELECT).

    A subscriber matches when the topic is one of the explanation's and the explanation
    targets the whole country, their locality, or their locality's province. Contacts with
    several matching subscriptions get one delivery (the select is over contacts, and a
    unique index on broadcast and contact backs it). The text is kept once, on the
    broadcast, not on every row.
    """
    now = utcnow()
    broadcast.planned_at = now
    if not explanation.topics:
        return 0
    names = (
        (await session.execute(select(Topic.name).where(Topic.slug.in_(explanation.topics))))
        .scalars()
        .all()
    )
    broadcast.text = broadcast_text(explanation, list(names))
    targets = list(explanation.localities)
    wanted = (Subscription.status == "active", Subscription.topic.in_(explanation.topics))
    # Selecting contacts (not subscriptions) gives each contact once without GROUP BY or a
    # sort; the shape keeps the same plan whether or not the database has statistics.
    subscribed: ColumnElement[bool]
    if COUNTRY in targets:  # most contacts match: one index probe per contact
        subscribed = exists().where(Subscription.contact_id == Contact.id, *wanted)
    else:  # few match: two index searches, (topic, locality) and (topic, province)
        subscribed = Contact.id.in_(
            union(
                select(Subscription.contact_id).where(*wanted, Subscription.locality.in_(targets)),
                select(Subscription.contact_id).where(*wanted, Subscription.province.in_(targets)),
            )
        )
    matching = select(
        Contact.id,
        literal("broadcast", String),
        literal(broadcast.id, Integer),
        literal("", String),
        literal([], JSON),  # not cast('[]' AS JSON): SQLite reads that as the number 0
        literal("pending", String),
        literal(0, Integer),
        literal(now, UTCDateTime),
        literal(now, UTCDateTime),
    ).where(Contact.unreachable_at.is_(None), subscribed)
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
