"""The help menu: what the assistant can do, and how to reach the agency in person."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.deps import database
from bot.services.agencies import agency_info

MENU_BUTTONS = [
    {"title": "Hỏi về chính sách, thủ tục", "payload": "/ask_question"},
    {"title": "Gửi yêu cầu giải trình", "payload": "/request_explanation"},
    {"title": "Gửi phản ánh, kiến nghị", "payload": "/submit_petition"},
    {"title": "Tra cứu hồ sơ", "payload": "/check_status"},
    {"title": "Đăng ký nhận tin", "payload": "/subscribe"},
    {"title": "Gặp cán bộ", "payload": "/request_human"},
]


async def send_help_menu(dispatcher: CollectingDispatcher) -> None:
    """What the citizen can do here, with the agency's own contact details."""
    agency = await agency_info(database())
    lines = ["Tôi có thể giúp anh/chị:"]
    lines += [
        "• Trả lời câu hỏi về chính sách, thủ tục hành chính",
        "• Tiếp nhận yêu cầu giải trình và phản ánh, kiến nghị",
        "• Tra cứu tình trạng hồ sơ bằng mã hồ sơ",
        "• Đăng ký nhận thông tin giải trình chính sách mới",
        "• Chuyển anh/chị gặp cán bộ khi cần",
        "• Cho xem và xóa dữ liệu của anh/chị: gõ “xem dữ liệu của tôi”",
    ]
    if agency is not None:
        lines.append("")
        lines.append(f"Cơ quan: {agency.name}")
        if agency.contact:
            lines.append(f"Liên hệ trực tiếp: {agency.contact}")
    dispatcher.utter_message(text="\n".join(lines), buttons=MENU_BUTTONS)


class ActionShowHelp(Action):
    """Lists what the citizen can do here, with the agency's own contact details."""

    def name(self) -> str:
        """Name used in the domain and rules."""
        return "action_show_help"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Send the menu; the agency's name and contact come from the database."""
        await send_help_menu(dispatcher)
        return []
