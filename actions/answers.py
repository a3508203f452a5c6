"""Answering questions from the published explanations, honestly when there is no answer."""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import contact_id, entity, intent_of, latest_text, words
from actions.deps import answer_noop, database, knowledge
from actions.handoff import ActionRequestHuman, offer_person
from actions.help import send_help_menu
from bot.domain.explanations import source_line
from bot.domain.handoff import HandoffReason
from bot.services.gaps import log_gap
from bot.services.knowledge import Doc, Zone, passage
from bot.services.subscriptions import home_locality

FEEDBACK_BUTTONS = [
    {"title": "Hữu ích", "payload": "/affirm"},
    {"title": "Chưa đúng ý", "payload": "/deny"},
]
NEXT_STEPS = [
    {"title": "Gửi yêu cầu giải trình", "payload": "/request_explanation"},
    {"title": "Gặp cán bộ", "payload": "/request_human"},
]
# Under a choice of explanations: none fits, so the bot has no answer (the gap is logged and
# the next steps offered, as for a question nothing answers).
NONE_OF_THESE = {"title": "Không phải các nội dung trên", "payload": "/deny"}
_CHOICE = '/ask_question{"explanation_slug":'  # a choice button's payload, before the slug
_QUESTION_WORDS = re.compile(
    r"\b(gi|sao|nao|dau|bao nhieu|bao lau|may|khong|ko|chua|ai|the nao|nhu the nao|co phai|"
    r"what|how|where|when|why|which)\b"
)


def looks_like_question(text: str) -> bool:
    """A question mark or a Vietnamese/English question word."""
    return "?" in text or bool(_QUESTION_WORDS.search(words(text)))


def misunderstood_before(tracker: Tracker, domain: DomainDict) -> bool:
    """Whether the bot's answer to the citizen's previous message was "not understood"."""
    said = {
        str(r.get("text")) for r in (domain.get("responses") or {}).get("utter_not_understood", [])
    }
    return any(
        (event.get("metadata") or {}).get("utter_action") == "utter_not_understood"
        or event.get("text") in said
        for event in previous_replies(tracker)
    )


def previous_replies(tracker: Tracker) -> list[dict[str, Any]]:
    """The bot's messages in answer to the citizen's previous message (those between it and
    the latest one), latest first."""
    replies: list[dict[str, Any]] = []
    users = 0
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            users += 1
            if users == 2:
                break
        elif event.get("event") == "bot" and users == 1:
            replies.append(event)
    return replies


def render(doc: Doc, question: str) -> str:
    """Title, the relevant passage, the source and the agency: not the whole body."""
    lines = [doc.title, "", passage(doc, question)]
    source = source_line(doc.source_document, doc.source_url)
    if source:
        lines += ["", source]
    if doc.agency:
        lines.append(f"Cơ quan đăng: {doc.agency}")
    return "\n".join(lines)


