"""Asking for a person ("cho tôi gặp cán bộ", the "Gặp cán bộ" button, or the bot not
understanding twice in a row): offer it truthfully for the hour, and on yes put the
conversation in the agency's operator queue (bot/services/handoff.py)."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import answer_of, entity, latest_text
from actions.deps import database, handoff_policy
from bot.domain.handoff import HandoffReason
from bot.domain.replies import Reply
from bot.errors import NotFound
from bot.services import handoff

NOT_UNDERSTOOD_AGAIN = "Xin lỗi, tôi vẫn chưa hiểu ý anh/chị."
NO_THANKS = "Dạ vâng. Anh/chị cần gì thêm cứ nhắn cho tôi."


def _confirm_payload(answer: str) -> str:
    return f'/request_human{{"handoff_confirm":"{answer}"}}'


YES_BUTTON = {"title": "Gặp cán bộ", "payload": _confirm_payload("yes")}
NO_BUTTON = {"title": "Không cần", "payload": _confirm_payload("no")}
PETITION_BUTTON = {"title": "Gửi phản ánh, kiến nghị", "payload": "/submit_petition"}


async def offer_person(
    dispatcher: CollectingDispatcher, tracker: Tracker, reason: HandoffReason
) -> list[EventType]:
    """Offer a person, truthfully for the hour (or say the request is already in)."""
    try:
        policy = handoff_policy()
        offer = await handoff.offer(database(), _sender(tracker), policy, policy.clock())
    except NotFound:  # a sender the gateway never gave out: no conversation to hand over
        dispatcher.utter_message(text=NO_THANKS)
        return []
    if offer.already:
        dispatcher.utter_message(text=offer.text)
        return []
    lead = NOT_UNDERSTOOD_AGAIN + " " if reason is HandoffReason.MISUNDERSTOOD else ""
    buttons = [YES_BUTTON] + ([] if offer.open_now else [PETITION_BUTTON]) + [NO_BUTTON]
    dispatcher.utter_message(text=lead + offer.text, buttons=buttons)
    return [SlotSet("handoff_asked", reason.value)]


def _sender(tracker: Tracker) -> str:
    return str(tracker.sender_id or "")


class ActionRequestHuman(Action):
    """Offer a person, then hand over on yes (the button, or a typed yes right after)."""

    def name(self) -> str:
        """Name in the domain."""
        return "action_request_human"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Ask, hand over, or drop the offer, depending on the answer and the open question."""
        answer = entity(tracker, "handoff_confirm")
        asked = tracker.get_slot("handoff_asked")
        said = answer_of(tracker, latest_text(tracker)) if asked else Reply.NONE
        done: list[EventType] = [SlotSet("handoff_asked", None)]
        if answer == "no" or said in (Reply.NO, Reply.CANCEL):
            dispatcher.utter_message(text=NO_THANKS)
            return done
        if answer != "yes" and said is not Reply.YES:
            return await offer_person(dispatcher, tracker, HandoffReason.ASKED)
        reason = HandoffReason.MISUNDERSTOOD if asked == "misunderstood" else HandoffReason.ASKED
        try:
            policy = handoff_policy()
            text = await handoff.request(
                database(), _sender(tracker), reason, policy, policy.clock()
            )
        except NotFound:
            dispatcher.utter_message(text=NO_THANKS)
            return done
        dispatcher.utter_message(text=text)
        # A form in progress ends here: when the operator gives the conversation back,
        # the bot starts from a clean turn.
        return [*done, ActiveLoop(None), SlotSet("requested_slot", None)]
