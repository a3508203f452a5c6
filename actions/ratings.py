"""Rating an answered case (1-5 buttons under the answer) and the optional comment."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import answer_of, contact_id, entity, typed
from actions.deps import database
from bot.domain.replies import Reply
from bot.errors import InvalidInput
from bot.services.ratings import rate_case


class ActionRateCase(Action):
    """Stores the 1-5 rating from the buttons under an answer."""

    def name(self) -> str:
        """Name in the domain."""
        return "action_rate_case"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Thank the citizen; then the comment form asks for an optional comment."""
        code = entity(tracker, "case_code")
        rating = entity(tracker, "rating")
        who = await contact_id(tracker)
        if not code or not rating or not rating.isdigit() or who is None:
            dispatcher.utter_message(
                text="Tôi chưa ghi nhận được đánh giá, anh/chị bấm lại giúp tôi."
            )
            return [SlotSet("rating_case_code", None)]
        try:
            ok = await rate_case(database(), code, who, int(rating))
        except InvalidInput as exc:
            dispatcher.utter_message(text=exc.message)
            return [SlotSet("rating_case_code", None)]
        if not ok:
            dispatcher.utter_message(text="Hồ sơ này chưa thể đánh giá.")
            return [SlotSet("rating_case_code", None)]
        dispatcher.utter_message(text=f"Cảm ơn anh/chị đã đánh giá {rating}/5.")
        return [SlotSet("rating_case_code", code)]


class ValidateRatingCommentForm(FormValidationAction):
    """An optional comment after a rating ("Bỏ qua" skips it)."""

    def name(self) -> str:
        """validate_<form>."""
        return "validate_rating_comment_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        """Ask for a comment only after a rating was stored."""
        return list(domain_slots) if tracker.get_slot("rating_case_code") else []

    async def validate_rating_comment(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Skip, cancel and "no" store nothing; otherwise up to 1,000 characters."""
        text = typed(value)
        if not text or answer_of(tracker, text) in (Reply.NO, Reply.CANCEL, Reply.AMBIGUOUS):
            return {"rating_comment": ""}
        return {"rating_comment": text.strip()[:1000]}


class ActionSaveRatingComment(Action):
    """Adds the comment to the rating."""

    def name(self) -> str:
        """Name in the domain."""
        return "action_save_rating_comment"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Store a non-empty comment and thank the citizen."""
        code = tracker.get_slot("rating_case_code")
        comment = tracker.get_slot("rating_comment") or ""
        who = await contact_id(tracker)
        if code and comment and who is not None:
            rated = await rate_case(
                database(), code, who, score=0, comment=comment, keep_score=True
            )
            if rated:
                dispatcher.utter_message(text="Cảm ơn góp ý của anh/chị, cơ quan sẽ xem xét.")
        return [SlotSet("rating_case_code", None), SlotSet("rating_comment", None)]
