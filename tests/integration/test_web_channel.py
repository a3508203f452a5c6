"""The web chat API against a real database, with the engine unreachable."""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import func, select

from bot.domain.messages import Direction, MessageStatus
from bot.gateway import DB
from bot.services.conversations import APOLOGY
from bot.store.models import Message
from tests.chat import buttons, said
from tests.conftest import RunningGateway, WebChat


async def _count_inbound(gw: RunningGateway) -> int:
    async with gw.app[DB].session() as session:
        return int(
            await session.scalar(
                select(func.count()).select_from(Message).where(Message.direction == Direction.IN)
            )
            or 0
        )


async def test_message_is_stored_and_apologised_for_when_engine_is_down(
    offline_gateway: RunningGateway,
) -> None:
    chat = await offline_gateway.chat()
    data = await chat.say("xin chào")
    assert data["message"]["text"] == "xin chào"
    assert [r["text"] for r in data["replies"]] == [APOLOGY]
    async with offline_gateway.app[DB].session() as session:
        stored = await session.get(Message, data["message"]["id"])
        assert stored is not None and stored.status == MessageStatus.PENDING, (
            "message must wait for the engine"
        )


async def test_second_delivery_of_same_client_message_is_stored_once(
    offline_gateway: RunningGateway,
) -> None:
    chat = await offline_gateway.chat()
    client_id = uuid.uuid4().hex
    first = await chat.say("cho mình hỏi thủ tục", client_id=client_id)
    second = await chat.say("cho mình hỏi thủ tục", client_id=client_id)
    assert second["duplicate"] is True and first["duplicate"] is False
    assert second["message"]["id"] == first["message"]["id"]
    assert await _count_inbound(offline_gateway) == 1


async def test_concurrent_duplicates_are_stored_once(offline_gateway: RunningGateway) -> None:
    chat = await offline_gateway.chat()
    client_id = uuid.uuid4().hex
    results = await asyncio.gather(*(chat.say("alo", client_id=client_id) for _ in range(5)))
    assert len({r["message"]["id"] for r in results}) == 1
    assert sum(not r["duplicate"] for r in results) == 1
    assert await _count_inbound(offline_gateway) == 1


async def test_same_client_id_from_two_browsers_are_two_messages(
    offline_gateway: RunningGateway,
) -> None:
    client_id = uuid.uuid4().hex
    a = await (await offline_gateway.chat()).say("một", client_id=client_id)
    b = await (await offline_gateway.chat()).say("hai", client_id=client_id)
    assert a["message"]["id"] != b["message"]["id"]
    assert b["duplicate"] is False


async def test_too_long_message_is_refused_with_the_limit_and_nothing_stored(
    offline_gateway: RunningGateway,
) -> None:
    chat = await offline_gateway.chat()
    status, body = await chat.post(
        {"session_id": chat.session_id, "client_message_id": uuid.uuid4().hex, "text": "a" * 20_000}
    )
    assert status == 400
    assert body["error"]["code"] == "text_too_long"
    assert body["error"]["message"] == (
        "Tin nhắn dài 20.000 ký tự, quá giới hạn 2.000 ký tự của một tin nhắn. "
        "Anh/chị vui lòng chia thành nhiều tin nhắn ngắn hơn; nếu là nội dung phản ánh "
        "hoặc yêu cầu giải trình, anh/chị gõ “gửi phản ánh” hoặc “yêu cầu giải trình” "
        "để gửi thành hồ sơ."
    )
    assert await _count_inbound(offline_gateway) == 0


async def test_a_new_session_is_greeted_with_the_menu_the_bot_gives_to_xin_chao(
    gateway: RunningGateway,
) -> None:
    chat = await gateway.chat()
    (greeting,) = await chat.history()
    assert greeting["direction"] == "out"

    reopened = WebChat(gateway.http, gateway.base_url)  # the page loaded again, same session
    reopened.session_id = chat.session_id
    assert await reopened.history() == [greeting], "a session is greeted once, not per visit"

    data = await chat.say("xin chào")
    assert said(data) == greeting["text"]
    assert buttons(data) == {b["title"]: b["payload"] for b in greeting["buttons"]}
    assert "Hướng dẫn" in buttons(data)

    other = await gateway.chat()
    assert [m["id"] for m in await other.history()] != [greeting["id"]], "its own greeting"


async def test_the_greeting_is_stored_as_a_sent_message_without_the_engine(
    offline_gateway: RunningGateway,
) -> None:
    chat = await offline_gateway.chat()
    (greeting,) = await chat.history()
    assert greeting["text"].startswith("Xin chào anh/chị!")
    async with offline_gateway.app[DB].session() as session:
        stored = await session.get(Message, greeting["id"])
        assert stored is not None
        assert (stored.direction, stored.status, stored.kind) == (
            Direction.OUT,
            MessageStatus.SENT,
            "greeting",
        )
    assert await _count_inbound(offline_gateway) == 0


