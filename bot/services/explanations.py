"""Publishing policy explanations: versions by slug, publication now or at a set time, and
sending a version again. Planning and reporting broadcasts: bot/services/broadcasts.py."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.actors import Actor
from bot.domain.localities import COUNTRY
from bot.domain.permissions import Action, require
from bot.errors import Conflict, Forbidden, InvalidInput, NotFound
from bot.services.broadcasts import RESUME_AFTER, plan_in_batches
from bot.store import explanations as versions
from bot.store.agencies import agency_by_slug
from bot.store.broadcasts import due_for_planning
from bot.store.db import Database
from bot.store.models import Agency, Broadcast, Explanation, utcnow
from nlu.text import fold

log = structlog.get_logger(__name__)

OTHER_AGENCY = "Bài giải trình này thuộc cơ quan khác."
RACED = "Một phiên bản khác của bài này vừa được đăng cùng lúc; vui lòng gửi lại."


@dataclass(frozen=True, slots=True)
class ExplanationSpec:
    """What an officer publishes (validated at the edge: bot/web/api_explanations.py)."""

    title: str
    body: str
    summary: str = ""
    source_document: str = ""
    source_url: str = ""
    topics: tuple[str, ...] = ()
    localities: tuple[str, ...] = (COUNTRY,)
    slug: str = ""
    publish_at: datetime | None = None  # None: now
    agency: str = ""  # the publishing agency's slug; "" for the publisher's own
    questions: tuple[str, ...] | None = None  # typical ones it answers; None: the current's

    def content(self) -> dict[str, Any]:
        """What it says, as the columns of an `Explanation` version."""
        return {
            "title": self.title,
            "summary": self.summary,
            "body": self.body,
            "source_document": self.source_document,
            "source_url": self.source_url,
            "topics": list(self.topics),
            "localities": list(self.localities),
        }


@dataclass(frozen=True, slots=True)
class Published:
    """The stored version and its broadcast (planned now, or at `scheduled_for`)."""

    slug: str
    version: int
    broadcast_id: int
    recipients: int
    scheduled_for: datetime | None = None
    questions: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        """JSON for the API and CLI."""
        return {
            "slug": self.slug,
            "version": self.version,
            "scheduled_for": self.scheduled_for.isoformat() if self.scheduled_for else None,
            "broadcast": {"id": self.broadcast_id, "recipients": self.recipients},
            "questions": list(self.questions),
        }


def slugify(title: str) -> str:
    """A URL-safe slug from a Vietnamese title."""
    return re.sub(r"[^a-z0-9]+", "-", fold(title)).strip("-")[:100] or "giai-trinh"


async def _publishing_agency(session: AsyncSession, actor: Actor, named: str) -> int:
    """The agency a publication goes under: the one named (an admin's choice; an officer
    may only name their own), else the caller's own (an admin of no agency must name one)."""
    if named:
        agency = await agency_by_slug(session, named)
        if agency is None:
            raise InvalidInput(f"Không có cơ quan {named!r}.", code="unknown_agency")
        if not actor.may_see(agency.id):
            raise Forbidden("Cán bộ chỉ đăng bài cho cơ quan của mình.", code="other_agency")
        return agency.id
    if actor.agency_id is None:
        raise InvalidInput(
            'Tài khoản quản trị cần nêu cơ quan đăng bài (trường "agency", hoặc --agency).',
            code="agency_required",
        )
    return actor.agency_id


async def publish(db: Database, spec: ExplanationSpec, actor: Actor) -> Published:
    """Store a new version (the old one stays readable) and its broadcast in one
    transaction, then plan the broadcast in batches (`plan_in_batches`).

    The version goes under the caller's agency (`_publishing_agency`); a slug belongs to the
    agency that first published it, and targeting the whole country takes its own
    permission (bot/domain/permissions.py). With a publish time in the future the version
    waits, not current and not searchable, and `release_scheduled` makes it current and
    plans its broadcast when the time comes (for the subscribers of that day)."""
    require(actor, Action.PUBLISH)
    if COUNTRY in spec.localities:
        require(actor, Action.PUBLISH_COUNTRY_WIDE)
    slug = slugify(spec.slug or spec.title)
    async with db.session() as session:
        agency_id = await _publishing_agency(session, actor, spec.agency)
        owner = await versions.slug_owner(session, slug)
        if owner is not None and owner != agency_id:
            raise Forbidden(OTHER_AGENCY, code="other_agency")
        known = await versions.topic_slugs(session)
        unknown = [t for t in spec.topics if t not in known]
        if unknown:
            raise InvalidInput(f"Unknown topics: {', '.join(unknown)}", code="invalid_topic")
        now = utcnow()
        later = spec.publish_at is not None and spec.publish_at > now
        current = await versions.current_version(session, slug, lock=True)
        version = await versions.latest_version_number(session, slug) + 1
        questions = spec.questions
        if questions is None:  # not given: the version it replaces keeps being found so
            questions = tuple(current.questions) if current is not None else ()
        if current is not None and not later:
            current.is_current = False
            await session.flush()
        explanation = Explanation(
            agency_id=agency_id,
            slug=slug,
            version=version,
            is_current=not later,
            published_at=spec.publish_at if later else now,
            questions=list(questions),
            **spec.content(),
        )
        session.add(explanation)
        try:
            await session.flush()
        except IntegrityError as exc:  # another publication took this version meanwhile
            raise Conflict(RACED, code="publish_conflict") from exc
        broadcast = Broadcast(
            explanation_id=explanation.id, created_by=actor.name, send_at=explanation.published_at
        )
        session.add(broadcast)
        await session.flush()
        broadcast_id = broadcast.id
    if later:
        return Published(slug, version, broadcast_id, 0, explanation.published_at, questions)
    recipients = await plan_in_batches(db, broadcast_id)
    return Published(slug, version, broadcast_id, recipients, questions=questions)


