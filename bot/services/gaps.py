"""Questions people asked that the published explanations did not answer well."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from bot.domain.actors import Actor
from bot.domain.localities import by_code, codes_within
from bot.domain.redaction import redact
from bot.search.tokens import STOPWORDS, syllables
from bot.store.db import Database
from bot.store.gaps import recent_gaps
from bot.store.models import QuestionGap

SIMILAR = 0.5  # Jaccard similarity of content words for two questions to be one group
# The newest questions grouped per request: enough to show what people ask now, few enough
# to group in well under a second (grouping compares each question with every group).
RECENT = 2000


async def log_gap(
    db: Database, text: str, reason: str, slug: str | None = None, locality: str = ""
) -> None:
    """Record a question without an answer (or with an unhelpful one)."""
    async with db.session() as session:
        session.add(
            QuestionGap(text=text[:2000], reason=reason, explanation_slug=slug, locality=locality)
        )


@dataclass(frozen=True, slots=True)
class Gap:
    """One logged question, as the grouping reads it."""

    text: str
    reason: str
    locality: str
    created_at: datetime


@dataclass
class GapGroup:
    """Similar questions counted together, with examples (phone and ID numbers hidden)."""

    count: int
    unanswered: int
    unhelpful: int
    examples: list[str]
    last_at: datetime
    places: dict[str, int] = field(default_factory=dict)  # locality label -> questions

    def as_json(self) -> dict[str, object]:
        """JSON for the API."""
        return {
            "count": self.count,
            "unanswered": self.unanswered,
            "unhelpful": self.unhelpful,
            "examples": self.examples,
            "last_at": self.last_at.isoformat(),
            "localities": dict(sorted(self.places.items(), key=lambda kv: -kv[1])),
        }


def _words(text: str) -> frozenset[str]:
    return frozenset(w for w in syllables(text) if w not in STOPWORDS)


def _label(code: str) -> str:
    place = by_code(code) if code else None
    return place.label if place is not None else "không rõ"


def group_gaps(gaps: Iterable[Gap], limit: int = 50) -> list[GapGroup]:
    """Gaps grouped greedily by similar wording (each joins the first group close enough),
    biggest group first, then the most recent. Pure and CPU-bound: run it off the loop."""
    groups: list[tuple[frozenset[str], GapGroup]] = []
    for gap in gaps:
        words = _words(gap.text)
        target = None
        for key, group in groups:
            union = key | words
            if union and len(key & words) / len(union) >= SIMILAR:
                target = group
                break
        if target is None:
            target = GapGroup(0, 0, 0, [], gap.created_at)
            groups.append((words, target))
        target.count += 1
        target.unanswered += gap.reason == "unanswered"
        target.unhelpful += gap.reason == "unhelpful"
        example = redact(gap.text)
        if len(target.examples) < 5 and example not in target.examples:
            target.examples.append(example)
        target.last_at = max(target.last_at, gap.created_at)
        label = _label(gap.locality)
        target.places[label] = target.places.get(label, 0) + 1
    ordered = sorted((g for _, g in groups), key=lambda g: (-g.count, -g.last_at.timestamp()))
    return ordered[:limit]


async def gap_groups(
    db: Database,
    caller: Actor,
    since: datetime | None = None,
    limit: int = 50,
    locality: str | None = None,
    recent: int = RECENT,
) -> list[GapGroup]:
    """The newest `recent` gaps the caller may see (an officer: their agency's and those of
    no agency; an admin: all), grouped; with `locality` ("p:<code>" or "w:<code>"), only
    questions from there (a province includes its communes)."""
    async with db.session() as session:
        rows = await recent_gaps(
            session,
            limit=recent,
            since=since,
            places=codes_within(locality) if locality else None,
            every_agency=caller.sees_every_agency,
            agency_id=caller.agency_id,
        )
    gaps = [Gap(text, reason, place, at) for text, reason, place, at in rows]
    return await asyncio.to_thread(group_gaps, gaps, limit)
