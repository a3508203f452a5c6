"""What the console shows about explanations: the choices of the publishing form, the preview
of the message a subscriber will receive (built by the broadcast's own `broadcast_text`), and
an explanation's versions with their broadcasts, under the same agency rule as the API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.domain.actors import Actor
from bot.domain.explanations import chat_text
from bot.errors import Forbidden, NotFound
from bot.search.results import Doc
from bot.services.broadcasts import broadcast_text
from bot.services.explanations import OTHER_AGENCY, ExplanationSpec
from bot.services.knowledge import passage
from bot.store import explanations as store
from bot.store.db import Database
from bot.store.models import Agency, Explanation


@dataclass(frozen=True, slots=True)
class Preview:
    """The broadcast message exactly as subscribers get it, and what the bot would quote from
    the body for the first typical question ("" without one)."""

    text: str
    question: str
    excerpt: str


async def preview(db: Database, spec: ExplanationSpec) -> Preview:
    """The message a subscriber will receive for this publication (nothing is stored)."""
    async with db.session(read_only=True) as session:
        names = await store.topic_names(session, spec.topics)
    draft = Explanation(**spec.content())
    question = spec.questions[0] if spec.questions else ""
    doc = Doc(0, "", spec.title, spec.summary, chat_text(spec.body), "", "", "")
    return Preview(
        broadcast_text(draft, names), question, passage(doc, question) if question else ""
    )


async def topic_choices(db: Database) -> list[tuple[str, str]]:
    """Topics as (slug, name), for the form's checkboxes."""
    async with db.session(read_only=True) as session:
        return await store.every_topic(session)


@dataclass(frozen=True, slots=True)
class BroadcastRow:
    """One sending of a version: when it goes (or went), by whom, to how many."""

    id: int
    version: int
    created_by: str
    send_at: datetime | None
    planned_at: datetime | None
    recipients: int


@dataclass(frozen=True, slots=True)
class VersionRow:
    """One stored version, as published."""

    version: int
    current: bool
    title: str
    summary: str
    body: str
    source_document: str
    source_url: str
    topics: tuple[str, ...]
    localities: tuple[str, ...]
    questions: tuple[str, ...]
    published_at: datetime


@dataclass(frozen=True, slots=True)
class History:
    """An explanation's versions (newest first) and broadcasts, and the agency it belongs to."""

    slug: str
    agency: str
    agency_slug: str
    versions: list[VersionRow]
    broadcasts: list[BroadcastRow]


async def history(db: Database, slug: str, viewer: Actor) -> History:
    """Every version and broadcast of a slug; another agency's is 403 `other_agency` (the
    rule of `get_version` and `send_again`), an unknown slug 404."""
    async with db.session(read_only=True) as session:
        rows = await store.every_version(session, slug)
        if not rows:
            raise NotFound("Không tìm thấy bài giải trình.", code="explanation_not_found")
        owner = await store.slug_owner(session, slug)
        if owner is None or not viewer.may_see(owner):
            raise Forbidden(OTHER_AGENCY, code="other_agency")
        agency = await session.get(Agency, owner)
        number = {row.id: row.version for row in rows}
        sendings = await store.broadcasts_of(session, number)
    assert agency is not None
    versions = [
        VersionRow(
            r.version,
            r.is_current,
            r.title,
            r.summary,
            r.body,
            r.source_document,
            r.source_url,
            tuple(r.topics),
            tuple(r.localities),
            tuple(r.questions),
            r.published_at,
        )
        for r in rows
    ]
    broadcasts = [
        BroadcastRow(
            b.id, number[b.explanation_id], b.created_by, b.send_at, b.planned_at, b.recipients
        )
        for b in sendings
    ]
    return History(slug, agency.name, agency.slug, versions, broadcasts)
