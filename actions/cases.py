"""Case conversations: explanation requests and petitions (forms), status, ratings."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import contact_id, entity, intent_of, is_cancel, yes_no
from actions.deps import database
from bot.domain import codes
from bot.domain.cases import OPEN_STATUSES, STATUS_LABELS, Kind, Status
from bot.domain.intake import Check, Ok, check_contact, check_name, check_text
from bot.domain.localities import find
from bot.errors import GiaitrinhError, InvalidInput
from bot.services import cases as case_service
from bot.services.cases import CaseDraft, format_due
from nlu.text import fold

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

AGENCY_WORDS = (
    "ubnd",
    "uy ban",
    "hdnd",
    "so ",
    "bo ",
    "cuc ",
    "chi cuc",
    "cong an",
    "trung tam",
    "ban ",
    "phong ",
    "thanh tra",
    "thue",
    "kho bac",
    "bao hiem",
    "van phong",
    "toa an",
    "vien kiem sat",
)

CANCELLED = {"case_cancelled": True, "requested_slot": None}


def answered_yes_no(
    slot: str, value: Any, tracker: Tracker, dispatcher: CollectingDispatcher, choices: str
) -> dict[str, Any]:
    """A yes/no slot from buttons or words; anything else names the two choices again."""
    if is_cancel(str(value or "")):
        return CANCELLED
    answer = yes_no(tracker, str(value or ""))
    if answer is None:
        dispatcher.utter_message(text=f"Anh/chị vui lòng chọn {choices}.")
    return {slot: answer}


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
    result = check(_typed(value))
    if isinstance(result, Ok):
        return {slot: result.value}
    dispatcher.utter_message(text=result.message)
    return {slot: None}


def _text(tracker: Tracker) -> str:
    return str(tracker.latest_message.get("text") or "")


def _typed(value: Any) -> str:
    """Slot text, or '' for button payloads like '/affirm'."""
    text = str(value or "")
    return "" if text.startswith("/") else text


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
        if is_cancel(str(value or "")):
            return CANCELLED
        field = entity(tracker, "edit_field")
        if field in EDITABLE[self.form]:
            return {"case_confirm": None, "case_editing": False, field: None}
        answer = yes_no(tracker, str(value or ""))
        if answer is True and intent_of(tracker) != "deny":
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
        text = _typed(value).strip()
        if len(text) > 300 or len(text) < 2:
            dispatcher.utter_message(
                text="Anh/chị ghi tên cơ quan hoặc xã/phường ngắn gọn giúp tôi."
            )
            return {"case_target": None}
        exact, suggestions = find(text)
        if exact:
            return {"case_target": exact[0].label}
        folded = " " + fold(" ".join(text.split())) + " "
        if any(f" {word}" in folded for word in AGENCY_WORDS):
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


def _summary_lines(tracker: Tracker, form: str) -> list[str]:
    get = tracker.get_slot
    if form == "explanation_form":
        return [
            "Anh/chị kiểm tra lại yêu cầu giải trình:",
            f"• Họ tên: {get('requester_name')}",
            f"• Liên hệ: {get('requester_contact')}",
            f"• Cơ quan: {get('case_target')}",
            f"• Việc cần giải trình: {get('case_subject')}",
            f"• Nội dung: {get('case_content')}",
        ]
    anonymous = not get("petition_contact_choice") or get("case_consent") is False
    return [
        "Anh/chị kiểm tra lại phản ánh, kiến nghị:",
        f"• Nội dung: {get('case_content')}",
        f"• Địa điểm: {get('case_location')}",
        "• Liên hệ: gửi ẩn danh" if anonymous else f"• Liên hệ: {get('requester_contact')}",
    ]


class ActionAskCaseConfirm(Action):
    """Shows the summary with Confirm / Edit, or the fields to edit."""

    def name(self) -> str:
        """Rasa calls action_ask_<slot> to ask for case_confirm."""
        return "action_ask_case_confirm"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Summary first; after "Sửa", one button per field."""
        form = tracker.active_loop.get("name") or "explanation_form"
        lines = _summary_lines(tracker, form)
        if tracker.get_slot("case_editing"):
            fields = EDITABLE[form]
            if form == "petition_form" and not tracker.get_slot("requester_contact"):
                fields = {k: v for k, v in fields.items() if k != "requester_contact"}
            buttons = [
                {"title": f"Sửa {label.lower()}", "payload": f'/deny{{"edit_field":"{slot}"}}'}
                for slot, label in fields.items()
            ]
            buttons.append({"title": "Gửi luôn", "payload": "/affirm"})
            buttons.append({"title": "Hủy", "payload": "hủy"})
            dispatcher.utter_message(text="Anh/chị muốn sửa mục nào?", buttons=buttons)
            return []
        dispatcher.utter_message(
            text="\n".join(lines),
            buttons=[
                {"title": "Xác nhận gửi", "payload": "/affirm"},
                {"title": "Sửa thông tin", "payload": "/deny"},
                {"title": "Hủy", "payload": "hủy"},
            ],
        )
        return []


