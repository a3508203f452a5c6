"""Load the demo agency, topics and published explanations (idempotent)."""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select

from bot.domain.localities import COUNTRY
from bot.store.db import Database
from bot.store.explanations import current_version
from bot.store.models import Agency, CannedReply, Explanation, Topic

DEMO_FILE = Path(
    os.environ.get("GIAITRINH_DEMO_FILE")
    or Path(__file__).resolve().parent.parent / "demo" / "demo_data.yaml"
)

_EXPLANATION_FIELDS = ("title", "summary", "body", "source_document", "source_url")


@dataclass(frozen=True, slots=True)
class DemoLoadResult:
    """What a load changed, for the CLI to print."""

    agencies: int
    topics: int
    explanations_added: int
    explanations_unchanged: int


async def load_demo(db: Database, path: Path = DEMO_FILE) -> DemoLoadResult:
    """Insert what is missing; an edited explanation becomes a new version."""
    text = await asyncio.to_thread(path.read_text, encoding="utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    added = unchanged = 0
    async with db.session() as session:
        spec = data["agency"]
        agency = (
            await session.execute(select(Agency).where(Agency.slug == spec["slug"]))
        ).scalar_one_or_none()
        if agency is None:
            agency = Agency(slug=spec["slug"])
            session.add(agency)
        agency.name = spec["name"]
        agency.locality = spec.get("locality", "")
        agency.contact = spec.get("contact", "")
        await session.flush()

        titles = set(
            (
                await session.execute(
                    select(CannedReply.title).where(CannedReply.agency_id == agency.id)
                )
            ).scalars()
        )
        for reply in data.get("canned_replies", []):
            if reply["title"] not in titles:
                session.add(
                    CannedReply(agency_id=agency.id, title=reply["title"], text=reply["text"])
                )

        for topic_spec in data.get("topics", []):
            topic = (
                await session.execute(select(Topic).where(Topic.slug == topic_spec["slug"]))
            ).scalar_one_or_none()
            if topic is None:
                session.add(Topic(slug=topic_spec["slug"], name=topic_spec["name"]))
            else:
                topic.name = topic_spec["name"]

        for item in data.get("explanations", []):
            current = await current_version(session, item["slug"])
            fields = {name: str(item.get(name) or "") for name in _EXPLANATION_FIELDS}
            topics = list(item.get("topics") or [])
            localities = list(item.get("localities") or [COUNTRY])
            questions = [str(q) for q in item.get("questions") or []]
            if (
                current is not None
                and all(getattr(current, name) == value for name, value in fields.items())
                and current.topics == topics
                and current.localities == localities
                and current.questions == questions
            ):
                unchanged += 1
                continue
            version = 1
            if current is not None:
                current.is_current = False
                version = current.version + 1
                await session.flush()
            session.add(
                Explanation(
                    agency_id=agency.id,
                    slug=item["slug"],
                    version=version,
                    is_current=True,
                    topics=topics,
                    localities=localities,
                    questions=questions,
                    **fields,
                )
            )
            added += 1
    return DemoLoadResult(
        agencies=1,
        topics=len(data.get("topics", [])),
        explanations_added=added,
        explanations_unchanged=unchanged,
    )
