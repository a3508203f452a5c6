"""The end of a case form: the summary with Confirm / Edit (and one button per field to
correct), then filing the confirmed case through the service."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.case_forms import ASK_WHICH, CASE_SLOTS, EDITABLE
from actions.common import ambiguous_text, contact_id, latest_text
from actions.deps import database
from actions.privacy import forget_form
from bot.domain.case_texts import filed_text
from bot.domain.cases import Kind
from bot.domain.localities import named_place
from bot.errors import InvalidInput
from bot.services import cases as case_service
from bot.services.cases import CaseDraft


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
        if tracker.get_slot("case_editing") == ASK_WHICH:
            dispatcher.utter_message(
                text=f"{ambiguous_text(latest_text(tracker))} Anh/chị muốn xác nhận gửi (đúng) "
                "hay dừng lại?",
                buttons=[
                    {"title": "Đúng, gửi đi", "payload": "/affirm"},
                    {"title": "Dừng lại", "payload": "dừng lại"},
                ],
            )
            return []
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
            await forget_form(tracker)
            return _reset()
        if not is_petition and get("case_consent") is False:
            dispatcher.utter_message(
                text="Tôi tôn trọng lựa chọn của anh/chị: không có thông tin nào được lưu. "
                "Anh/chị vẫn có thể gửi yêu cầu giải trình trực tiếp tại Bộ phận tiếp nhận của "
                "cơ quan."
            )
            await forget_form(tracker)
            return _reset()
        if get("case_confirm") is not True:
            dispatcher.utter_message(text="Yêu cầu chưa được xác nhận nên chưa gửi.")
            await forget_form(tracker)
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
            # the commune or province the case is about, when the citizen named exactly one
            # (the agency of an explanation request, or where a petition's problem is): reports
            # group cases by it
            locality=_place(str(get("case_location" if is_petition else "case_target") or "")),
            attachments=attachments_since_form_start(tracker),
            anonymous=anonymous,
            consent=bool(get("case_consent")),
        )
        try:
            filed = await case_service.file_case(database(), draft, await contact_id(tracker))
        except InvalidInput as exc:
            dispatcher.utter_message(text=f"Chưa gửi được: {exc.message}")
            await forget_form(tracker)
            return _reset()
        dispatcher.utter_message(text=filed_text(filed.code, filed.kind, filed.due_at, anonymous))
        return _reset()


def _place(text: str) -> str:
    """The code of the one place a form answer names, or ""."""
    place = named_place(text)
    return place.code if place is not None else ""
