"""The outbox dispatcher on a real database and the fake Bot API: waves, recovery, journal."""

from __future__ import annotations

import subprocess
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import select

from bench.seed import seed_outbox
from bot.channels import ChannelRegistry
from bot.domain.delivery import IN_DOUBT, DeliveryKind
from bot.domain.quota import period
from bot.services.dispatch import Dispatcher
from bot.services.journal import Journal, journal_path
from bot.services.outbox import outbox_status
from bot.services.workers import new_worker_id
from bot.store import outbox as outbox_store
from bot.store import quotas
from bot.store.db import Database
from bot.store.models import (
    Contact,
    Delivery,
    Message,
    utcnow,
)
from connectors.telegram import TelegramChannel, make_bot
from tests.conftest import TELEGRAM_TOKEN
from tests.fakes.telegram_api import FakeTelegram

FIRST_CHAT = 8800000


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    yield database
    await database.dispose()


@pytest.fixture
async def channels(fake_telegram: FakeTelegram) -> AsyncIterator[ChannelRegistry]:
    base = fake_telegram.base_url  # type: ignore[attr-defined]
    async with make_bot(TELEGRAM_TOKEN, base) as bot, aiohttp.ClientSession() as http:
        registry = ChannelRegistry()
        registry.register(TelegramChannel(bot, http))
        yield registry


async def broadcast_to(db: Database, chats: int, text: str = "Chính sách mới") -> list[int]:
    """`chats` Telegram subscribers, one broadcast delivery each; returns delivery ids."""
    return await seed_outbox(db, chats, text, FIRST_CHAT)


def dead_worker() -> str:
    """The id a worker on this host had, whose process has exited."""
    process = subprocess.Popen(["true"])
    process.wait()
    host = new_worker_id().rsplit(":", 2)[0]
    return f"{host}:{process.pid}:deadbeef"


async def claim_as(db: Database, worker: str, ids: list[int], kind: str | None = None) -> None:
    async with db.session() as session:
        for delivery in (
            await session.execute(select(Delivery).where(Delivery.id.in_(ids)))
        ).scalars():
            delivery.status = "sending"
            delivery.claimed_by = worker
            delivery.claimed_until = utcnow() + timedelta(minutes=5)
            delivery.attempts = 1
            if kind is not None:
                delivery.kind = kind


async def statuses(db: Database) -> dict[int, str]:
    async with db.session() as session:
        rows = await session.execute(select(Delivery.id, Delivery.status).order_by(Delivery.id))
        return {delivery_id: status for delivery_id, status in rows.all()}


