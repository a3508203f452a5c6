"""Helpers shared by the conversation actions: who is talking, what they typed."""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Tracker

from actions.deps import database
from bot.domain.replies import Reply, look_alike, readings, reply
from bot.services.senders import contact_for_sender
from nlu.text import fold

# Buttons offered when the gateway did not say how many the channel shows (it sends its
# channel's Capabilities.max_buttons as `max_buttons` in the message metadata).
FEW_BUTTONS = 3


def words(text: str) -> str:
    """Folded text with punctuation removed, for comparing free text (not short answers:
    those go through bot.domain.replies, which never folds what was typed with diacritics)."""
    return re.sub(r"\s+", " ", re.sub(r"[^\w\s]", " ", fold(text))).strip()


def is_cancel(text: str) -> bool:
    """True when the citizen asks to stop ("hủy", "thôi", "dừng lại", "cancel"); an
    ambiguous "dung" (đúng or dừng) is not taken as a stop."""
    return reply(text) is Reply.CANCEL


def intent_of(tracker: Tracker) -> str:
    """The intent of the latest message (button payloads set it directly)."""
    return str((tracker.latest_message.get("intent") or {}).get("name") or "")


def answer_of(tracker: Tracker, text: str) -> Reply:
    """A yes/no/stop answer from words, then from buttons or the intent.

    The intent model folds every word, so it only decides when the words are no answer
    word at all: not for an ambiguous "dung", nor for a look-alike such as "cô" or "dùng".
    """
    said = reply(text)
    if said is not Reply.NONE or look_alike(text):
        return said
    intent = intent_of(tracker)
    if intent == "affirm":
        return Reply.YES
    if intent == "deny":
        return Reply.NO
    return Reply.NONE


def yes_no(tracker: Tracker, text: str) -> bool | None:
    """Interpret a yes/no answer from buttons, intents or words; None when unclear."""
    answer = answer_of(tracker, text)
    return True if answer is Reply.YES else False if answer is Reply.NO else None


def ambiguous_text(text: str) -> str:
    """Asks which word a folded answer meant ("dung": đúng or dừng)."""
    choices = " hay ".join(f"“{word}”" for word in readings(text))
    return f"Anh/chị gõ “{text.strip()}”: tôi chưa rõ anh/chị muốn nói {choices}."


def button_limit(tracker: Tracker) -> int:
    """How many buttons this conversation's channel shows (from the gateway's metadata)."""
    said: dict[str, Any] = next(
        (e for e in reversed(tracker.events) if e.get("event") == "user"), {}
    )
    limit = (said.get("metadata") or {}).get("max_buttons")
    return limit if isinstance(limit, int) and limit > 0 else FEW_BUTTONS


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