def attachments_since_form_start(tracker: Tracker) -> tuple[dict[str, Any], ...]:
    """Photos and locations the citizen sent while the case form was open."""
    collected: list[dict[str, Any]] = []
    for event in reversed(tracker.events):
        if event.get("event") == "active_loop" and event.get("name") in EDITABLE:
            break
        if event.get("event") == "user":
            collected.extend((event.get("metadata") or {}).get("attachments") or [])
    return tuple(reversed(collected))[:10]


def _reset() -> list[EventType]:
    return [SlotSet(name, None) for name in CASE_SLOTS]


class ActionSubmitCase(Action):
    """Files the confirmed case, or says why nothing was stored."""

    def name(self) -> str:
        """Runs when a case form ends."""
        return "action_submit_case"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Create the case through the service and tell the citizen its code and deadline."""
        get = tracker.get_slot
        is_petition = get("case_location") is not None or get("petition_contact_choice") is not None
        if get("case_cancelled"):
            dispatcher.utter_message(text="Đã hủy. Thông tin anh/chị vừa nhập không được lưu.")
            return _reset()
        if not is_petition and get("case_consent") is False:
            dispatcher.utter_message(
                text="Tôi tôn trọng lựa chọn của anh/chị: không có thông tin nào được lưu. "
                "Anh/chị vẫn có thể gửi yêu cầu giải trình trực tiếp tại Bộ phận tiếp nhận của "
                "cơ quan."
            )
            return _reset()
        if get("case_confirm") is not True:
            dispatcher.utter_message(text="Yêu cầu chưa được xác nhận nên chưa gửi.")
            return _reset()
        anonymous = is_petition and (
            not get("petition_contact_choice") or get("case_consent") is False
        )
        draft = CaseDraft(
            kind=Kind.PETITION if is_petition else Kind.EXPLANATION,
            content=str(get("case_content") or ""),
            target=str(get("case_target") or ""),
            subject=str(get("case_subject") or ""),
            requester_name="" if anonymous else str(get("requester_name") or ""),
            requester_contact="" if anonymous else str(get("requester_contact") or ""),
            location=str(get("case_location") or ""),
            attachments=attachments_since_form_start(tracker),
            anonymous=anonymous,
            consent=bool(get("case_consent")),
        )
        try:
            filed = await case_service.file_case(database(), draft, contact_id(tracker))
        except InvalidInput as exc:
            dispatcher.utter_message(text=f"Chưa gửi được: {exc.message}")
            return _reset()
        code = filed.display_code
        if filed.kind is Kind.EXPLANATION:
            text = (
                f"Đã tiếp nhận yêu cầu giải trình của anh/chị. Mã hồ sơ: {code}\n"
                f"Cơ quan sẽ quyết định tiếp nhận hay không chậm nhất {format_due(filed.due_at)} "
                "(5 ngày làm việc); nếu tiếp nhận, sẽ giải trình trong 15 ngày.\n"
                f"Để tra cứu, anh/chị nhắn: “kiểm tra {code}”."
            )
        elif anonymous:
            text = (
                f"Đã tiếp nhận phản ánh ẩn danh. Mã hồ sơ: {code}\n"
                "Vì anh/chị gửi ẩn danh, cơ quan không thể gửi thông báo kết quả cho anh/chị. "
                f"Cơ quan sẽ xử lý chậm nhất {format_due(filed.due_at)}."
            )
        else:
            text = (
                f"Đã tiếp nhận phản ánh của anh/chị. Mã hồ sơ: {code}\n"
                f"Cơ quan sẽ xử lý và trả lời chậm nhất {format_due(filed.due_at)}.\n"
                f"Để tra cứu, anh/chị nhắn: “kiểm tra {code}”."
            )
        dispatcher.utter_message(text=text)
        return _reset()


class ActionCheckStatus(Action):
    """Status of a case by code (owner only), or the contact's open cases."""

    def name(self) -> str:
        """Name in the domain."""
        return "action_check_status"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Unknown codes and other people's codes get the same answer."""
        who = contact_id(tracker)
        typed = entity(tracker, "case_code") or _find_code(_text(tracker))
        step = entity(tracker, "case_action")
        if typed and who and step in WITHDRAW_STEPS:
            await _withdraw(dispatcher, typed, who, confirmed=step == "withdraw_confirmed")
            return []
        if typed:
            view = await case_service.case_for_contact(database(), typed, who) if who else None
            if view is None:
                dispatcher.utter_message(
                    text=f"Không tìm thấy hồ sơ có mã “{typed}” của anh/chị. Anh/chị kiểm tra lại "
                    "mã (gồm 9 ký tự, ví dụ AB12-CD34E) trong tin nhắn xác nhận đã nhận."
                )
                return []
            lines = [
                f"Hồ sơ {codes.display(view.code)}: {STATUS_LABELS[Status(view.status)]}.",
                f"Cập nhật lần cuối: {format_due(view.updated_at).replace('ngày ', '')}.",
            ]
            if view.due_at is not None:
                lines.append(f"Hạn xử lý: {format_due(view.due_at)}.")
            if view.refusal_reason:
                lines.append(f"Lý do từ chối: {view.refusal_reason}")
            if view.answer:
                lines.append(f"Trả lời của cơ quan:\n{view.answer}")
            buttons = []
            if Status(view.status) in OPEN_STATUSES:
                shown = codes.display(view.code)
                buttons.append({"title": "Rút yêu cầu", "payload": _step(shown, "withdraw")})
            dispatcher.utter_message(text="\n".join(lines), buttons=buttons)
            return []
        open_cases = await case_service.open_cases_for_contact(database(), who) if who else []
        if not open_cases:
            dispatcher.utter_message(
                text="Anh/chị chưa có hồ sơ nào đang xử lý qua kênh này. Nếu có mã hồ sơ, anh/chị "
                "nhắn “kiểm tra” kèm mã (ví dụ: kiểm tra AB12-CD34E)."
            )
            return []
        lines = ["Hồ sơ của anh/chị:"]
        lines += [
            f"• {codes.display(c.code)}: {STATUS_LABELS[Status(c.status)]}"
            + (f", hạn {format_due(c.due_at)}" if c.due_at else "")
            for c in open_cases
        ]
        dispatcher.utter_message(text="\n".join(lines))
        return []


