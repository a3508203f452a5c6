"""Questions people asked that the published explanations did not answer well."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from bot.domain.localities import by_code
from bot.search.tokens import STOPWORDS, syllables
from bot.store.db import Database
from bot.store.models import QuestionGap

SIMILAR = 0.5  # Jaccard similarity of content words for two questions to be one group


async def log_gap(
    db: Database, text: str, reason: str, slug: str | None = None, locality: str = ""
) -> None:
    """Record a question without an answer (or with an unhelpful one)."""
    async with db.session() as session:
        session.add(
            QuestionGap(text=text[:2000], reason=reason, explanation_slug=slug, locality=locality)
        )


@dataclass
class GapGroup:
    """Similar questions counted together, with examples."""

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


def _in_place(code: str, wanted: str) -> bool:
    """A gap's locality is the wanted one, or a commune of the wanted province."""
    if code == wanted:
        return True
    place = by_code(code)
    return place is not None and wanted == f"p:{place.province_code}"


def _label(code: str) -> str:
    place = by_code(code) if code else None
    return place.label if place is not None else "không rõ"


async def gap_groups(
    db: Database, since: datetime | None = None, limit: int = 50, locality: str | None = None
) -> list[GapGroup]:
    """Gaps grouped by similar wording, biggest group first; with `locality` ("p:<code>" or
    "w:<code>"), only questions from there (a province includes its communes)."""
    async with db.session() as session:
        query = select(QuestionGap).order_by(QuestionGap.id)
        if since is not None:
            query = query.where(QuestionGap.created_at >= since)
        rows = (await session.execute(query.limit(5000))).scalars().all()
    groups: list[tuple[frozenset[str], GapGroup]] = []
    for row in rows:
        if locality and not _in_place(row.locality, locality):
            continue
        words = _words(row.text)
        target = None
        for key, group in groups:
            union = key | words
            if union and len(key & words) / len(union) >= SIMILAR:
                target = group
                break
        if target is None:
            target = GapGroup(0, 0, 0, [], row.created_at)
            groups.append((words, target))
        target.count += 1
        target.unanswered += row.reason == "unanswered"
        target.unhelpful += row.reason == "unhelpful"
        if len(target.examples) < 5 and row.text not in target.examples:
            target.examples.append(row.text)
        target.last_at = max(target.last_at, row.created_at)
        label = _label(row.locality)
        target.places[label] = target.places.get(label, 0) + 1
    ordered = sorted((g for _, g in groups), key=lambda g: (-g.count, -g.last_at.timestamp()))
    return ordered[:limit]