class ActionAnswerQuestion(Action):
    """Searches the published explanations and answers with the best match, or says so."""

    def name(self) -> str:
        """Name in the domain."""
        return "action_answer_question"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Answer, offer close choices, or admit there is no answer (and log the gap)."""
        if answer_noop():
            dispatcher.utter_message(text="(no-op)")
            return []
        kb = knowledge()
        await kb.refresh(database())
        slug = entity(tracker, "explanation_slug")
        question = latest_text(tracker)
        intent = intent_of(tracker)
        if slug:  # a choice button: the question was asked just before
            doc = kb.by_slug(slug)
            asked = tracker.get_slot("last_question") or ""
            if doc is not None:
                dispatcher.utter_message(text=render(doc, asked), buttons=FEEDBACK_BUTTONS)
                return [SlotSet("last_answer", doc.slug)]
        if question.startswith("/"):  # the menu button, no question yet
            dispatcher.utter_message(response="utter_ask_question")
            return []
        result = kb.answer(question)
        if result.zone is Zone.UNKNOWN:
            # Nothing plausible, or "out of scope" that the explanations cannot answer either.
            if intent == "out_of_scope":
                dispatcher.utter_message(response="utter_out_of_scope")
                await send_help_menu(dispatcher)
                return []
            if intent == "nlu_fallback" and not looks_like_question(question):
                if misunderstood_before(tracker, domain):  # twice in a row: offer a person
                    return await offer_person(dispatcher, tracker, HandoffReason.MISUNDERSTOOD)
                dispatcher.utter_message(response="utter_not_understood")
                await send_help_menu(dispatcher)
                return []
            place = await home_locality(database(), await contact_id(tracker))
            await log_gap(database(), question, "unanswered", locality=place)
            dispatcher.utter_message(
                text="Hiện tôi chưa có câu trả lời được cơ quan công bố cho câu hỏi này. "
                "Anh/chị có thể gửi yêu cầu giải trình để cơ quan trả lời chính thức, "
                "hoặc gặp cán bộ.",
                buttons=NEXT_STEPS,
            )
            return [SlotSet("last_question", question), SlotSet("last_answer", None)]
        if result.zone is Zone.CHOICES:
            choices = [
                {
                    "title": hit.doc.title,
                    "payload": f'{_CHOICE}"{hit.doc.slug}"}}',
                }
                for hit in result.hits
            ]
            if len(choices) == 1:  # one near match: offer it, or the ways to ask an officer
                dispatcher.utter_message(
                    text="Có phải anh/chị muốn hỏi về nội dung dưới đây? Nếu không phải, "
                    "anh/chị có thể gửi yêu cầu giải trình hoặc gặp cán bộ.",
                    buttons=choices + NEXT_STEPS,
                )
            else:
                dispatcher.utter_message(
                    text="Có phải anh/chị muốn hỏi một trong những nội dung sau? "
                    "Anh/chị chọn mục phù hợp nhé; nếu không có mục nào đúng, "
                    f"bấm “{NONE_OF_THESE['title']}”.",
                    buttons=[*choices, NONE_OF_THESE],
                )
            return [SlotSet("last_question", question), SlotSet("last_answer", None)]
        doc = result.hits[0].doc
        dispatcher.utter_message(text=render(doc, question), buttons=FEEDBACK_BUTTONS)
        return [SlotSet("last_question", question), SlotSet("last_answer", doc.slug)]


class ActionAnswerFeedback(Action):
    """ "Hữu ích" / "Chưa đúng ý" under an answer; unhelpful answers are logged as gaps."""

    def name(self) -> str:
        """Name in the domain."""
        return "action_answer_feedback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Thank, or offer the next steps and record the gap."""
        if tracker.get_slot("handoff_asked"):  # a typed yes/no to the offer of a person
            return await ActionRequestHuman().run(dispatcher, tracker, domain)
        question = tracker.get_slot("last_question")
        answered = tracker.get_slot("last_answer")
        if intent_of(tracker) == "affirm":
            dispatcher.utter_message(text="Cảm ơn anh/chị đã phản hồi!")
            return []
        # an answer rated unhelpful, or a choice none of whose items fits (a "no" to the bot's
        # "I don't know" logs nothing more: that question is in the list already)
        reason = "unhelpful" if answered else "unanswered" if offered_choices(tracker) else ""
        if question and reason:
            place = await home_locality(database(), await contact_id(tracker))
            await log_gap(database(), str(question), reason, answered, place)
        dispatcher.utter_message(
            text=(
                "Xin lỗi vì câu trả lời chưa đúng ý."
                if answered
                else "Xin lỗi, tôi chưa tìm được nội dung đúng câu hỏi của anh/chị."
            )
            + " Anh/chị có thể gửi yêu cầu giải trình để cơ quan trả lời chính thức, "
            "hoặc gặp cán bộ.",
            buttons=NEXT_STEPS,
        )
        return []


def offered_choices(tracker: Tracker) -> bool:
    """Whether the bot answered the citizen's previous message with a choice of explanations."""
    return any(
        str(button.get("payload")).startswith(_CHOICE)
        for event in previous_replies(tracker)
        for button in (event.get("data") or {}).get("buttons") or []
    )