async def release_scheduled(db: Database, now: datetime | None = None) -> int:
    """Make due scheduled versions current and plan their broadcasts, and finish plans a
    crashed process left half done; returns how many broadcasts it released or resumed.

    A broadcast being planned right now by the process that published it is left alone
    (it is younger than RESUME_AFTER); two planners on one broadcast cannot both write a
    batch (see `plan_in_batches`). A version overtaken by a newer current one is not
    released."""
    now = now or utcnow()
    async with db.session() as session:
        due_ids = await due_for_planning(session, now, RESUME_AFTER)
    released = 0
    for broadcast_id in due_ids:
        if await _go_live(db, broadcast_id, now):
            await plan_in_batches(db, broadcast_id)
            released += 1
    return released


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
        current = await versions.current_version(session, explanation.slug, lock=True)
        if current is not None and current.version > explanation.version:
            broadcast.planned_at = now
            log.warning("scheduled_version_overtaken", broadcast_id=broadcast_id)
            return False
        if current is not None:
            current.is_current = False
            await session.flush()
        explanation.is_current = True
        return True


async def send_again(db: Database, slug: str, actor: Actor) -> Published:
    """`giaitrinh broadcast send`: broadcast the current version now, to matching
    subscribers who have not received any broadcast of this version yet (the agency's own
    explanations only; a country-wide one takes the country-wide permission)."""
    require(actor, Action.BROADCAST_AGAIN)
    async with db.session() as session:
        explanation = await versions.current_version(session, slug)
        if explanation is None:
            raise NotFound("Không tìm thấy bài giải trình.", code="explanation_not_found")
        if not actor.may_see(explanation.agency_id):
            raise Forbidden(OTHER_AGENCY, code="other_agency")
        if COUNTRY in explanation.localities:
            require(actor, Action.PUBLISH_COUNTRY_WIDE)
        broadcast = Broadcast(
            explanation_id=explanation.id, created_by=actor.name, send_at=utcnow()
        )
        session.add(broadcast)
        await session.flush()
        broadcast_id, version = broadcast.id, explanation.version
        questions = tuple(explanation.questions)
    recipients = await plan_in_batches(db, broadcast_id)
    return Published(slug, version, broadcast_id, recipients, questions=questions)


async def get_version(
    db: Database, slug: str, version: int | None = None, viewer: Actor | None = None
) -> dict[str, Any]:
    """The current version of an explanation, or an older one by number; staff see their
    own agency's (403 `other_agency` otherwise), admins every one."""
    async with db.session() as session:
        row = (
            await versions.numbered_version(session, slug, version)
            if version is not None
            else await versions.current_version(session, slug)
        )
        if row is None:
            raise NotFound("Không tìm thấy bài giải trình.", code="explanation_not_found")
        if viewer is not None and not viewer.may_see(row.agency_id):
            raise Forbidden(OTHER_AGENCY, code="other_agency")
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
            "questions": row.questions,
            "published_at": row.published_at.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class ExplanationItem:
    """A published explanation in a list (the console's): its current version only."""

    slug: str
    version: int
    title: str
    summary: str
    agency: str
    published_at: datetime


async def current_explanations(db: Database, limit: int = 200) -> list[ExplanationItem]:
    """The current version of each published explanation, newest first (staff read them all,
    as citizens do)."""
    query = (
        select(Explanation, Agency.name)
        .join(Agency, Agency.id == Explanation.agency_id)
        .where(Explanation.is_current.is_(True))
        .order_by(Explanation.published_at.desc(), Explanation.id.desc())
        .limit(limit)
    )
    async with db.session() as session:
        rows = (await session.execute(query)).all()
    return [
        ExplanationItem(e.slug, e.version, e.title, e.summary, agency, e.published_at)
        for e, agency in rows
    ]
