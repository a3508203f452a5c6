"""Personal data in chat, through the real engine: a cancelled form leaves nothing behind in
either store, and a citizen can see and erase what is stored about them."""

from __future__ import annotations

import json
import sqlite3
import stat
from typing import Any

from sqlalchemy import select

from bot.enginectl import EngineProcess
from bot.gateway import DB
from bot.store.models import Conversation, Message
from tests.conftest import RunningGateway
from tests.integration.test_cases_chat import press, said

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
