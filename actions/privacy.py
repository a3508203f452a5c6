"""Personal data in chat: a case form that files nothing leaves nothing behind, and a
citizen can see ("xem dữ liệu của tôi") and erase ("xóa dữ liệu của tôi") what is stored."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker

from actions.deps import database
from bot.services import privacy

CASE_FORMS = frozenset({"explanation_form", "petition_form"})


def form_messages(events: list[dict[str, Any]]) -> int:
    """How many citizen messages belong to the case form that is ending: those since it
    opened, and the one that opened it."""
    count = 0
    for index in range(len(events) - 1, -1, -1):
        event = events[index]
        if event.get("event") == "user":
            count += 1
        elif event.get("event") == "active_loop" and event.get("name") in CASE_FORMS:
            opened_by = any(e.get("event") == "user" for e in events[:index])
            return count + opened_by
    return count


async def forget_form(tracker: Tracker) -> None:
    """A case form ended without a case ("Thông tin anh/chị vừa nhập không được lưu"):
    erase what was typed in it, here and, after this turn, in the engine."""
    await privacy.forget_form(database(), tracker.sender_id, form_messages(tracker.events))
