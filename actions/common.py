"""Helpers shared by the conversation actions: who is talking, what they typed."""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Tracker

from actions.deps import database
from bot.services.senders import contact_for_sender
from nlu.text import fold

CANCEL_WORDS = frozenset(
    {
        "huy",
        "huy bo",
        "huy yeu cau",
        "huy gui",
        "thoi",
        "thoi khong gui nua",
        "thoi khong can",
        "khong gui nua",
        "dung",
        "dung lai",
        "thoat",
        "cancel",
        "stop",
        "quit",
    }
)
YES_WORDS = frozenset(
    {"co", "dong y", "ok", "oke", "u", "uk", "vang", "da", "yes", "dung", "xac nhan"}
)
NO_WORDS = frozenset({"khong", "ko", "k", "khong dong y", "no", "sai", "chua"})


def words(text: str) -> str:
    """Folded text with punctuation removed, for comparing short answers."""
    return re.sub(r"\s+", " ", re.sub(r"[^\w\s]", " ", fold(text))).strip()


def is_cancel(text: str) -> bool:
    """True when the citizen asks to stop ("hủy", "thôi", "dừng lại", "cancel")."""
    return words(text) in CANCEL_WORDS


def intent_of(tracker: Tracker) -> str:
    """The intent of the latest message (button payloads set it directly)."""
    return str((tracker.latest_message.get("intent") or {}).get("name") or "")


def yes_no(tracker: Tracker, text: str) -> bool | None:
    """Interpret a yes/no answer from buttons, intents or words; None when unclear."""
    said = words(text)
    if said in YES_WORDS:
        return True
    if said in NO_WORDS:
        return False
    intent = intent_of(tracker)
    if intent == "affirm":
        return True
    if intent == "deny":
        return False
    return None


async def contact_id(tracker: Tracker) -> int | None:
    """The contact this conversation belongs to, looked up from the engine's sender id (the
    conversation's random id, known only to the gateway); never from message metadata,
    which anyone who can reach the engine's port could fill in."""
    return await contact_for_sender(database(), str(tracker.sender_id or ""))


def entity(tracker: Tracker, name: str) -> str | None:
    """First value of an entity in the latest message."""
    value = next(tracker.get_latest_entity_values(name), None)
    return str(value) if value is not None else None


def latest_text(tracker: Tracker) -> str:
    """What the citizen typed last (the raw text, not the intent)."""
    return str(tracker.latest_message.get("text") or "")


def typed(value: Any) -> str:
    """Slot text, or '' for button payloads like '/affirm'."""
    text = str(value or "")
    return "" if text.startswith("/") else text
