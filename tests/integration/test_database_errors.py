"""The database under stress: what an error says when it is logged (the statement, never the
values), and how concurrent units of work on SQLite wait for each other."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.messages import Direction, MessageStatus
from bot.store.db import Database
from bot.store.migrate import upgrade
from bot.store.models import Agency, Message

PHONE = "0912345678"


async def test_a_database_error_names_the_statement_but_not_the_citizens_data(
    database_url: str,
) -> None:
    db = Database(database_url)
    try:
        with pytest.raises(IntegrityError) as caught:  # no such conversation
            async with db.session() as session:
                session.add(
                    Message(
                        conversation_id=987654,
                        direction=Direction.IN,
                        channel="telegram",
                        text=f"Số điện thoại của tôi là {PHONE}",
                        status=MessageStatus.PENDING,
                    )
                )
    finally:
        await db.dispose()
    said = str(caught.value)
    assert "INSERT INTO messages" in said, said
    assert PHONE not in said, said


async def test_on_sqlite_a_unit_of_work_that_reads_then_writes_is_not_interleaved(
    tmp_path: Path,
) -> None:
    """SQLite: each unit of work takes the write lock when it begins (BEGIN IMMEDIATE), so a
    read-then-write is never interleaved by another writer: no lost update, and no unit of
    work holding a read snapshot while it waits for a writer that waits for it (the web
    chat's concurrent duplicates once failed with "database is locked" after the whole busy
    timeout). PostgreSQL keeps its own row locks and constraints for this."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'giaitrinh.db'}"
    await upgrade(url)
    db = Database(url)
    read_done = asyncio.Event()
    other_committed = asyncio.Event()

    async def next_slug(session: AsyncSession) -> str:
        return f"so-{await session.scalar(select(func.count()).select_from(Agency))}"

    async def other_writer() -> None:
        await read_done.wait()
        async with db.session() as session:
            session.add(Agency(slug=await next_slug(session), name="Sở khác"))
        other_committed.set()

    try:
        other = asyncio.create_task(other_writer())
        async with db.session() as session:
            slug = await next_slug(session)
            read_done.set()
            # The other writer gets every chance to commit while this unit of work is open.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(other_committed.wait(), 1.0)
            assert not other_committed.is_set(), "another writer committed in between"
            session.add(Agency(slug=slug, name="Sở này"))
        await other
        async with db.session() as session:
            slugs = (await session.scalars(select(Agency.slug))).all()
    finally:
        await db.dispose()
    assert sorted(slugs) == ["so-0", "so-1"], slugs
