"""Personal data in chat: a case form that files nothing leaves nothing behind, and a
citizen can see ("xem dữ liệu của tôi") and erase ("xóa dữ liệu của tôi") what is stored."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import answer_of, contact_id, entity, intent_of, latest_text
from actions.deps import database
from bot.domain.privacy import erase_question, erased_text, held_text
from bot.domain.replies import Reply
from bot.errors import NotFound
from bot.services import privacy, privacy_requests
from bot.services.agencies import agency_info

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


def _confirm_payload(answer: str) -> str:
    return f'/erase_my_data{{"privacy_confirm":"{answer}"}}'


ERASE_BUTTONS = [
    {"title": "Xóa dữ liệu", "payload": _confirm_payload("yes")},
    {"title": "Không xóa", "payload": _confirm_payload("no")},
]
NOT_FOUND = "Tôi chưa tìm thấy dữ liệu nào của anh/chị."


async def _agency_contact() -> str:
    agency = await agency_info(database())
    return agency.contact if agency is not None else ""


class ActionShowMyData(Action):
    """ "xem dữ liệu của tôi": what is stored about this contact, for how long."""

    def name(self) -> str:
        """Name in the domain."""
        return "action_show_my_data"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """A short summary (kinds of data, not their values), and how to get a full copy."""
        who = await contact_id(tracker)
        try:
            held = await privacy_requests.data_held(database(), who or 0, tracker.sender_id)
        except NotFound:
            dispatcher.utter_message(text=NOT_FOUND)
            return []
        dispatcher.utter_message(text=held_text(held, await _agency_contact()))
        return []


class ActionEraseMyData(Action):
    """ "xóa dữ liệu của tôi": say what erasing does, and erase once the citizen confirms
    (the "Xóa dữ liệu" button, or a typed yes right after the question)."""

    def name(self) -> str:
        """Name in the domain."""
        return "action_erase_my_data"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Ask, erase, or keep, depending on the answer and whether the question is open."""
        answer = entity(tracker, "privacy_confirm")
        intent = intent_of(tracker)
        # Typed words first: the intent model folds "dừng" (stop) into "đúng" (right).
        said = answer_of(tracker, latest_text(tracker))
        asked = bool(tracker.get_slot("erase_asked"))
        closed: list[EventType] = [SlotSet("erase_asked", None)]
        if answer == "no" or (asked and said in (Reply.NO, Reply.CANCEL)):
            dispatcher.utter_message(text="Dữ liệu của anh/chị được giữ nguyên.")
            return closed
        if not asked and intent in {"affirm", "deny"}:  # a yes/no to nothing asked
            dispatcher.utter_message(text="Dạ. Anh/chị cần tôi giúp việc gì ạ?")
            return closed
        who = await contact_id(tracker) or 0
        try:
            if asked and (answer == "yes" or said is Reply.YES):
                erased = await privacy_requests.erase_contact(database(), who, tracker.sender_id)
                dispatcher.utter_message(text=erased_text(erased, await _agency_contact()))
                return closed
            held = await privacy_requests.data_held(database(), who, tracker.sender_id)
        except NotFound:
            dispatcher.utter_message(text=NOT_FOUND)
            return closed
        dispatcher.utter_message(text=erase_question(held), buttons=ERASE_BUTTONS)
        return [SlotSet("erase_asked", True)]
