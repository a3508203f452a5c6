"""Storage promises without the engine: database files only their owner reads, and the
retention period erasing old conversations (gateway texts and the engine's tracker rows)."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import stat
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bot.domain.cases import Kind, Status
from bot.domain.messages import Direction, MessageStatus
from bot.domain.privacy import REDACTED
from bot.services.demo import load_demo
from bot.store.db import Database
from bot.store.migrate import upgrade
from bot.store.models import Agency, Case, Contact, Conversation, Message, QuestionGap, utcnow
from tests.conftest import Tokens, free_port, gateway_settings, running_gateway

OLD = utcnow() - timedelta(days=400)
RECENT = utcnow() - timedelta(days=3)
OLD_PHONE = "0977 123 456"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_a_new_sqlite_database_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    folder = tmp_path / "var"
    path = folder / "giaitrinh.db"
    url = f"sqlite+aiosqlite:///{path}"
    await upgrade(url)
    assert mode(path) == 0o600, f"database file mode {oct(mode(path))}"
    assert mode(folder) == 0o700, f"folder mode {oct(mode(folder))}"
    db = Database(url)
    await load_demo(db)  # writes through the WAL
    journals = {p.name: oct(mode(p)) for p in folder.glob("giaitrinh.db-*")}
    await db.dispose()
    assert journals and set(journals.values()) == {"0o600"}, journals


async def test_upgrade_narrows_an_existing_database_file(tmp_path: Path) -> None:
    path = tmp_path / "giaitrinh.db"
    path.touch(mode=0o644)
    path.chmod(0o644)
    await upgrade(f"sqlite+aiosqlite:///{path}")
    assert mode(path) == 0o600, f"database file mode {oct(mode(path))}"


def make_tracker(path: Path, rows: list[tuple[str, str, float, str]]) -> None:
    """A tracker database as Rasa's SQL tracker store lays it out, with some events."""
    with sqlite3.connect(path) as conn:
        conn.execute(
            "CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255) NOT NULL, "
            "type_name VARCHAR(255) NOT NULL, timestamp FLOAT, intent_name VARCHAR(255), "
            "action_name VARCHAR(255), data TEXT)"
        )
        conn.executemany(
            "INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (?, ?, ?, ?)",
            rows,
        )


