"""What a citizen sees and does in a chat, for conversation tests: the bot's words, its
buttons, pressing one, waiting for a pushed message."""

from __future__ import annotations

import asyncio
import itertools
import json
import re
from pathlib import Path
from typing import Any

from tests.conftest import RunningGateway, WebChat

TELEGRAM_DATA = Path(__file__).resolve().parent / "data" / "telegram"
TELEGRAM_MESSAGE = TELEGRAM_DATA / "telegram_update_message.json"
_update_ids = itertools.count(820000001)

CODE = re.compile(r"Mã hồ sơ: ([0-9A-Z]{4}-[0-9A-Z]{5})")


def said(data: dict[str, Any]) -> str:
    """Every reply's text of one answer, joined by lines."""
    return "\n".join(r["text"] for r in data["replies"])


def buttons(data: dict[str, Any]) -> dict[str, str]:
    """The buttons of one answer, title to payload."""
    return {b["title"]: b["payload"] for r in data["replies"] for b in r["buttons"]}


async def press(chat: WebChat, data: dict[str, Any], title: str) -> dict[str, Any]:
    """Click the button called `title` in the last answer."""
    choices = buttons(data)
    assert title in choices, f"no button {title!r} in {list(choices)}"
    return await chat.say(title, payload=choices[title])


async def wait_for(chat: WebChat, text: str, after: int = 0) -> dict[str, Any]:
    """The first outbound message containing `text` (pushed messages arrive later)."""
    for _ in range(100):
        for message in await chat.history(after=after):
            if message["direction"] == "out" and text in message["text"]:
                return message
        await asyncio.sleep(0.1)
    raise AssertionError(f"no message containing {text!r}")


async def file_explanation_request(chat: WebChat) -> str:
    """The whole form, with one bad phone number and one correction; returns the code."""
    data = await chat.say("tôi muốn yêu cầu UBND giải trình quyết định thu hồi đất")
    assert "đồng ý" in said(data).lower(), said(data)
    data = await press(chat, data, "Đồng ý")
    assert "họ và tên" in said(data)
    data = await chat.say("Nguyễn Thị Lan")
    assert "Số điện thoại" in said(data)
    data = await chat.say("0912 34 567")
    assert "10 chữ số" in said(data), "a wrong number must be explained"
    data = await chat.say("0912 345 678")
    assert "cơ quan nào" in said(data)
    data = await chat.say("phuong hoan kiem")
    assert "Quyết định hoặc việc làm" in said(data)
    data = await chat.say("Quyết định thu hồi đất số 12/QĐ-UBND ngày 10/3/2026")
    assert "nội dung" in said(data).lower()
    data = await chat.say(
        "Gia đình tôi không được thông báo trước khi thu hồi đất, đề nghị cơ quan giải trình "
        "căn cứ pháp lý và mức bồi thường."
    )
    summary = said(data)
    assert "Phường Hoàn Kiếm, Thành phố Hà Nội" in summary and "0912345678" in summary
    data = await press(chat, data, "Sửa thông tin")
    data = await press(chat, data, "Sửa liên hệ")
    assert "Số điện thoại" in said(data)
    data = await chat.say("0987654321")
    assert "0987654321" in said(data) and "0912345678" not in said(data)
    data = await press(chat, data, "Xác nhận gửi")
    match = CODE.search(said(data))
    assert match, said(data)
    assert "5 ngày làm việc" in said(data)
    return match.group(1)


async def post_update(gw: RunningGateway, chat_id: int, text: str, secret: str) -> int:
    """A Telegram webhook call (a new update each time) with one text message from `chat_id`;
    returns the HTTP status."""
    update = json.loads(TELEGRAM_MESSAGE.read_text(encoding="utf-8"))
    update["update_id"] = update["message"]["message_id"] = next(_update_ids)
    update["message"]["text"] = text
    update["message"]["chat"]["id"] = update["message"]["from"]["id"] = chat_id
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret}
    async with gw.http.post(f"{gw.base_url}/webhooks/telegram", json=update, headers=headers) as r:
        return r.status