WITHDRAW_STEPS = frozenset({"withdraw", "withdraw_confirmed"})


def _step(code: str, action: str | None = None) -> str:
    """A check_status button payload for a case, with an optional next step."""
    extra = f',"case_action":"{action}"' if action else ""
    return f'/check_status{{"case_code":"{code}"{extra}}}'


async def _withdraw(
    dispatcher: CollectingDispatcher, code_text: str, who: int, confirmed: bool
) -> None:
    """Ask once, then withdraw; someone else's code is "not found" as everywhere."""
    view = await case_service.case_for_contact(database(), code_text, who)
    if view is None:
        dispatcher.utter_message(text=f"Không tìm thấy hồ sơ có mã “{code_text}” của anh/chị.")
        return
    shown = codes.display(view.code)
    if Status(view.status) not in OPEN_STATUSES:
        dispatcher.utter_message(
            text=f"Hồ sơ {shown} {STATUS_LABELS[Status(view.status)].lower()}, không rút được nữa."
        )
        return
    if not confirmed:
        dispatcher.utter_message(
            text=f"Anh/chị chắc chắn muốn rút yêu cầu {shown}? Sau khi rút, cơ quan dừng xử lý "
            "và anh/chị không nhận được trả lời cho yêu cầu này.",
            buttons=[
                {"title": "Rút yêu cầu", "payload": _step(shown, "withdraw_confirmed")},
                {"title": "Không rút", "payload": _step(shown)},
            ],
        )
        return
    try:
        await case_service.withdraw_for_contact(database(), code_text, who)
    except GiaitrinhError:  # answered or closed meanwhile: say where it stands
        dispatcher.utter_message(
            text=f"Hồ sơ {shown} vừa thay đổi trạng thái nên chưa rút được. Anh/chị nhắn "
            f"“kiểm tra {shown}” để xem tình trạng mới nhất."
        )
        return
    dispatcher.utter_message(
        text=f"Đã rút yêu cầu {shown}. Cơ quan đã được báo và sẽ dừng xử lý. "
        "Khi cần, anh/chị có thể gửi yêu cầu mới."
    )


def _find_code(text: str) -> str | None:
    """The case code the citizen typed, if any.

    A valid code (its check symbol matches) wins; otherwise a code-shaped token with a digit,
    a dash or in capitals is taken as a mistyped code (answered "not found"); code-shaped
    words such as "giai trinh" are ignored.
    """
    candidates = [m.group(0) for m in re.finditer(r"\b[0-9A-Za-z]{4}[\s\-]?[0-9A-Za-z]{5}\b", text)]
    for candidate in candidates:
        if codes.parse(candidate):
            return candidate
    for candidate in candidates:
        if any(ch.isdigit() for ch in candidate) or "-" in candidate or candidate.isupper():
            return candidate
    return None


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
        who = contact_id(tracker)
        if not code or not rating or not rating.isdigit() or who is None:
            dispatcher.utter_message(
                text="Tôi chưa ghi nhận được đánh giá, anh/chị bấm lại giúp tôi."
            )
            return [SlotSet("rating_case_code", None)]
        try:
            ok = await case_service.rate_case(database(), code, who, int(rating))
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
        text = _typed(value)
        if not text or is_cancel(text) or yes_no(tracker, text) is False:
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
        who = contact_id(tracker)
        if code and comment and who is not None:
            rated = await case_service.rate_case(
                database(), code, who, score=0, comment=comment, keep_score=True
            )
            if rated:
                dispatcher.utter_message(text="Cảm ơn góp ý của anh/chị, cơ quan sẽ xem xét.")
        return [SlotSet("rating_case_code", None), SlotSet("rating_comment", None)]
