"""Handing a conversation over to a person, end to end over real HTTP with the real engine:
the citizen asks in the web chat, an operator works it through the API (the console uses the
same services), and the bot takes over again."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

import actions.deps
from bot.domain.deadlines import VN_TZ
from bot.domain.office_hours import OfficeHours
from bot.gateway import DB, SETTINGS
from bot.services.knowledge import KnowledgeBase
from bot.services.users import create_user
from bot.store.cases import case_by_code
from tests.chat import buttons, press, said, wait_for
from tests.conftest import RunningGateway
from tests.integration.test_case_api import call

DEMO = "ubnd-phuong-demo"
WORKING_HOUR = datetime(2026, 11, 25, 9, 0, tzinfo=VN_TZ)  # a Wednesday morning
SATURDAY_NIGHT = datetime(2026, 11, 28, 20, 0, tzinfo=VN_TZ)


def at_hour(gw: RunningGateway, moment: datetime) -> None:
    """The bot's clock for offers and requests of a person reads `moment`."""
    policy = replace(gw.app[SETTINGS].handoff, clock=lambda: moment)
    actions.deps.configure(gw.app[DB], KnowledgeBase(), handoff=policy)


class AlwaysOpen(OfficeHours):
    """Operators at work at any hour (browser tests run on the real clock, day or night)."""

    def is_open(self, moment: datetime) -> bool:
        """Always."""
        return True


def always_open(gw: RunningGateway) -> None:
    """The real clock, and a desk that never closes."""
    policy = replace(gw.app[SETTINGS].handoff, hours=AlwaysOpen(OfficeHours.parse().spans))
    actions.deps.configure(gw.app[DB], KnowledgeBase(), handoff=policy)


async def operators(gw: RunningGateway) -> tuple[str, str]:
    """Two operators of the demo agency (API tokens)."""
    db = gw.app[DB]
    first = await create_user(db, "tongdai1", "operator", DEMO, display_name="Lan")
    second = await create_user(db, "tongdai2", "operator", DEMO, display_name="Minh")
    return first, second


async def queue(gw: RunningGateway, token: str) -> list[dict[str, Any]]:
    status, body = await call(gw, token, "GET", "/handoffs")
    assert status == 200, body
    return list(body["handoffs"])


async def test_operator_takes_over_answers_and_gives_back_to_the_bot(
    gateway: RunningGateway,
) -> None:
    gw = gateway
    at_hour(gw, WORKING_HOUR)
    lan, minh = await operators(gw)
    chat = await gw.chat()

    offer = await chat.say("cho tôi gặp cán bộ")
    assert "trò chuyện trực tiếp với cán bộ" in said(offer), said(offer)
    assert "Gửi phản ánh, kiến nghị" not in buttons(offer), "within hours: no detour offered"
    queued = await press(chat, offer, "Gặp cán bộ")
    assert "đã chuyển cuộc trò chuyện cho cán bộ" in said(queued), said(queued)
    assert "15 phút" in said(queued)

    silent = await chat.say("Tôi hỏi về hồ sơ đất đai của gia đình")
    assert silent["replies"] == [], "while handed off, the bot says nothing"
    (entry,) = await queue(gw, lan)
    assert entry["status"] == "waiting" and entry["reason"] == "asked", entry
    assert entry["last_text"] == "Tôi hỏi về hồ sơ đất đai của gia đình"

    status, claimed = await call(gw, lan, "POST", f"/handoffs/{entry['id']}/claim")
    assert status == 200 and claimed["claimed_by"] == "Lan", claimed
    await wait_for(chat, "Cán bộ Lan đang hỗ trợ anh/chị")
    status, refused = await call(gw, minh, "POST", f"/handoffs/{entry['id']}/claim")
    assert status == 409 and refused["error"]["code"] == "already_claimed", refused
    status, refused = await call(
        gw, minh, "POST", f"/handoffs/{entry['id']}/messages", {"text": "Chào anh"}
    )
    assert status == 409 and refused["error"]["code"] == "not_claimed", refused

    status, seen = await call(gw, lan, "GET", f"/handoffs/{entry['id']}")
    assert status == 200, seen
    lines = {(line["author"], line["text"]): line for line in seen["transcript"]}
    asked = lines[("citizen", "cho tôi gặp cán bộ")]
    assert asked["intent"] == "request_human", asked
    assert lines[("citizen", "Tôi hỏi về hồ sơ đất đai của gia đình")]["intent"] is None
    assert any(author == "bot" and "chuyển cuộc trò chuyện" in text for author, text in lines)

    draft = seen["case_draft"]
    assert draft["content"] == "Tôi hỏi về hồ sơ đất đai của gia đình", draft
    wrong = {**draft, "locality": "w:0"}
    status, refused = await call(gw, lan, "POST", f"/handoffs/{entry['id']}/case", wrong)
    assert status == 400 and refused["error"]["code"] == "invalid_locality", refused
    draft = {**draft, "locality": "w:70", "topic": "dat-dai"}  # for reports
    status, filed = await call(gw, lan, "POST", f"/handoffs/{entry['id']}/case", draft)
    assert status == 201, filed
    async with gw.app[DB].session() as session:
        stored = await case_by_code(session, filed["code"])
        assert stored is not None
        assert (stored.locality, stored.province, stored.topic) == ("w:70", "p:1", "dat-dai")
    await wait_for(chat, f"Mã hồ sơ: {filed['code']}")
    status, case = await call(gw, lan, "GET", f"/cases/{filed['code']}")
    assert status == 200 and case["content"] == draft["content"], case
    assert case["events"][0]["actor"] == "user:tongdai1", case["events"]

    answer = "Chào anh/chị, hồ sơ đất đai nộp tại bộ phận một cửa của phường."
    status, sent = await call(
        gw, lan, "POST", f"/handoffs/{entry['id']}/messages", {"text": answer}
    )
    assert status == 201 and sent["author"] == "operator:Lan", sent
    await wait_for(chat, answer)
    status, back = await call(gw, lan, "POST", f"/handoffs/{entry['id']}/return")
    assert status == 200 and back["status"] == "returned", back
    assert back["first_response_s"] is not None and back["handling_s"] is not None, back
    await wait_for(chat, "Trợ lý tự động tiếp tục trả lời anh/chị")
    assert await queue(gw, lan) == []

    answered = await chat.say("Cơ quan phải trả lời yêu cầu giải trình trong bao lâu?")
    assert "5 ngày làm việc" in said(answered), said(answered)