async def test_a_wave_sends_each_delivery_once_and_records_it_in_the_history(
    db: Database, channels: ChannelRegistry, fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    ids = await broadcast_to(db, 12, "Hướng dẫn mới về thủ tục cấp xã")
    waiting = await outbox_status(db, utcnow() + timedelta(seconds=30))
    assert waiting["due"] == 12 and waiting["oldest_due_seconds"] >= 30, waiting
    dispatcher = Dispatcher(db, channels, batch=5, lanes=2, journal_dir=tmp_path)
    assert await dispatcher.drain() == 12
    assert await outbox_status(db) == {
        "due": 0,
        "oldest_due_seconds": 0.0,
        "sending": 0,
        "unknown": 0,
        "deferred": 0,
    }
    assert await dispatcher.drain() == 0, "nothing is sent twice"
    assert set((await statuses(db)).values()) == {"sent"}
    assert sorted(fake_telegram.per_chat) == [FIRST_CHAT + i for i in range(12)]
    assert set(fake_telegram.per_chat.values()) == {1}
    assert fake_telegram.texts_to(FIRST_CHAT) == ["Hướng dẫn mới về thủ tục cấp xã"]
    async with db.session() as session:
        history = (
            await session.execute(select(Message.text).where(Message.direction == "out"))
        ).scalars()
        assert list(history) == ["Hướng dẫn mới về thủ tục cấp xã"] * len(ids)
    assert journal_path(tmp_path, dispatcher.worker).read_bytes() == b"", "nothing in flight"


async def test_a_row_for_a_channel_this_process_has_not_registered_fails_alone(
    db: Database, channels: ChannelRegistry, fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    async with db.session() as session:
        zalo = Contact(channel="zalo", channel_user_id="7001")
        session.add(zalo)
        await session.flush()
        session.add(
            Delivery(
                contact_id=zalo.id,
                kind=DeliveryKind.CASE_UPDATE,
                text="Hồ sơ của anh/chị đã được tiếp nhận.",
                next_attempt_at=utcnow(),
            )
        )
    telegram_rows = await broadcast_to(db, 3)
    dispatcher = Dispatcher(db, channels, journal_dir=tmp_path)  # Telegram only, no Zalo
    await dispatcher.drain()
    after = await statuses(db)
    assert [after[i] for i in telegram_rows] == ["sent"] * 3, "the other rows went out"
    assert sorted(fake_telegram.per_chat) == [FIRST_CHAT + i for i in range(3)]
    async with db.session() as session:
        failed = (
            await session.execute(select(Delivery).where(Delivery.contact_id == zalo.id))
        ).scalar_one()
    assert failed.status == "failed" and failed.error == "channel_not_configured: zalo"
    assert await dispatcher.drain() == 0, "the failed row is not claimed again"


async def test_a_killed_worker_is_settled_from_its_journal(
    db: Database, channels: ChannelRegistry, fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    ids = await broadcast_to(db, 4)
    never_sent, delivered, in_flight, case_update = ids
    worker = dead_worker()
    await claim_as(db, worker, [never_sent, delivered, in_flight])
    await claim_as(db, worker, [case_update], kind="case_update")
    journal = Journal(tmp_path, worker)
    journal.started(delivered)
    journal.finished(delivered, "ok")
    journal.started(in_flight)
    journal.started(case_update)

    dispatcher = Dispatcher(db, channels, journal_dir=tmp_path)
    assert await dispatcher.recover(utcnow()) == 4
    after = await statuses(db)
    assert after[never_sent] == "pending", "never left the process: sent again"
    assert after[delivered] == "sent", "the platform had confirmed it"
    assert after[in_flight] == "unknown", "a broadcast in doubt is not sent twice"
    assert after[case_update] == "pending", "a case update in doubt is sent again"
    assert not journal.path.exists(), "the dead worker's journal is gone once settled"

    await dispatcher.drain()
    assert sorted(fake_telegram.per_chat) == [FIRST_CHAT, FIRST_CHAT + 3]
    async with db.session() as session:
        row = await session.get(Delivery, in_flight)
        assert row is not None and row.error == IN_DOUBT


async def test_without_a_journal_an_expired_claim_follows_the_kind(
    db: Database, channels: ChannelRegistry, fake_telegram: FakeTelegram
) -> None:
    broadcast, case_update = await broadcast_to(db, 2)
    other_host = "elsewhere:4242:cafe"
    await claim_as(db, other_host, [broadcast])
    await claim_as(db, other_host, [case_update], kind="case_update")
    dispatcher = Dispatcher(db, channels)
    assert await dispatcher.recover(utcnow()) == 0, "a live claim elsewhere is left alone"
    assert await dispatcher.recover(utcnow() + timedelta(minutes=10)) == 2
    after = await statuses(db)
    assert after == {broadcast: "unknown", case_update: "pending"}


async def test_a_killed_worker_gives_back_the_quota_units_of_rows_that_never_left(
    db: Database, channels: ChannelRegistry, tmp_path: Path
) -> None:
    never_sent, delivered, in_flight, refused = await broadcast_to(db, 4)
    worker = dead_worker()
    await claim_as(db, worker, [never_sent, delivered, in_flight, refused])
    term = period(utcnow()).key
    async with db.session() as session:  # the wave took a unit for each
        assert await quotas.take(session, "zalo:proactive", term, 4, 1000) == 4
        await outbox_store.mark_quota(
            session, [never_sent, delivered, in_flight, refused], "zalo:proactive"
        )
    journal = Journal(tmp_path, worker)
    journal.started(delivered)
    journal.finished(delivered, "ok")
    journal.started(in_flight)
    journal.started(refused)
    journal.finished(refused, "safe")

    dispatcher = Dispatcher(db, channels, journal_dir=tmp_path)
    assert await dispatcher.recover(utcnow()) == 4
    async with db.session() as session:
        used = await quotas.used(session, "zalo:proactive", term)
        pools = dict(
            (await session.execute(select(Delivery.id, Delivery.quota_pool))).tuples().all()
        )
    assert used == 2, "the units of the two rows that certainly never left come back"
    assert pools[never_sent] is None and pools[refused] is None, "their next send takes anew"
    assert pools[delivered] == pools[in_flight] == "zalo:proactive", "maybe or surely paid"
