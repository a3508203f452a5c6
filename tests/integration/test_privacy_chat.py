"""Personal data in chat, through the real engine: a cancelled form leaves nothing behind in
either store, and a citizen can see and erase what is stored about them."""

from __future__ import annotations

import json
import sqlite3
import stat
from typing import Any

from sqlalchemy import select

from bot.domain.localities import COUNTRY
from bot.enginectl import EngineProcess
from bot.gateway import DB
from bot.store.models import (
    Agency,
    Broadcast,
    Case,
    Contact,
    Conversation,
    Delivery,
    Explanation,
    Message,
    Subscription,
)
from tests.chat import CODE, buttons, press, said
from tests.conftest import RunningGateway, WebChat, dangling_deliveries

# Values no other test types, so the shared engine's tracker can be searched for them.
NAME = "Đỗ Khải Huyền"
PHONE = "0903 271 846"
PHONE_DIGITS = "0903271846"


def tracker_texts(engine: EngineProcess) -> list[str]:
    """Every event the engine stored (any conversation), as readable JSON."""
    with sqlite3.connect(engine.config.tracker_db) as conn:
        rows = conn.execute("SELECT data FROM events").fetchall()
    return [json.dumps(json.loads(data), ensure_ascii=False) for (data,) in rows]


def sender_events(engine: EngineProcess, sender: str) -> int:
    """How many events the engine keeps for one sender id."""
    with sqlite3.connect(engine.config.tracker_db) as conn:
        row = conn.execute("SELECT count(*) FROM events WHERE sender_id = ?", (sender,)).fetchone()
    return int(row[0])


async def stored_texts(gateway: RunningGateway) -> list[str]:
    """Every text, payload and button the gateway keeps in its messages table."""
    async with gateway.app[DB].session() as session:
        rows = (await session.execute(select(Message))).scalars().all()
    return [f"{m.text} {m.payload or ''} {json.dumps(m.buttons, ensure_ascii=False)}" for m in rows]


def mentions(texts: list[str], *values: str) -> list[str]:
    """The texts that contain any of the values."""
    return [t for t in texts if any(v in t for v in values)]


async def conversation_of(gateway: RunningGateway) -> Conversation:
    async with gateway.app[DB].session() as session:
        return (await session.execute(select(Conversation))).scalar_one()


async def test_cancelled_form_leaves_no_name_or_phone_in_either_store(
    gateway: RunningGateway, engine: EngineProcess
) -> None:
    chat = await gateway.chat()
    await chat.say("xin chào")
    data = await chat.say("tôi muốn yêu cầu UBND giải trình quyết định thu hồi đất")
    data = await press(chat, data, "Đồng ý")
    data = await chat.say(NAME)
    assert "Số điện thoại" in said(data), said(data)
    data = await chat.say(PHONE)
    assert "cơ quan nào" in said(data), said(data)
    data = await chat.say("phuong hoan kiem")
    data = await chat.say("Quyết định thu hồi đất số 12/QĐ-UBND ngày 10/3/2026")
    data = await chat.say(f"Tôi là {NAME}, gọi {PHONE} giúp tôi, đề nghị giải trình việc này.")
    assert PHONE_DIGITS in said(data) and NAME in said(data), "the summary repeats them"
    before = await conversation_of(gateway)
    assert mentions(tracker_texts(engine), PHONE, PHONE_DIGITS), "the test must see the tracker"

    data = await press(chat, data, "Hủy")
    assert "không được lưu" in said(data), said(data)

    found = mentions(await stored_texts(gateway), NAME, PHONE, PHONE_DIGITS)
    assert found == [], f"the messages table still holds {found}"
    found = mentions(tracker_texts(engine), NAME, PHONE, PHONE_DIGITS)
    assert found == [], f"the engine's tracker still holds {found}"
    after = await conversation_of(gateway)
    assert after.engine_sender != before.engine_sender, "the engine starts a clean dialogue"
    assert sender_events(engine, before.engine_sender) == 0

    data = await chat.say("xin chào")
    assert "Xin chào" in said(data), "the next turn works"
    history: list[dict[str, Any]] = await chat.history()
    assert any(m["text"] == "xin chào" for m in history), "messages outside the form are kept"


def test_the_engine_tracker_file_is_readable_by_its_owner_only(engine: EngineProcess) -> None:
    mode = stat.S_IMODE(engine.config.tracker_db.stat().st_mode)
    assert mode == 0o600, f"tracker file mode {oct(mode)}"


ERASE_NAME = "Lương Thị Bích Hạnh"
ERASE_PHONE = "0386 552 914"


async def file_request(chat: WebChat, name: str, phone: str) -> tuple[str, dict[str, Any]]:
    """An explanation request whose text repeats the phone number; returns its code."""
    data = await chat.say("yêu cầu giải trình")
    data = await press(chat, data, "Đồng ý")
    await chat.say(name)
    await chat.say(phone)
    await chat.say("phuong hoan kiem")
    await chat.say("Thông báo thu phí vệ sinh năm 2026")
    data = await chat.say(
        f"Phí vệ sinh tăng gấp đôi, đề nghị giải thích. Số CCCD 001203004512, gọi {phone}."
    )
    data = await press(chat, data, "Xác nhận gửi")
    code = CODE.search(said(data))
    assert code, said(data)
    return code.group(1), data


