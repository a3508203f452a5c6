"""Subscribing to published explanations in chat, and stopping in one message."""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import button_limit, contact_id, entity, is_cancel
from actions.deps import database
from bot.domain.localities import COUNTRY, find, place_choice
from bot.domain.replies import spelled_any, spelled_as, typed_words
from bot.errors import InvalidInput
from bot.services import subscriptions as service

# With diacritics: text typed with them must match ("bố qua" is not "bỏ qua").
WHOLE_COUNTRY = ("toàn quốc", "cả nước", "tất cả", "không", "ko", "bỏ qua", "country", "all")
STOP_HINT = "Gõ “hủy nhận tin” bất cứ lúc nào để dừng."


def _removal(text: str) -> int | None:
    """N from "bỏ N" / "bo N" (stop item N of the list), never from "bố 2"."""
    said = typed_words(text)
    if len(said) == 2 and spelled_as(said[:1], "bỏ") and re.fullmatch(r"\d{1,2}", said[1]):
        return int(said[1])
    return None


def _topic_payload(slug: str) -> str:
    return f'/subscribe{{"topic":"{slug}"}}'


class ActionAskSubTopic(Action):
    """Topic buttons, with what the citizen already receives."""

    def name(self) -> str:
        """Rasa calls action_ask_<slot>."""
        return "action_ask_sub_topic"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """List topics from the database as buttons."""
        who = await contact_id(tracker)
        current = await service.active_for(database(), who) if who else []
        lines = []
        if current:
            lines.append("Anh/chị đang nhận tin:")
            lines += [
                f"{n}. {topic} – {place}" for n, (_, topic, place) in enumerate(current, start=1)
            ]
            lines.append("Muốn bỏ mục nào, gõ “bỏ 1”, “bỏ 2”...")
            lines.append("")
        lines.append("Anh/chị muốn nhận giải trình chính sách về chủ đề nào?")
        buttons = [
            {"title": t.name, "payload": _topic_payload(t.slug)}
            for t in await service.topics(database())
        ]
        buttons += [
            {"title": f"Bỏ {n}: {topic}"[:40], "payload": f"bỏ {n}"}
            for n, (_, topic, _place) in enumerate(current, start=1)
        ]
        dispatcher.utter_message(text="\n".join(lines), buttons=buttons)
        return []


class ValidateSubscriptionForm(FormValidationAction):
    """Topic (button or typed name) and locality (typed, with suggestions)."""

    def name(self) -> str:
        """validate_<form>."""
        return "validate_subscription_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        """Nothing more once cancelled."""
        return [] if tracker.get_slot("sub_cancelled") else list(domain_slots)

    async def validate_sub_topic(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """A topic slug from a button, a typed topic name, or "bỏ N" to stop item N."""
        text = str(value or "")
        removal = _removal(text)
        if removal is not None:
            return await self._remove(removal, dispatcher, tracker)
        if is_cancel(text):
            return {"sub_cancelled": True, "requested_slot": None}
        known = await service.topics(database())
        chosen = entity(tracker, "topic") or text
        for topic in known:
            if chosen == topic.slug or spelled_as(chosen, topic.name):
                return {"sub_topic": topic.slug}
        dispatcher.utter_message(text="Anh/chị chọn một chủ đề trong danh sách giúp tôi.")
        return {"sub_topic": None}

    async def _remove(
        self, number: int, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> dict[str, Any]:
        who = await contact_id(tracker)
        current = await service.active_for(database(), who) if who else []
        if who is None or not 1 <= number <= len(current):
            dispatcher.utter_message(
                text=f"Không có mục số {number}. Anh/chị chọn số trong danh sách giúp tôi."
            )
            return {"sub_topic": None}
        sub_id, topic, place = current[number - 1]
        await service.unsubscribe(database(), who, sub_id)
        dispatcher.utter_message(
            text=f"Đã bỏ nhận tin “{topic}” – {place}. Các mục khác vẫn giữ nguyên."
        )
        return {"sub_cancelled": "removed", "requested_slot": None}

    async def validate_sub_locality(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """A commune/ward/province (any spelling) or the whole country."""
        text = str(value or "").strip()
        if is_cancel(text):
            return {"sub_cancelled": True, "requested_slot": None}
        if spelled_any(text, WHOLE_COUNTRY) or text == "/deny":
            return {"sub_locality": COUNTRY}
        exact, suggestions = find(text) if not text.startswith("/") else ([], [])
        if len(exact) == 1:
            return {"sub_locality": exact[0].code}
        if exact:  # several places of that name: the citizen chooses, never a silent pick
            question, choices = place_choice(text, exact, button_limit(tracker))
            dispatcher.utter_message(
                text=question, buttons=[{"title": c.label, "payload": c.label} for c in choices]
            )
            return {"sub_locality": None}
        buttons = [{"title": s.label, "payload": s.label} for s in suggestions[:4]]
        buttons.append({"title": "Toàn quốc", "payload": "toàn quốc"})
        dispatcher.utter_message(
            text=f"Tôi chưa tìm thấy địa bàn “{text}”."
            + (
                " Có phải anh/chị muốn nói:"
                if suggestions
                else " Anh/chị gõ lại tên xã/phường/tỉnh."
            ),
            buttons=buttons,
        )
        return {"sub_locality": None}


class ActionSubscribe(Action):
    """Saves the subscription when the form ends."""

    def name(self) -> str:
        """Name in the domain."""
        return "action_subscribe"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Subscribe, and say in one line how to stop."""
        reset: list[EventType] = [
            SlotSet("sub_topic", None),
            SlotSet("sub_locality", None),
            SlotSet("sub_cancelled", None),
        ]
        if tracker.get_slot("sub_cancelled") == "removed":  # already said what was removed
            return reset
        if tracker.get_slot("sub_cancelled"):
            dispatcher.utter_message(text="Đã hủy, chưa đăng ký gì.")
            return reset
        who = await contact_id(tracker)
        topic, locality = tracker.get_slot("sub_topic"), tracker.get_slot("sub_locality")
        if who is None or not topic or not locality:
            dispatcher.utter_message(text="Chưa đăng ký được, anh/chị thử lại giúp tôi.")
            return reset
        try:
            await service.subscribe(database(), who, str(topic), str(locality))
        except InvalidInput as exc:
            dispatcher.utter_message(text=exc.message)
            return reset
        names = {t.slug: t.name for t in await service.topics(database())}
        dispatcher.utter_message(
            text=f"Đã đăng ký nhận tin “{names.get(str(topic), topic)}” cho "
            f"{service.locality_label(str(locality))}. {STOP_HINT}"
        )
        return reset


class ActionUnsubscribe(Action):
    """Stops every subscription of this contact."""

    def name(self) -> str:
        """Name in the domain."""
        return "action_unsubscribe"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """One message stops everything."""
        who = await contact_id(tracker)
        ended = await service.unsubscribe(database(), who) if who else 0
        if ended:
            dispatcher.utter_message(
                text="Đã dừng toàn bộ tin anh/chị đăng ký. Anh/chị sẽ không nhận thêm thông báo "
                "nào. Khi cần, gõ “đăng ký nhận tin” để đăng ký lại."
            )
        else:
            dispatcher.utter_message(
                text="Anh/chị hiện không đăng ký nhận tin nào, nên sẽ không nhận thêm thông báo."
            )
        return []
