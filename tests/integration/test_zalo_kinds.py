"""Zalo beyond the reply window (fake OA API): replies quote the citizen's message; a case
update after the window goes as a transaction message; broadcasts go as promotion messages
up to the monthly quota and the rest wait, reported; what waited for a citizen goes first
when they write; receipts mark deliveries received and seen."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from typing import Any

from sqlalchemy import insert, select, update

from bot.domain.delivery import DeliveryKind, DeliveryStatus
from bot.domain.quota import period
from bot.gateway import DB, DISPATCHER
from bot.services.broadcasts import broadcast_report
from bot.services.passwords import set_password
from bot.services.users import create_user
from bot.store import deferred as deferred_rows
from bot.store import quotas
from bot.store.models import Contact, Delivery, PlatformQuota, Subscription, utcnow
from connectors.zalo.kinds import QUOTA_POOL
from tests.conftest import (
    RunningGateway,
    Tokens,
    free_port,
    gateway_settings,
    running_gateway,
    zalo_settings,
)
from tests.console import PASSWORD, Browser
from tests.fakes.zalo_api import FakeZalo
from tests.integration.test_broadcast import NEWS, api
from tests.integration.test_zalo import USER, ZaloUser, event


async def last_wrote(gw: RunningGateway, user_id: str, ago: timedelta) -> None:
    """The citizen's last message was `ago` ago (the reply window is Zalo's 48 hours)."""
    async with gw.app[DB].session() as session:
        await session.execute(
            update(Contact)
            .where(Contact.channel == "zalo", Contact.channel_user_id == user_id)
            .values(last_seen_at=utcnow() - ago)
        )


async def case_updates(gw: RunningGateway) -> list[Delivery]:
    async with gw.app[DB].session() as session:
        rows = await session.execute(
            select(Delivery).where(Delivery.kind == DeliveryKind.CASE_UPDATE).order_by(Delivery.id)
        )
        return list(rows.scalars())


async def sent_out(gw: RunningGateway) -> None:
    """Drive the dispatcher until no delivery is pending or being sent (per-chat spacing
    lets one message a second into a chat, so a second update waits its turn; the gateway's
    own dispatcher loop may hold a wave this test's drain did not see)."""
    unsettled = [DeliveryStatus.PENDING, DeliveryStatus.SENDING]
    # A guard against a hang, not a speed check: a loaded CI machine took longer than 10 s
    # to send a broadcast of 1,000 followers.
    for _ in range(600):
        await gw.app[DISPATCHER].drain()
        async with gw.app[DB].session() as session:
            left = await session.scalar(
                select(Delivery.id).where(Delivery.status.in_(unsettled)).limit(1)
            )
        if left is None:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("deliveries still pending after 60 s")


def template(body: dict[str, Any]) -> dict[str, Any]:
    payload: dict[str, Any] = body["message"]["attachment"]["payload"]
    return payload


def table(body: dict[str, Any]) -> dict[str, str]:
    rows = next(e["content"] for e in template(body)["elements"] if e["type"] == "table")
    return {row["key"]: row["value"] for row in rows}


async def test_replies_quote_the_message_and_an_answer_after_three_days_is_a_transaction(
    zalo_gateway: RunningGateway, fake_zalo: FakeZalo
) -> None:
    gw = zalo_gateway
    user = ZaloUser(gw, fake_zalo)
    replies = await user.say("xin chào")
    assert replies, "the bot answers"
    kind, reply = fake_zalo.to(USER)[-1]
    assert kind == "cs" and reply["message"]["quote_message_id"] == user.last_msg_id
    code = await user.file_case()
    assert all(k == "cs" for k, _ in fake_zalo.to(USER)), "inside the window: replies only"

    await last_wrote(gw, USER, timedelta(days=3))
    token = await create_user(gw.app[DB], "officer-zalo", "officer", "ubnd-phuong-demo")
    for change in ({"to": "accepted"}, {"to": "answered", "note": "Mức phạt theo Điều 5."}):
        await api(gw, token, "POST", f"/cases/{code}/transition", change)
    await sent_out(gw)

    sent = [(k, b) for k, b in fake_zalo.to(USER) if k != "cs"]
    assert [k for k, _ in sent] == ["transaction", "transaction"], fake_zalo.to(USER)[-3:]
    answered = sent[-1][1]
    assert template(answered)["template_type"] == "transaction_event"
    assert template(answered)["language"] == "VI"
    assert table(answered) == {"Mã hồ sơ": code, "Trạng thái": "Đã có trả lời"}
    texts = [e.get("content") for e in template(answered)["elements"] if e["type"] == "text"]
    assert any("Mức phạt theo Điều 5." in str(t) for t in texts), texts
    accepted = table(sent[0][1])
    assert accepted["Trạng thái"] == "Đã tiếp nhận, chờ cơ quan trả lời"
    assert re.fullmatch(r"\d\d/\d\d/\d{4}", accepted["Hạn trả lời"]), accepted
    buttons = template(answered)["buttons"]
    assert buttons and buttons[0]["type"] == "oa.query.show"
    assert code in buttons[0]["payload"], "the button opens the chat on this case"

    updates = await case_updates(gw)
    assert [u.status for u in updates] == [DeliveryStatus.SENT, DeliveryStatus.SENT]
    assert all(u.external_id in fake_zalo.message_ids for u in updates)
    async with gw.app[DB].session() as session:
        assert await quotas.used(session, QUOTA_POOL, period(utcnow()).key) == 2
    async with gw.http.get(f"{gw.base_url}/healthz") as resp:
        health = await resp.json()
    assert health["zalo_quota"]["used"] == 2 and health["zalo_quota"]["limit"] == 1000, health
    assert health["zalo_quota"]["period"] == period(utcnow()).key

    # Zalo's receipts: received (one id), then seen (a list), on the deliveries they name.
    received = event("zalo_event_user_received_message.json")
    received["message"] = {"msg_id": updates[0].external_id}
    assert await user.post(received) == 200
    seen = event("zalo_event_user_seen_message.json")
    seen["message"] = {"msg_ids": [u.external_id for u in updates]}
    assert await user.post(seen) == 200
    first, second = await case_updates(gw)
    assert first.received_at is not None and first.seen_at is not None
    assert second.seen_at is not None and second.received_at == second.seen_at, "seen: received"
    assert await user.post({**seen, "message": {"msg_ids": "not a list"}}) == 400


async def test_a_case_update_beyond_the_spent_quota_waits_and_goes_first_when_they_write(
    zalo_gateway: RunningGateway, fake_zalo: FakeZalo
) -> None:
    gw = zalo_gateway
    user = ZaloUser(gw, fake_zalo)
    code = await user.file_case()
    await last_wrote(gw, USER, timedelta(days=3))
    async with gw.app[DB].session() as session:  # other sends used this month's quota
        await session.execute(
            insert(PlatformQuota).values(
                pool=QUOTA_POOL, period=period(utcnow()).key, used=1000, granted=0
            )
        )
    token = await create_user(gw.app[DB], "officer-quota", "officer", "ubnd-phuong-demo")
    await api(gw, token, "POST", f"/cases/{code}/transition", {"to": "accepted"})
    before = len(fake_zalo.to(USER))
    await sent_out(gw)
    [waiting] = await case_updates(gw)
    assert waiting.status is DeliveryStatus.DEFERRED and waiting.error
    assert waiting.error.startswith("quota: monthly quota spent"), waiting.error
    assert waiting.next_attempt_at == period(utcnow()).resets_at, "tried again next month"
    assert len(fake_zalo.to(USER)) == before, "nothing is attempted beyond the quota"
    async with gw.http.get(f"{gw.base_url}/healthz") as resp:
        assert (await resp.json())["outbox"]["deferred"] == 1
    shown = await api(gw, token, "GET", f"/cases/{code}")
    assert [u["status"] for u in shown["citizen_updates"]] == ["deferred"], shown
    await set_password(gw.app[DB], "officer-quota", PASSWORD)
    browser = Browser(gw.base_url)
    try:
        await browser.log_in("officer-quota")
        page = await browser.get(f"/console/ho-so/{code}")
    finally:
        await browser.close()
    assert re.search(r'class="update-deferred">[^<]*<strong>Tạm hoãn</strong>', page.html), (
        page.html
    )
    assert "hết hạn mức tin Zalo của tháng" in page.html, "the officer sees the citizen waits"

    replies = await user.say("cảm ơn")
    after = fake_zalo.to(USER)[before:]
    kind, first = after[0]
    assert kind == "cs" and first["message"]["text"].startswith(f"Hồ sơ {code}: Đã tiếp nhận")
    assert first["message"]["quote_message_id"] == user.last_msg_id
    assert len(after) >= 2 and replies[-1] != first["message"]["text"], "then the bot's answer"
    [delivered] = await case_updates(gw)
    assert delivered.status is DeliveryStatus.SENT and delivered.error is None
    shown = await api(gw, token, "GET", f"/cases/{code}")
    assert [u["status"] for u in shown["citizen_updates"]] == ["sent"], shown


async def test_a_broadcast_beyond_the_window_goes_as_promotions_up_to_the_quota(
    demo_database_url: str, tokens: Tokens, fake_zalo: FakeZalo
) -> None:
    settings = gateway_settings(
        demo_database_url,
        tokens,
        f"http://127.0.0.1:{free_port()}",
        retry_interval=3600,
        dispatch_interval=3600,  # the test drives the dispatcher
        **zalo_settings(fake_zalo, zalo_quota_month=600, zalo_quota_reserve=100),
    )
    async with running_gateway(settings, free_port()) as gw:
        db = gw.app[DB]
        followers = [f"77{n:017d}" for n in range(1000)]
        async with db.session() as session:
            ids = (
                await session.execute(
                    insert(Contact).returning(Contact.id),
                    [
                        {"channel": "zalo", "channel_user_id": u, "last_seen_at": utcnow()}
                        for u in followers
                    ],
                )
            ).scalars()
            await session.execute(
                insert(Subscription),
                [
                    {"contact_id": i, "topic": "datdai", "locality": "p:1", "province": "p:1"}
                    for i in ids
                ],
            )
        await last_wrote_all(gw, timedelta(days=5))
        token = await create_user(db, "editor-zalo", "officer", "ubnd-phuong-demo")
        published = await api(gw, token, "POST", "/explanations", NEWS)
        broadcast_id = published["broadcast"]["id"]
        assert published["broadcast"]["recipients"] == 1000
        await sent_out(gw)

        assert fake_zalo.kinds() == {"promotion": 500}, "the reserve is kept for case updates"
        promotion = template(fake_zalo.log[0][1])
        assert promotion["template_type"] == "promotion"
        header = next(e["content"] for e in promotion["elements"] if e["type"] == "header")
        assert header == NEWS["title"]
        texts = " ".join(e["content"] for e in promotion["elements"] if e["type"] == "text")
        assert NEWS["summary"] in texts and "hủy nhận tin" in texts
        assert [b["title"] for b in promotion["buttons"]] == ["Xem giải trình", "Hủy nhận tin"]

        report = (await broadcast_report(db, broadcast_id)).as_json()
        assert report["sent"] == 500 and report["deferred"] == 500, report
        assert report["deferred_reasons"] == {"quota": 500} and report["failed"] == 0
        assert report["pending"] == 0, "deferred is not 'still sending'"
        shown = await api(gw, token, "GET", f"/broadcasts/{broadcast_id}")
        assert shown["deferred_reasons"] == {"quota": 500}
        await set_password(db, "editor-zalo", PASSWORD)
        browser = Browser(gw.base_url)
        try:
            await browser.log_in("editor-zalo")
            page = await browser.get(f"/console/dot-gui/{broadcast_id}")
        finally:
            await browser.close()
        assert page.status == 200
        assert re.search(r'class="sent">500<', page.html) and re.search(
            r'class="deferred">500<', page.html
        ), page.html
        assert "hết hạn mức tin của tháng" in page.html, "the reason, in Vietnamese"
        assert 'class="failed">0<' in page.html

        # The reserve still serves a case update (transaction) to one of them.
        async with db.session() as session:
            first = await session.scalar(
                select(Contact.id).where(Contact.channel_user_id == followers[0])
            )
            session.add(
                Delivery(
                    contact_id=first,
                    kind=DeliveryKind.CASE_UPDATE,
                    text="Hồ sơ X: Đã có trả lời.",
                    card={"title": "Cập nhật hồ sơ X", "rows": [["Mã hồ sơ", "X"]]},
                )
            )
        await sent_out(gw)
        assert fake_zalo.kinds() == {"promotion": 500, "transaction": 1}

        # Receipts reach the report.
        sent_ids = [i for i, k in fake_zalo.message_ids.items() if k == "promotion"][:3]
        user = ZaloUser(gw, fake_zalo, followers[0])
        received = event("zalo_event_user_received_message.json")
        for msg_id in sent_ids:
            assert await user.post({**received, "message": {"msg_id": msg_id}}) == 200
        seen = event("zalo_event_user_seen_message.json")
        assert await user.post({**seen, "message": {"msg_ids": sent_ids[:1]}}) == 200
        report = (await broadcast_report(db, broadcast_id)).as_json()
        assert (report["received"], report["seen"]) == (3, 1), report

        # When the month turns, what waited for the quota is due again.
        async with db.session() as session:
            woken = await deferred_rows.wake_deferred(session, period(utcnow()).resets_at)
        assert woken == 500


async def last_wrote_all(gw: RunningGateway, ago: timedelta) -> None:
    async with gw.app[DB].session() as session:
        await session.execute(update(Contact).values(last_seen_at=utcnow() - ago))


async def test_zalo_saying_the_quota_is_spent_defers_and_stops_asking(
    demo_database_url: str, tokens: Tokens, fake_zalo: FakeZalo
) -> None:
    fake_zalo.proactive_quota = 2  # Zalo's own count is lower than the agency configured
    settings = gateway_settings(
        demo_database_url,
        tokens,
        f"http://127.0.0.1:{free_port()}",
        retry_interval=3600,
        dispatch_interval=3600,
        **zalo_settings(fake_zalo),
    )
    async with running_gateway(settings, free_port()) as gw:
        db = gw.app[DB]
        async with db.session() as session:
            ids = (
                await session.execute(
                    insert(Contact).returning(Contact.id),
                    [
                        {
                            "channel": "zalo",
                            "channel_user_id": f"66{n:017d}",
                            "last_seen_at": utcnow() - timedelta(days=4),
                        }
                        for n in range(6)
                    ],
                )
            ).scalars()
            session.add_all(
                Delivery(
                    contact_id=i, kind=DeliveryKind.CASE_UPDATE, text=f"Hồ sơ {i}: Đã có trả lời."
                )
                for i in ids
            )
        await sent_out(gw)
        assert fake_zalo.kinds() == {"transaction": 2}
        refused = len(fake_zalo.refused)
        assert refused >= 1 and {code for _, code in fake_zalo.refused} == {-211}
        updates = await case_updates(gw)
        assert [u.status for u in updates].count(DeliveryStatus.DEFERRED) == 4
        assert all(
            u.error and u.error.startswith("quota:")
            for u in updates
            if u.status is DeliveryStatus.DEFERRED
        )
        async with db.session() as session:
            assert await quotas.used(session, QUOTA_POOL, period(utcnow()).key) == 1000
            session.add(
                Delivery(
                    contact_id=updates[0].contact_id,
                    kind=DeliveryKind.CASE_UPDATE,
                    text="Hồ sơ: Xong.",
                )
            )
        await sent_out(gw)
        assert len(fake_zalo.refused) == refused, "a spent quota is not asked again this month"
        assert fake_zalo.kinds() == {"transaction": 2}
        assert (await case_updates(gw))[-1].status is DeliveryStatus.DEFERRED
