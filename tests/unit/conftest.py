"""Fixtures shared by the unit tests."""

from __future__ import annotations

import pytest
import yaml

from bot.services.knowledge import Doc, KnowledgeBase
from bot.settings import PROJECT_ROOT


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    """The demo explanations in a knowledge base, without their typical questions (what the
    search finds in the texts alone)."""
    data = yaml.safe_load((PROJECT_ROOT / "bot/demo/demo_data.yaml").read_text(encoding="utf-8"))
    base = KnowledgeBase()
    base.rebuild(
        [
            Doc(i, e["slug"], e["title"], e["summary"], e["body"], e["source_document"], "", "")
            for i, e in enumerate(data["explanations"])
        ]
    )
    return base