async def broadcast_to_subscribers(gateway: RunningGateway) -> int:
    """A broadcast planned to everyone subscribed to the first subscription's topic."""
    from bot.services.broadcasts import plan_in_batches

    db = gateway.app[DB]
    async with db.session() as session:
        topic = (await session.execute(select(Subscription.topic))).scalars().first()
        agency = (await session.execute(select(Agency))).scalars().first()
        assert topic is not None and agency is not None
        explanation = Explanation(
            agency_id=agency.id,
            slug="tin-cho-nguoi-dang-ky",
            title="Tin cho người đăng ký",
            topics=[topic],
            localities=[COUNTRY],
        )
        session.add(explanation)
        await session.flush()
        broadcast = Broadcast(explanation_id=explanation.id, created_by="test")
        session.add(broadcast)
        await session.flush()
        broadcast_id = broadcast.id
    assert await plan_in_batches(db, broadcast_id) == 1
    return broadcast_id


async def subscribe(chat: WebChat) -> None:
    data = await chat.say("đăng ký nhận tin")
    first = next(iter(buttons(data)))
    data = await press(chat, data, first)
    data = await press(chat, data, "Toàn quốc")
    assert "Đã đăng ký" in said(data), said(data)


async def test_show_my_data_lists_what_is_stored_without_repeating_it(
    gateway: RunningGateway,
) -> None:
    chat = await gateway.chat()
    await subscribe(chat)
    code, _ = await file_request(chat, "Vũ Hoài Nam", "0354 118 207")
    data = await chat.say("xem dữ liệu của tôi")
    text = said(data)
    assert "Dữ liệu của anh/chị đang được lưu" in text, text
    assert "trang web" in text and code in text and "Đăng ký nhận tin (1)" in text, text
    assert "Tin nhắn:" in text and "tự động xóa" in text, text
    assert mentions([text], "Vũ Hoài Nam", "0354 118 207", "0354118207") == [], "no values echoed"
    again = await chat.say("xem du lieu cua toi")
    assert "Dữ liệu của anh/chị đang được lưu" in said(again), "typed without diacritics"


async def test_erase_my_data_after_confirmation_anonymises_cases(
    gateway: RunningGateway, engine: EngineProcess
) -> None:
    db = gateway.app[DB]
    chat = await gateway.chat()
    await subscribe(chat)
    code, _ = await file_request(chat, ERASE_NAME, ERASE_PHONE)

    data = await chat.say("xoa du lieu cua toi")
    assert "Việc xóa không thể hoàn tác" in said(data), said(data)
    data = await press(chat, data, "Không xóa")
    assert "giữ nguyên" in said(data), said(data)
    async with db.session() as session:
        case = (await session.execute(select(Case))).scalar_one()
        assert case.requester_name == ERASE_NAME, "nothing is erased without confirmation"

    broadcast = await broadcast_to_subscribers(gateway)
    async with db.session() as session:
        kinds = set((await session.execute(select(Delivery.kind))).scalars())
    assert kinds == {"broadcast"}, f"the outbox names the citizen: {kinds}"

    data = await chat.say("xóa dữ liệu của tôi")
    before = await conversation_of(gateway)
    data = await press(chat, data, "Xóa dữ liệu")
    text = said(data)
    assert "Đã xóa dữ liệu" in text and code in text, text
    assert "giải quyết đúng hạn" in text, "the citizen is told why the case is kept"

    async with db.session() as session:
        case = (await session.execute(select(Case))).scalar_one()
        contact = (await session.execute(select(Contact))).scalar_one()
        subscriptions = (await session.execute(select(Subscription))).scalars().all()
        rows = (await session.execute(select(Message))).scalars().all()
    assert (case.requester_name, case.requester_contact, case.contact_id) == ("", "", None)
    assert case.anonymous and case.status == "received" and case.due_at is not None
    assert "Phí vệ sinh tăng gấp đôi" in case.content, "the agency keeps the request"
    assert mentions([case.content], ERASE_PHONE, "001203004512") == [], case.content
    assert subscriptions == [] and contact.display_name == ""
    kept = [m.text for m in rows if m.redacted_at is None]
    assert mentions(kept, ERASE_NAME, ERASE_PHONE, "0386552914") == [], kept
    assert len(kept) <= 2, f"only the answer to the erase request is left: {kept}"
    assert sender_events(engine, before.engine_sender) == 0
    assert await dangling_deliveries(db) == {}, "the outbox names only rows that exist"
    async with db.session() as session:
        assert await session.get(Broadcast, broadcast) is not None
    assert mentions(tracker_texts(engine), ERASE_NAME, ERASE_PHONE, "0386552914") == []

    data = await chat.say("xin chào")
    assert "Xin chào" in said(data), "the next turn works"
