"""Where a citizen's cases stand, by code or all open ones, and withdrawing one."""

from __future__ import annotations

import re

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import contact_id, entity, latest_text
from actions.deps import database
from bot.domain import codes
from bot.domain.case_texts import case_list_line, status_text
from bot.domain.cases import status_label
from bot.errors import GiaitrinhError
from bot.services import case_queries
from bot.services import cases as case_service

WITHDRAW_STEPS = frozenset({"withdraw", "withdraw_confirmed"})


class ActionCheckStatus(Action):
    """Status of a case by code (owner only), or the contact's open cases."""

    def name(self) -> str:
        """Name in the domain."""
        return "action_check_status"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Unknown codes and other people's codes get the same answer."""
        who = await contact_id(tracker)
        typed = entity(tracker, "case_code") or _find_code(latest_text(tracker))
        step = entity(tracker, "case_action")
        if typed and who and step in WITHDRAW_STEPS:
            await _withdraw(dispatcher, typed, who, confirmed=step == "withdraw_confirmed")
            return []
        if typed:
            view = await case_queries.case_for_contact(database(), typed, who) if who else None
            if view is None:
                dispatcher.utter_message(
                    text=f"Không tìm thấy hồ sơ có mã “{typed}” của anh/chị. Anh/chị kiểm tra lại "
                    "mã (gồm 9 ký tự, ví dụ AB12-CD34E) trong tin nhắn xác nhận đã nhận."
                )
                return []
            text = status_text(
                view.code,
                view.status,
                updated_at=view.updated_at,
                due_at=view.due_at,
                refusal_reason=view.refusal_reason,
                answer=view.answer,
                kind=view.kind,
            )
            buttons = []
            if view.is_open:
                shown = codes.display(view.code)
                buttons.append({"title": "Rút yêu cầu", "payload": _step(shown, "withdraw")})
            dispatcher.utter_message(text=text, buttons=buttons)
            return []
        open_cases = await case_queries.open_cases_for_contact(database(), who) if who else []
        if not open_cases:
            dispatcher.utter_message(
                text="Anh/chị chưa có hồ sơ nào đang xử lý qua kênh này. Nếu có mã hồ sơ, anh/chị "
                "nhắn “kiểm tra” kèm mã (ví dụ: kiểm tra AB12-CD34E)."
            )
            return []
        lines = ["Hồ sơ của anh/chị:"]
        lines += [case_list_line(c.code, c.status, c.due_at, kind=c.kind) for c in open_cases]
        dispatcher.utter_message(text="\n".join(lines))
        return []


def _step(code: str, action: str | None = None) -> str:
    """A check_status button payload for a case, with an optional next step."""
    extra = f',"case_action":"{action}"' if action else ""
    return f'/check_status{{"case_code":"{code}"{extra}}}'


async def _withdraw(
    dispatcher: CollectingDispatcher, code_text: str, who: int, confirmed: bool
) -> None:
    """Ask once, then withdraw; someone else's code is "not found" as everywhere."""
    view = await case_queries.case_for_contact(database(), code_text, who)
    if view is None:
        dispatcher.utter_message(text=f"Không tìm thấy hồ sơ có mã “{code_text}” của anh/chị.")
        return
    shown = codes.display(view.code)
    if not view.is_open:
        dispatcher.utter_message(
            text=f"Hồ sơ {shown}: {status_label(view.kind, view.status)}, không rút được nữa."
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