async def test_invalid_utf8_and_non_json_bodies_get_clear_errors(
    offline_gateway: RunningGateway,
) -> None:
    url = f"{offline_gateway.base_url}/api/web/messages"
    for raw in (b'{"text": "\xff\xfe"}', b"not json", b"[1, 2]"):
        async with offline_gateway.http.post(
            url, data=raw, headers={"Content-Type": "application/json"}
        ) as resp:
            assert resp.status == 400, raw
            assert (await resp.json())["error"]["code"] == "invalid_json"


async def test_each_malformed_field_gets_the_code_the_page_knows(
    offline_gateway: RunningGateway,
) -> None:
    chat = await offline_gateway.chat()
    good = {"session_id": chat.session_id, "client_message_id": uuid.uuid4().hex, "text": "hi"}
    cases = [
        ({"session_id": None}, 404, "session_not_found"),
        ({"session_id": "short"}, 404, "session_not_found"),
        ({"client_message_id": "no"}, 400, "invalid_client_message_id"),
        ({"client_message_id": None}, 400, "invalid_client_message_id"),
        ({"text": None}, 400, "invalid_text"),
        ({"text": 5}, 400, "invalid_text"),
        ({"payload": ["x"]}, 400, "invalid_text"),
        ({"payload": ""}, 400, "invalid_payload"),
        ({"payload": "x" * 257}, 400, "invalid_payload"),
        ({"text": "   "}, 400, "empty_text"),
    ]
    for change, status, code in cases:
        got_status, body = await chat.post({**good, **change})
        assert (got_status, body["error"]["code"]) == (status, code), change
    missing = {k: v for k, v in good.items() if k != "client_message_id"}
    assert (await chat.post(missing))[1]["error"]["code"] == "invalid_client_message_id"
    assert await _count_inbound(offline_gateway) == 0


async def test_unknown_session_is_404_not_a_new_contact(offline_gateway: RunningGateway) -> None:
    chat = await offline_gateway.chat()
    chat.session_id = "x" * 32
    status, body = await chat.post(
        {"session_id": chat.session_id, "client_message_id": uuid.uuid4().hex, "text": "hi"}
    )
    assert status == 404 and body["error"]["code"] == "session_not_found"


async def test_html_is_kept_as_text(offline_gateway: RunningGateway) -> None:
    chat = await offline_gateway.chat()
    text = '<script>alert("x")</script> Nguyễn <b>Văn</b> A'
    await chat.say(text)
    history = await chat.history()
    assert [m["text"] for m in history if m["direction"] == "in"] == [text]


async def test_history_survives_a_new_client_and_respects_after(
    offline_gateway: RunningGateway,
) -> None:
    chat = await offline_gateway.chat()
    first = await chat.say("một")
    await chat.say("hai")
    everything = await chat.history()
    later = await chat.history(after=first["message"]["id"])
    assert [m["text"] for m in everything if m["direction"] == "in"] == ["một", "hai"]
    assert all(m["id"] > first["message"]["id"] for m in later)
    assert later == [m for m in everything if m["id"] > first["message"]["id"]]
    assert len(later) < len(everything)


async def test_only_one_apology_per_waiting_message(offline_gateway: RunningGateway) -> None:
    chat = await offline_gateway.chat()
    await chat.say("một")
    await chat.say("hai")
    assert (
        await offline_gateway.flow.process_conversation(await _conversation_id(offline_gateway))
        is False
    ), "engine is down, the messages stay pending"
    apologies = [m for m in await chat.history() if m["text"] == APOLOGY]
    assert len(apologies) == 2, "each waiting message is acknowledged exactly once"


async def _conversation_id(gw: RunningGateway) -> int:
    async with gw.app[DB].session() as session:
        return int(await session.scalar(select(Message.conversation_id).limit(1)) or 0)


async def test_healthz_reports_engine_unavailable(offline_gateway: RunningGateway) -> None:
    async with offline_gateway.http.get(f"{offline_gateway.base_url}/healthz") as resp:
        body = await resp.json()
    assert resp.status == 200
    loops = body.pop("loops")  # their details: test_conversations.py
    assert sorted(loops) == ["deadlines", "engine_retry", "outbox", "retention"], loops
    [engine] = body.pop("engines")
    assert engine["ready"] is False and engine["turns"] == 0, engine
    assert engine["last_error"] == "ClientConnectorError", engine
    assert body == {
        "status": "ok",
        "database": "ok",
        "engine": "unavailable",
        "channels": ["web"],
        "outbox": {"due": 0, "oldest_due_seconds": 0.0, "sending": 0, "unknown": 0, "deferred": 0},
    }


async def test_the_too_long_advice_starts_the_case_forms_it_names(gateway: RunningGateway) -> None:
    chat = await gateway.chat()
    long_text = "Đường trước nhà tôi bị ngập. " * 80
    status, body = await chat.post(
        {"session_id": chat.session_id, "client_message_id": uuid.uuid4().hex, "text": long_text}
    )
    assert status == 400 and "“gửi phản ánh” hoặc “yêu cầu giải trình”" in body["error"]["message"]

    petition = said(await chat.say("gửi phản ánh"))
    assert "phản ánh" in petition and "về việc gì" in petition, petition
    explanation = said(await (await gateway.chat()).say("yêu cầu giải trình"))
    assert "yêu cầu giải trình" in explanation and "đồng ý" in explanation, explanation
