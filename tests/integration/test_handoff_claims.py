"""Claims on handed-over conversations, on SQLite and PostgreSQL: one operator at a time, a
lease that runs out when the operator leaves, and each agency's queue its own."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest

from bot.channels import ChannelRegistry
from bot.domain.actors import Actor
from bot.domain.deadlines import VN_TZ
from bot.domain.handoff import HandoffPolicy, HandoffReason, HandoffStatus
from bot.domain.messages import ConversationMode
from bot.domain.office_hours import OfficeHours
from bot.domain.roles import Role
from bot.errors import Conflict, Forbidden
from bot.services import handoff
from bot.services.demo import load_demo
from bot.store import contacts
from bot.store.db import Database
from bot.store.models import Agency, Conversation, User
from connectors.web import WebChannel

T0 = datetime(2026, 11, 25, 9, 0, tzinfo=VN_TZ)  # a Wednesday morning
POLICY = HandoffPolicy(OfficeHours.parse(), lease_seconds=120)


@dataclass
class Desk:
    db: Database
    channels: ChannelRegistry
    lan: Actor
    minh: Actor
    other_agency: Actor


@pytest.fixture
async def desk(database_url: str) -> AsyncIterator[Desk]:
    db = Database(database_url)
    await load_demo(db)
    async with db.session() as session:
        agency = (await session.execute(Agency.__table__.select().limit(1))).first()
        assert agency is not None
        other = Agency(slug="ubnd-xa-khac", name="UBND xã khác")
        session.add(other)
        users = [
            User(username="lan", display_name="Lan", role=Role.OPERATOR, agency_id=agency.id),
            User(username="minh", display_name="Minh", role=Role.OPERATOR, agency_id=agency.id),
        ]
        session.add_all(users)
        await session.flush()
        stranger = User(username="xa", display_name="Xa", role=Role.OPERATOR, agency_id=other.id)
        session.add(stranger)
        await session.flush()
        actors = [Actor(u.username, u.role, u.id, u.agency_id) for u in (*users, stranger)]
    channels = ChannelRegistry()
    channels.register(WebChannel())
    try:
        yield Desk(db, channels, *actors)
    finally:
        await db.dispose()


async def _requested(db: Database, name: str = "web-user") -> tuple[int, int]:
    async with db.session() as session:
        contact = await contacts.add_contact(session, "web", name, "Người dân <b>")
        conversation = await contacts.current_conversation(session, contact.id)
        sender = conversation.engine_sender
    await handoff.request(db, sender, HandoffReason.ASKED, POLICY, T0)
    async with db.session() as session:
        conversation = await contacts.conversation_for_sender(session, sender)
        assert conversation is not None and conversation.mode is ConversationMode.OPERATOR
    entry = await handoff.queue(db, Actor("admin", Role.ADMIN), now=T0)
    return conversation.id, entry[-1].id


async def test_a_claim_is_one_operators_until_its_lease_runs_out(desk: Desk) -> None:
    _, hid = await _requested(desk.db)
    at = lambda s: T0 + timedelta(seconds=s)  # noqa: E731
    claim = handoff.claim
    await claim(desk.db, desk.channels, desk.lan, hid, POLICY, now=at(0))
    with pytest.raises(Conflict) as refused:
        await claim(desk.db, desk.channels, desk.minh, hid, POLICY, now=at(60))
    assert refused.value.code == "already_claimed"
    assert await handoff.renew(desk.db, desk.lan, POLICY, now=at(100)) == 1  # lease to 220 s
    with pytest.raises(Conflict):
        await claim(desk.db, desk.channels, desk.minh, hid, POLICY, now=at(200))
    taken = await claim(desk.db, desk.channels, desk.minh, hid, POLICY, now=at(221))
    assert taken.claimed_by == "Minh", taken
    with pytest.raises(Conflict) as late:
        await handoff.reply(desk.db, desk.channels, desk.lan, hid, "Chào anh", POLICY, now=at(222))
    assert late.value.code == "not_claimed"
    assert await handoff.renew(desk.db, desk.lan, POLICY, now=at(223)) == 0

    (back,) = await handoff.queue(desk.db, desk.lan, now=at(400))  # Minh left too
    assert back.status is HandoffStatus.WAITING and back.claimed_by is None, back


async def test_two_operators_claiming_at_once_one_wins(desk: Desk) -> None:
    _, hid = await _requested(desk.db)
    results = await asyncio.gather(
        handoff.claim(desk.db, desk.channels, desk.lan, hid, POLICY, now=T0),
        handoff.claim(desk.db, desk.channels, desk.minh, hid, POLICY, now=T0),
        return_exceptions=True,
    )
    won = [r for r in results if not isinstance(r, BaseException)]
    lost = [r for r in results if isinstance(r, BaseException)]
    assert len(won) == 1 and len(lost) == 1, results
    assert isinstance(lost[0], Conflict) and lost[0].code == "already_claimed", lost


async def test_another_agencys_operator_sees_nothing_and_may_not_claim(desk: Desk) -> None:
    _, hid = await _requested(desk.db)
    assert await handoff.queue(desk.db, desk.other_agency, now=T0) == []
    with pytest.raises(Forbidden):
        await handoff.claim(desk.db, desk.channels, desk.other_agency, hid, POLICY, now=T0)
    with pytest.raises(Forbidden):
        await handoff.details(desk.db, desk.other_agency, hid)


async def test_a_second_request_while_one_is_open_adds_nothing(desk: Desk) -> None:
    conversation_id, _ = await _requested(desk.db)
    async with desk.db.session() as session:
        conversation = await session.get(Conversation, conversation_id)
        assert conversation is not None
        sender = conversation.engine_sender
    said = await handoff.request(desk.db, sender, HandoffReason.ASKED, POLICY, T0)
    assert "đã được ghi nhận" in said
    assert len(await handoff.queue(desk.db, desk.lan, now=T0)) == 1


async def test_ending_gives_the_conversation_back_to_the_bot_with_timings(desk: Desk) -> None:
    conversation_id, hid = await _requested(desk.db)
    await handoff.claim(
        desk.db, desk.channels, desk.lan, hid, POLICY, now=T0 + timedelta(minutes=3)
    )
    await handoff.reply(
        desk.db, desk.channels, desk.lan, hid, "Chào anh", POLICY, now=T0 + timedelta(minutes=4)
    )
    ended = await handoff.finish(
        desk.db,
        desk.channels,
        desk.lan,
        hid,
        HandoffStatus.CLOSED,
        POLICY,
        now=T0 + timedelta(minutes=10),
    )
    shown = ended.as_json()
    assert shown["status"] == "closed" and shown["first_response_s"] == 240, shown
    assert shown["handling_s"] == 420, shown
    async with desk.db.session() as session:
        conversation = await session.get(Conversation, conversation_id)
        assert conversation is not None and conversation.mode is ConversationMode.BOT
    with pytest.raises(Conflict):
        await handoff.reply(desk.db, desk.channels, desk.lan, hid, "Còn đây", POLICY)