async def test_outside_working_hours_the_request_waits_and_the_bot_goes_on(
    gateway: RunningGateway,
) -> None:
    gw = gateway
    at_hour(gw, SATURDAY_NIGHT)
    lan, _ = await operators(gw)
    chat = await gw.chat()

    offer = await chat.say("gặp cán bộ")
    text = said(offer)
    assert "ngoài giờ làm việc" in text and "sáng thứ Hai 30/11 lúc 7 giờ 30" in text, text
    assert {"Gặp cán bộ", "Gửi phản ánh, kiến nghị", "Không cần"} <= set(buttons(offer))
    waiting = await press(chat, offer, "Gặp cán bộ")
    assert "ghi nhận yêu cầu gặp cán bộ" in said(waiting), said(waiting)
    assert "sáng thứ Hai 30/11 lúc 7 giờ 30" in said(waiting)
    (entry,) = await queue(gw, lan)
    assert entry["status"] == "waiting", entry

    answered = await chat.say("Cơ quan phải trả lời yêu cầu giải trình trong bao lâu?")
    assert "5 ngày làm việc" in said(answered), "the bot still helps while the request waits"
    again = await chat.say("cho tôi gặp cán bộ")
    assert "đã được ghi nhận" in said(again), said(again)
    assert len(await queue(gw, lan)) == 1, "asking again adds nothing to the queue"

    status, _ = await call(gw, lan, "POST", f"/handoffs/{entry['id']}/claim")
    assert status == 200
    await wait_for(chat, "Cán bộ Lan đang hỗ trợ anh/chị")
    silent = await chat.say("Chào cán bộ")
    assert silent["replies"] == [], "claimed: the bot is silent"


async def test_not_understood_twice_in_a_row_offers_a_person_and_a_typed_yes_takes_it(
    gateway: RunningGateway,
) -> None:
    gw = gateway
    at_hour(gw, WORKING_HOUR)
    lan, _ = await operators(gw)
    chat = await gw.chat()
    first = await chat.say("zzqx vvbn")
    assert "chưa hiểu" in said(first), said(first)
    second = await chat.say("blorp kkq")
    assert "vẫn chưa hiểu" in said(second), said(second)
    assert "Gặp cán bộ" in buttons(second)
    queued = await chat.say("có")
    assert "đã chuyển cuộc trò chuyện cho cán bộ" in said(queued), said(queued)
    (entry,) = await queue(gw, lan)
    assert entry["reason"] == "misunderstood", entry


async def test_declining_the_offer_keeps_the_bot(gateway: RunningGateway) -> None:
    gw = gateway
    at_hour(gw, WORKING_HOUR)
    lan, _ = await operators(gw)
    chat = await gw.chat()
    offer = await chat.say("cho tôi nói chuyện với người thật")
    declined = await press(chat, offer, "Không cần")
    assert "cần gì thêm" in said(declined), said(declined)
    assert await queue(gw, lan) == []
