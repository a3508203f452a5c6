"""Backup and restore as docs/operations.md tells an operator: its commands, run as written
with `pg_dump` and `pg_restore`, give databases with every row, at the newest migration, that
take new messages and cases where the old ones left off."""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import func, insert, inspect, select, table
from sqlalchemy.ext.asyncio import create_async_engine

from bench.servers import Postgres, postgres_server
from bot.channels import ChannelRegistry, InboundMessage
from bot.engine import EngineClient
from bot.services.conversations import MessageFlow
from bot.services.demo import load_demo
from bot.store.db import Database
from bot.store.migrate import upgrade
from bot.store.models import Case, Conversation, Message
from bot.store.tracker import events
from tests.integration.test_case_api import _file

OPERATIONS = Path(__file__).resolve().parents[2] / "docs" / "operations.md"


def documented(name: str) -> str:
    """The shell block marked `<!-- tested: name -->` in docs/operations.md."""
    found = re.search(
        rf"<!-- tested: {name} -->\n```sh\n(.*?)```", OPERATIONS.read_text(encoding="utf-8"), re.S
    )
    assert found, f"docs/operations.md has no tested block {name!r}"
    return found.group(1)


@pytest.fixture(scope="module")
def server() -> Iterator[Postgres]:
    """A server of its own: the documented commands use the documented database names."""
    with postgres_server() as pg:
        yield pg


async def run(block: str, pg: Postgres, cwd: Path) -> None:
    env = {
        **os.environ,
        "PGHOST": "127.0.0.1",
        "PGPORT": str(pg.port),
        "PGUSER": "postgres",
    }
    proc = await asyncio.create_subprocess_exec(
        "bash", "-euo", "pipefail", "-c", block, cwd=cwd, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await proc.communicate()
    assert proc.returncode == 0, (block, out.decode(), err.decode())


async def rows_by_table(url: str) -> dict[str, int]:
    """Every table's row count."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            tables = await conn.run_sync(lambda c: sorted(inspect(c).get_table_names()))
            return {
                t: int(
                    (await conn.execute(select(func.count()).select_from(table(t)))).scalar_one()
                )
                for t in tables
            }
    finally:
        await engine.dispose()


async def fill(pg: Postgres) -> None:
    """The demo agency, a conversation with messages, a case, and dialogue events."""
    url = pg.create_database("giaitrinh")
    tracker_url = pg.create_database("giaitrinh_tracker")
    await upgrade(url)
    db = Database(url)
    try:
        await load_demo(db)
        contact_id = await say(db, "before-1", "xin chào")
        await _file(db, contact_id)
    finally:
        await db.dispose()
    engine = create_async_engine(tracker_url)
    async with engine.begin() as conn:
        await conn.run_sync(events.metadata.create_all)
        await conn.execute(
            insert(events),
            [{"sender_id": "s1", "type_name": "user", "timestamp": 1.0, "data": "{}"}] * 3,
        )
    await engine.dispose()


async def say(db: Database, external_id: str, words: str) -> int:
    """A citizen's message stored as the gateway stores it; the contact's id."""
    async with aiohttp.ClientSession() as http:
        flow = MessageFlow(db, EngineClient(http, "http://127.0.0.1:9", "", 1), ChannelRegistry())
        receipt = await flow.receive(
            InboundMessage(
                channel="web", channel_user_id="u-1", external_id=external_id, text=words
            )
        )
    async with db.session(read_only=True) as session:
        conversation = await session.get(Conversation, receipt.conversation_id)
        assert conversation is not None
        return conversation.contact_id


async def test_the_documented_backup_and_restore(server: Postgres, tmp_path: Path) -> None:
    await fill(server)
    await run(documented("backup"), server, tmp_path)
    assert (tmp_path / "giaitrinh.dump").stat().st_size > 0
    await run(documented("restore"), server, tmp_path)

    original = await rows_by_table(server.url("giaitrinh"))
    restored = await rows_by_table(server.url("giaitrinh_restored"))
    assert restored == original, "every row of every table"
    assert original["explanations"] > 0 and original["cases"] == 1 and original["messages"] >= 1
    tracker = await rows_by_table(server.url("giaitrinh_tracker_restored"))
    assert tracker == {"events": 3}

    url = server.url("giaitrinh_restored")
    await upgrade(url)  # already at the newest revision: nothing to do
    assert await rows_by_table(url) == original
    db = Database(url)
    try:
        contact_id = await say(db, "after-1", "cảm ơn")  # ids go on from where they were
        await _file(db, contact_id)
        async with db.session(read_only=True) as session:
            assert await session.scalar(select(func.count()).select_from(Case)) == 2
            assert await session.scalar(select(func.count()).select_from(Message)) == (
                original["messages"] + 1
            )
    finally:
        await db.dispose()
