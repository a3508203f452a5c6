"""Filing a case in chat: the explanation request and petition forms and the checks of
each answer (the summary, corrections and submission are in actions/case_submit.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import (
    ambiguous_text,
    answer_of,
    button_limit,
    entity,
    intent_of,
    is_cancel,
    latest_text,
    typed,
)
from bot.domain.cases import Kind
from bot.domain.intake import MAX_TEXT, Check, Ok, check_contact, check_name, check_text
from bot.domain.localities import find, place_choice
from bot.domain.opening import subject_of
from bot.domain.replies import Reply, contains

CASE_SLOTS = (
    "case_consent",
    "requester_name",
    "requester_contact",
    "case_target",
    "case_subject",
    "case_content",
    "case_location",
    "petition_contact_choice",
    "case_confirm",
    "case_cancelled",
    "case_editing",
)

# Fields a citizen may correct from the summary, per form, with their Vietnamese label.
EDITABLE = {
    "explanation_form": {
        "requester_name": "Họ tên",
        "requester_contact": "Liên hệ",
        "case_target": "Cơ quan",
        "case_subject": "Việc cần giải trình",
        "case_content": "Nội dung",
    },
    "petition_form": {
        "case_content": "Nội dung",
        "case_location": "Địa điểm",
        "requester_contact": "Liên hệ",
    },
}

# Words that name an agency, with their diacritics: text typed with diacritics must use
# them ("bạn", a friend, is not "ban", a board), text typed without is folded.
AGENCY_WORDS = (
    "ubnd",
    "ủy ban",
    "hđnd",
    "hdnd",
    "sở",
    "bộ",
    "cục",
    "chi cục",
    "công an",
    "trung tâm",
    "ban",
    "phòng",
    "thanh tra",
    "thuế",
    "kho bạc",
    "bảo hiểm",
    "văn phòng",
    "tòa án",
    "viện kiểm sát",
)

CANCELLED = {"case_cancelled": True, "requested_slot": None}


# case_editing while the summary asks which word an ambiguous answer ("dung") meant.
ASK_WHICH = "ask_which"


def answered_yes_no(
    slot: str, value: Any, tracker: Tracker, dispatcher: CollectingDispatcher, choices: str
) -> dict[str, Any]:
    """A yes/no slot from buttons or words; anything else names the two choices again, and
    an ambiguous "dung" (đúng or dừng) first says why it was not understood."""
    text = str(value or "")
    answer = answer_of(tracker, text)
    if answer is Reply.CANCEL:
        return CANCELLED
    if answer is Reply.AMBIGUOUS:
        dispatcher.utter_message(
            text=f"{ambiguous_text(text)} Anh/chị vui lòng chọn {choices} bên dưới, "
            "hoặc gõ “dừng lại” để dừng."
        )
        return {slot: None}
    if answer not in (Reply.YES, Reply.NO):
        dispatcher.utter_message(text=f"Anh/chị vui lòng chọn {choices}.")
        return {slot: None}
    return {slot: answer is Reply.YES}


IMAGE_PLACEHOLDER = "[Ảnh]"


def checked(
    slot: str, value: Any, check: Callable[[str], Check], dispatcher: CollectingDispatcher
) -> dict[str, Any]:
    """Cancel words stop the form; otherwise store the checked value or explain and re-ask."""
    if is_cancel(str(value or "")):
        return CANCELLED
    if str(value or "").strip() == IMAGE_PLACEHOLDER:
        # A photo is not an answer: keep it for the case and ask the question again.
        dispatcher.utter_message(text="Đã nhận ảnh, tôi sẽ đính kèm vào hồ sơ.")
        return {slot: None}
    result = check(typed(value))
    if isinstance(result, Ok):
        return {slot: result.value}
    dispatcher.utter_message(text=result.message)
    return {slot: None}


def from_opening(
    tracker: Tracker,
    dispatcher: CollectingDispatcher,
    slot: str,
    kind: Kind,
    maximum: int,
    what: str,
) -> dict[str, Any]:
    """The slot taken from the message that opened the form, when it already says what the
    case is about ("đường trước nhà tôi bị ngập"), so the form does not ask it again."""
    opening = {Kind.EXPLANATION: "request_explanation", Kind.PETITION: "submit_petition"}[kind]
    if tracker.get_slot(slot) or tracker.get_slot("requested_slot"):
        return {}
    if intent_of(tracker) != opening:
        return {}
    subject = subject_of(latest_text(tracker), kind, maximum)
    if subject is None:
        return {}
    dispatcher.utter_message(
        text=f"Tôi đã ghi nhận {what}: “{subject}” (anh/chị sửa được ở bước xác nhận)."
    )
    return {slot: subject}


class _CaseFormValidation(FormValidationAction):
    """Shared checks of the two case forms; each subclass names its form."""

    form = ""

    def name(self) -> str:
        """validate_<form>."""
        return f"validate_{self.form}"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        """Nothing more to ask once cancelled or refused consent (the form then ends)."""
        if tracker.get_slot("case_cancelled"):
            return []
        if self.form == "explanation_form" and tracker.get_slot("case_consent") is False:
            return []
        slots = list(domain_slots)
        if self.form == "petition_form" and (
            tracker.get_slot("petition_contact_choice") is False
            or tracker.get_slot("case_consent") is False
        ):
            slots = [s for s in slots if s not in {"case_consent", "requester_contact"}]
        return slots

    async def validate_case_consent(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Yes or no; anything else asks again."""
        return answered_yes_no(
            "case_consent", value, tracker, dispatcher, "“Đồng ý” hoặc “Không đồng ý”"
        )

    async def validate_requester_name(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """A real full name."""
        return checked("requester_name", value, check_name, dispatcher)

    async def validate_requester_contact(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """A Vietnamese phone number or an address."""
        return checked("requester_contact", value, check_contact, dispatcher)

    async def validate_case_content(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Between 10 and 2,000 characters."""
        return checked("case_content", value, lambda text: check_text(text, "Nội dung"), dispatcher)

    async def validate_case_confirm(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Confirm files the case; 'Sửa' offers fields; a field button re-asks that field."""
        answer = answer_of(tracker, str(value or ""))
        if answer is Reply.CANCEL:
            return CANCELLED
        field = entity(tracker, "edit_field")
        if field in EDITABLE[self.form]:
            return {"case_confirm": None, "case_editing": False, field: None}
        if answer is Reply.AMBIGUOUS:  # "dung": đúng (send) or dừng (stop)? Ask.
            return {"case_confirm": None, "case_editing": ASK_WHICH}
        if answer is Reply.YES and intent_of(tracker) != "deny":
            return {"case_confirm": True, "case_editing": False}
        # "Sửa" (or anything unclear): the summary is shown again with one button per field.
        return {"case_confirm": None, "case_editing": True}


class ValidateExplanationForm(_CaseFormValidation):
    """Explanation request: consent, name, contact, agency, act, content, confirmation."""

    form = "explanation_form"

    async def validate_case_target(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """A known commune/ward/province or an agency name; suggests near matches."""
        if is_cancel(str(value or "")):
            return CANCELLED
        text = typed(value).strip()
        if len(text) > 300 or len(text) < 2:
            dispatcher.utter_message(
                text="Anh/chị ghi tên cơ quan hoặc xã/phường ngắn gọn giúp tôi."
            )
            return {"case_target": None}
        exact, suggestions = find(text)
        if len(exact) == 1:
            return {"case_target": exact[0].label}
        if exact:  # several places of that name: the citizen chooses, never a silent pick
            question, choices = place_choice(text, exact, button_limit(tracker))
            dispatcher.utter_message(
                text=question, buttons=[{"title": c.label, "payload": c.label} for c in choices]
            )
            return {"case_target": None}
        if any(contains(text, word) for word in AGENCY_WORDS):
            return {"case_target": text}
        if suggestions:
            dispatcher.utter_message(
                text=f"Tôi chưa tìm thấy “{text}”. Có phải anh/chị muốn nói:",
                buttons=[{"title": s.label, "payload": s.label} for s in suggestions[:4]],
            )
        else:
            dispatcher.utter_message(
                text=f"Tôi chưa tìm thấy cơ quan hoặc xã/phường “{text}”. Anh/chị kiểm tra lại tên "
                "(ví dụ: “phường Hoàn Kiếm, Hà Nội” hoặc “Sở Tài nguyên và Môi trường”)."
            )
        return {"case_target": None}

    async def extract_case_subject(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """What to explain, from an opening message that names it."""
        return from_opening(
            tracker, dispatcher, "case_subject", Kind.EXPLANATION, 500, "việc cần giải trình"
        )

    async def validate_case_subject(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """The decision or act to explain: 5 to 500 characters."""
        return checked(
            "case_subject",
            value,
            lambda text: check_text(text, "Quyết định/việc làm cần giải trình", 5, 500),
            dispatcher,
        )


class ValidatePetitionForm(_CaseFormValidation):
    """Petition: what, where, contact (optional), confirmation."""

    form = "petition_form"

    async def extract_case_content(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """What is wrong, from an opening message that says it."""
        return from_opening(
            tracker, dispatcher, "case_content", Kind.PETITION, MAX_TEXT, "nội dung phản ánh"
        )

    async def validate_case_location(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Where it happens: 3 to 300 characters."""
        return checked(
            "case_location", value, lambda text: check_text(text, "Địa điểm", 3, 300), dispatcher
        )

    async def validate_petition_contact_choice(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Leave a contact (then consent) or stay anonymous."""
        return answered_yes_no(
            "petition_contact_choice",
            value,
            tracker,
            dispatcher,
            "“Để lại liên hệ” hoặc “Gửi ẩn danh”",
        )