def tracker_rows(path: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT sender_id, data FROM events ORDER BY id").fetchall()


async def seed(database_url: str) -> dict[str, Any]:
    """An old conversation (with a filed case) and a live one with an old part."""
    db = Database(database_url)
    await load_demo(db)
    async with db.session() as session:
        agency = (await session.execute(select(Agency))).scalars().first()
        assert agency is not None
        old, live = (
            Contact(channel="web", channel_user_id="old"),
            Contact(channel="web", channel_user_id="live"),
        )
        session.add_all([old, live])
        await session.flush()
        old_conv = Conversation(contact_id=old.id, created_at=OLD, updated_at=OLD)
        live_conv = Conversation(contact_id=live.id, created_at=OLD, updated_at=RECENT)
        session.add_all([old_conv, live_conv])
        await session.flush()

        def msg(conv: Conversation, text: str, at: Any, direction: Direction) -> Message:
            status = MessageStatus.PROCESSED if direction is Direction.IN else MessageStatus.SENT
            return Message(
                conversation_id=conv.id,
                direction=direction,
                channel="web",
                text=text,
                status=status,
                created_at=at,
            )

        session.add_all(
            [
                msg(old_conv, f"số của tôi {OLD_PHONE}", OLD, Direction.IN),
                msg(old_conv, f"Liên hệ: {OLD_PHONE}", OLD, Direction.OUT),
                msg(live_conv, "câu hỏi năm ngoái", OLD, Direction.IN),
                msg(live_conv, "câu hỏi tuần này", RECENT, Direction.IN),
            ]
        )
        session.add(QuestionGap(text="hỏi cũ", reason="unanswered", created_at=OLD))
        session.add(QuestionGap(text="hỏi mới", reason="unanswered", created_at=RECENT))
        session.add(
            Case(
                code="ABCD12345",
                kind=Kind.EXPLANATION,
                status=Status.RECEIVED,
                agency_id=agency.id,
                contact_id=old.id,
                requester_name="Phạm Văn Cũ",
                requester_contact=OLD_PHONE,
                content="Nội dung hồ sơ cũ",
                created_at=OLD,
            )
        )
        senders = {"old": old_conv.engine_sender, "live": live_conv.engine_sender}
    await db.dispose()
    return senders


def tracker_for(path: Path, senders: dict[str, Any]) -> None:
    old_ts, recent_ts = OLD.timestamp(), RECENT.timestamp()
    make_tracker(
        path,
        [
            (senders["old"], "session_started", old_ts, "{}"),
            (senders["old"], "user", old_ts + 1, json.dumps({"text": OLD_PHONE})),
            (senders["live"], "session_started", old_ts, "{}"),
            (senders["live"], "user", old_ts + 1, json.dumps({"text": "câu hỏi năm ngoái"})),
            (senders["live"], "session_started", recent_ts, "{}"),
            (senders["live"], "user", recent_ts + 1, json.dumps({"text": "câu hỏi tuần này"})),
        ],
    )


async def check_purged(database_url: str, tracker: Path, senders: dict[str, Any]) -> None:
    db = Database(database_url)
    async with db.session() as session:
        messages = (await session.execute(select(Message))).scalars().all()
        conversations = {
            c.contact_id: c.engine_sender
            for c in (await session.execute(select(Conversation))).scalars()
        }
        case = (await session.execute(select(Case))).scalar_one()
        gaps = [g.text for g in (await session.execute(select(QuestionGap))).scalars()]
    await db.dispose()
    old = [m.text for m in messages if m.created_at < RECENT - timedelta(days=300)]
    assert old == [REDACTED] * 3, old
    recent = [m.text for m in messages if m.created_at >= RECENT - timedelta(days=1)]
    assert recent == ["câu hỏi tuần này"], "recent messages are kept"
    assert senders["old"] not in conversations.values(), "the quiet conversation restarts"
    assert senders["live"] in conversations.values(), "the live one keeps its dialogue"
    assert case.requester_contact == OLD_PHONE and case.content, "cases follow their own rule"
    assert gaps == ["hỏi mới"]
    rows = tracker_rows(tracker)
    assert [s for s, _ in rows if s == senders["old"]] == []
    assert [json.loads(d).get("text") for s, d in rows if s == senders["live"]] == [
        None,
        "câu hỏi tuần này",
    ], "only the live sender's older session goes"


async def test_the_retention_loop_erases_old_texts_and_tracker_events(
    database_url: str, tokens: Tokens, tmp_path: Path
) -> None:
    senders = await seed(database_url)
    tracker = tmp_path / "tracker.db"
    tracker_for(tracker, senders)
    settings = gateway_settings(
        database_url,
        tokens,
        f"http://127.0.0.1:{free_port()}",
        tracker_db_url=f"sqlite+aiosqlite:///{tracker}",
        retention_days=365,
    )
    async with running_gateway(settings, free_port()) as gw:
        for _ in range(200):  # the first round runs at start; wait for it to finish
            async with gw.http.get(f"{gw.base_url}/healthz") as resp:
                loops = (await resp.json())["loops"]
            assert "retention" in loops, f"no retention loop on /healthz: {sorted(loops)}"
            if loops["retention"]["last_ok_at"]:
                break
            await asyncio.sleep(0.05)
        assert loops["retention"]["failures"] == 0, loops["retention"]
    await check_purged(database_url, tracker, senders)


async def test_cli_privacy_purge_runs_one_retention_round(
    database_url: str, tmp_path: Path
) -> None:
    senders = await seed(database_url)
    tracker = tmp_path / "tracker.db"
    tracker_for(tracker, senders)
    env = {
        **os.environ,
        "GIAITRINH_DATABASE_URL": database_url,
        "GIAITRINH_TRACKER_DB_URL": f"sqlite+aiosqlite:///{tracker}",
        "GIAITRINH_RETENTION_DAYS": "365",
    }
    proc = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "giaitrinh"),
        "privacy",
        "purge",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    assert proc.returncode == 0, (out + err).decode()
    report = json.loads(out.decode().strip().splitlines()[-1])
    assert report["messages"] == 3 and report["conversations_restarted"] == 1, report
    await check_purged(database_url, tracker, senders)
