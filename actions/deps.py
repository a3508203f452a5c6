"""What actions need from the gateway, handed over once at start-up.

rasa_sdk instantiates action classes itself, so the database cannot be passed to a
constructor; the app factory calls `configure` before the first action runs.
"""

from __future__ import annotations

from bot.domain.handoff import HandoffPolicy
from bot.domain.office_hours import OfficeHours
from bot.services.knowledge import KnowledgeBase
from bot.store.db import Database

_db: Database | None = None
_knowledge: KnowledgeBase | None = None
_answer_noop = False
_handoff = HandoffPolicy(OfficeHours.parse())


def configure(
    db: Database,
    kb: KnowledgeBase | None = None,
    answer_noop: bool = False,
    handoff: HandoffPolicy | None = None,
) -> None:
    """Give actions the gateway's database, knowledge base and handoff settings."""
    global _db, _knowledge, _answer_noop, _handoff
    _db = db
    _knowledge = kb or KnowledgeBase()
    _answer_noop = answer_noop
    _handoff = handoff or HandoffPolicy(OfficeHours.parse())


def handoff_policy() -> HandoffPolicy:
    """Working hours and expected answer time for the offer of a person."""
    return _handoff


def answer_noop() -> bool:
    """Benchmark switch: answer without searching, to measure what the search costs."""
    return _answer_noop


def knowledge() -> KnowledgeBase:
    """The knowledge base (refreshed from the database by the actions that search)."""
    if _knowledge is None:
        raise RuntimeError("actions.deps.configure() was not called")
    return _knowledge


def database() -> Database:
    """The gateway's database; fails loudly if the app did not configure it."""
    if _db is None:
        raise RuntimeError("actions.deps.configure() was not called")
    return _db
