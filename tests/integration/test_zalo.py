"""Zalo OA: signed webhook, events, replies within the rules, token rotation (fake OA API)."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import func, select, update

from bot.channels import Category, DeliveryOutcome, OutboundMessage, Recipient
from bot.domain.messages import Direction
from bot.gateway import DB
from bot.settings import Settings
from bot.store.db import Database
from bot.store.models import Contact, Message, ZaloToken, utcnow
from connectors.zalo import ZALO_TOKENS, ZaloChannel, ZaloTokens, signature
from tests.conftest import (
    ZALO_APP_ID,
    ZALO_APP_SECRET,
    ZALO_OA_SECRET,
    RunningGateway,
    zalo_settings,
)
from tests.fakes.zalo_api import FakeZalo, now_ms

DATA = Path(__file__).resolve().parent.parent / "data" / "zalo"
USER = "8800000000000000001"
CODE = re.compile(r"Mã hồ sơ: (\S+)")


def event(name: str, **changes: Any) -> dict[str, Any]:
    data = json.loads((DATA / name).read_text(encoding="utf-8"))
    data["timestamp"] = now_ms()
    data.update(changes)
    return data


class ZaloUser:
    """A citizen on Zalo: events signed like Zalo signs them."""

    counter = 0

    def __init__(self, gw: RunningGateway, fake: FakeZalo, user_id: str = USER) -> None:
        self.gw, self.fake, self.user_id = gw, fake, user_id
        self.last_msg_id = ""  # the id Zalo gave the user's last message

    async def post(
        self, data: dict[str, Any], mac: str | None = None, raw: bytes | None = None
    ) -> int:
        body = raw if raw is not None else json.dumps(data, ensure_ascii=False).encode()
        if mac is None:
            mac = signature(str(data["app_id"]), body, str(data["timestamp"]), ZALO_OA_SECRET)
        headers = {"X-ZEvent-Signature": f"mac={mac}", "Content-Type": "application/json"}
        async with self.gw.http.post(
            f"{self.gw.base_url}/webhooks/zalo", data=body, headers=headers
        ) as resp:
            return resp.status

    async def say(self, text: str) -> list[str]:
        ZaloUser.counter += 1
        data = event("zalo_event_text.json")
        data["sender"]["id"] = self.user_id
        self.last_msg_id = f"m{ZaloUser.counter}{now_ms()}"
        data["message"] = {"msg_id": self.last_msg_id, "text": text}
        before = len(self.fake.texts_to(self.user_id))
        assert await self.post(data) == 200
        await self.gw.flow.drain()
        return self.fake.texts_to(self.user_id)[before:]

    async def file_case(self) -> str:
        """File an explanation request through the chat, as a citizen types it; its code."""
        await self.say("tôi muốn gửi yêu cầu giải trình")
        await self.press("Đồng ý")
        await self.say("Trần Văn Minh")
        await self.say("0987 654 321")
        await self.say("phường Ba Đình")
        await self.say("Quyết định xử phạt số 45/QĐ-XPHC")
        await self.say("Đề nghị giải trình căn cứ mức phạt đối với hộ kinh doanh của tôi.")
        done = await self.press("Xác nhận gửi")
        found = next((m for t in done if (m := CODE.search(t))), None)
        assert found, done
        return found.group(1).rstrip(".")

    def buttons(self) -> dict[str, str]:
        last = next(
            m
            for m in reversed(self.fake.sent)
            if m["recipient"]["user_id"] == self.user_id and "attachment" in m["message"]
        )
        return {
            b["title"]: b["payload"] for b in last["message"]["attachment"]["payload"]["buttons"]
        }

    async def press(self, title: str) -> list[str]:
        """Zalo sends a query button's payload back as the user's text."""
        choices = self.buttons()
        assert title in choices, list(choices)
        return await self.say(choices[title])


async def stored(gw: RunningGateway) -> int:
    async with gw.app[DB].session() as session:
        return int(await session.scalar(select(func.count()).select_from(Message)) or 0)


async def test_forged_missing_stale_and_foreign_events_are_refused(
    zalo_gateway: RunningGateway, fake_zalo: FakeZalo
) -> None:
    user = ZaloUser(zalo_gateway, fake_zalo)
    data = event("zalo_event_text.json")
    assert await user.post(data, mac="0" * 64) == 403
    body = json.dumps(data).encode()
    async with zalo_gateway.http.post(f"{zalo_gateway.base_url}/webhooks/zalo", data=body) as resp:
        assert resp.status == 403
    stale = event("zalo_event_text.json", timestamp="1795000000000")  # the fixture's own, long ago
    stale["timestamp"] = str(int(now_ms()) - 3_600_000)
    assert await user.post(stale) == 403
    foreign = event("zalo_event_text.json", app_id="999")
    assert await user.post(foreign) == 403
    # A body changed after signing (mac of the original).
    good_mac = signature(ZALO_APP_ID, body, str(data["timestamp"]), ZALO_OA_SECRET)
    tampered = body.replace(b"thu hoi dat", b"xyz")
    assert await user.post(data, mac=good_mac, raw=tampered) == 403
    assert await stored(zalo_gateway) == 0 and fake_zalo.sent == []


async def test_a_webhook_signed_with_the_app_secret_is_refused(
    zalo_gateway: RunningGateway, fake_zalo: FakeZalo
) -> None:
    """Zalo signs webhooks with the OA secret key; the app secret key (OAuth) is another."""
    user = ZaloUser(zalo_gateway, fake_zalo)
    data = event("zalo_event_text.json")
    body = json.dumps(data, ensure_ascii=False).encode()
    app_mac = signature(ZALO_APP_ID, body, str(data["timestamp"]), ZALO_APP_SECRET)
    assert await user.post(data, mac=app_mac, raw=body) == 403
    assert await stored(zalo_gateway) == 0
    oa_mac = signature(ZALO_APP_ID, body, str(data["timestamp"]), ZALO_OA_SECRET)
    assert await user.post(data, mac=oa_mac, raw=body) == 200
    assert await stored(zalo_gateway) == 1


async def test_the_token_refresh_sends_the_app_secret(
    fake_zalo: FakeZalo, database_url: str
) -> None:
    db = Database(database_url)
    async with aiohttp.ClientSession() as http:
        tokens = await _tokens(fake_zalo, database_url, http, db)
        assert await tokens.refresh_if_due(force=True) is True
    await db.dispose()
    assert fake_zalo.refresh_secrets == [ZALO_APP_SECRET], "never the OA secret key"


def test_the_old_single_secret_setting_still_serves_both() -> None:
    """GIAITRINH_ZALO_SECRET_KEY (deprecated) fills whichever of the two new ones is unset."""
    old = Settings(_env_file=None, zalo_secret_key="old-secret")  # type: ignore[call-arg]
    assert old.zalo_oa_secret_key.get_secret_value() == "old-secret"
    assert old.zalo_app_secret_key.get_secret_value() == "old-secret"
    both = Settings(  # type: ignore[call-arg]
        _env_file=None, zalo_secret_key="old", zalo_oa_secret_key="oa", zalo_app_secret_key="app"
    )
    assert both.zalo_oa_secret_key.get_secret_value() == "oa"
    assert both.zalo_app_secret_key.get_secret_value() == "app"


async def test_documented_text_event_is_answered_once(
    zalo_gateway: RunningGateway, fake_zalo: FakeZalo
) -> None:
    user = ZaloUser(zalo_gateway, fake_zalo)
    data = event("zalo_event_text.json")
    assert await user.post(data) == 200
    await zalo_gateway.flow.drain()
    first = fake_zalo.texts_to(USER)
    assert first and any("đồng ý" in t.lower() for t in first), first
    assert await user.post(data) == 200  # Zalo delivering the same event again
    await zalo_gateway.flow.drain()
    assert fake_zalo.texts_to(USER) == first


async def test_follow_unfollow_and_location(
    zalo_gateway: RunningGateway, fake_zalo: FakeZalo
) -> None:
    user = ZaloUser(zalo_gateway, fake_zalo)
    follower = "8800000000000000002"
    assert await user.post(event("zalo_event_follow.json")) == 200
    assert await user.post(event("zalo_event_follow.json", event_name="unfollow")) == 200
    async with zalo_gateway.app[DB].session() as session:
        contact = (
            await session.execute(select(Contact).where(Contact.channel_user_id == follower))
        ).scalar_one()
        assert contact.unreachable_at is not None
    assert await user.post(event("zalo_event_location.json")) == 200
    await zalo_gateway.flow.drain()
    async with zalo_gateway.app[DB].session() as session:
        message = (
            await session.execute(select(Message).where(Message.direction == Direction.IN))
        ).scalar_one()
    assert message.attachments == [
        {"type": "location", "latitude": "21.0285", "longitude": "105.8542"}
    ]
    assert message.text == "Vị trí: 21.0285, 105.8542"


async def test_full_conversation_greeting_to_case_code(
    zalo_gateway: RunningGateway, fake_zalo: FakeZalo
) -> None:
    user = ZaloUser(zalo_gateway, fake_zalo)
    assert any("Xin chào" in t for t in await user.say("xin chao"))
    code = await user.file_case()
    assert re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{5}", code), code


async def test_expired_token_is_refreshed_once_and_the_send_retried(
    zalo_gateway: RunningGateway, fake_zalo: FakeZalo
) -> None:
    user = ZaloUser(zalo_gateway, fake_zalo)
    await user.say("xin chào")
    # The fixture starts after the token loop's start-up round: no refresh lease is held, so
    # the send's own refresh may take it.
    calls = fake_zalo.refresh_calls
    fake_zalo.access_tokens.clear()  # Zalo now says -216 for the stored token
    replies = await user.say("cảm ơn")
    assert replies and "không có gì" in replies[0]
    assert fake_zalo.refresh_calls == calls + 1


async def test_blocked_user_and_reply_window(fake_zalo: FakeZalo, database_url: str) -> None:
    db = Database(database_url)
    settings = Settings(_env_file=None, **zalo_settings(fake_zalo))  # type: ignore[call-arg]
    async with aiohttp.ClientSession() as http:
        tokens = ZaloTokens(db, http, settings)
        await tokens.ensure_row()
        channel = ZaloChannel(http, tokens, settings)
        fresh = Recipient("zalo", USER, last_inbound_at=utcnow(), sent_since_inbound=0)
        assert (
            await channel.send(fresh, OutboundMessage("Xin chào"))
        ).outcome is DeliveryOutcome.SENT
        old = Recipient("zalo", USER, last_inbound_at=utcnow() - timedelta(hours=49))
        late = await channel.send(old, OutboundMessage("Thông báo"))
        assert late.outcome is DeliveryOutcome.DEFERRED and late.reason.startswith("window:")
        many = Recipient("zalo", USER, last_inbound_at=utcnow(), sent_since_inbound=8)
        ninth = await channel.send(many, OutboundMessage("Thêm"))
        assert ninth.outcome is DeliveryOutcome.DEFERRED and "8 replies" in ninth.reason
        # A case update beyond the window needs a quota unit, which only the dispatcher
        # takes (in the database): sent alone, it waits instead of going unpaid.
        update = OutboundMessage("Hồ sơ", category=Category.TRANSACTION)
        unpaid = await channel.send(old, update)
        assert unpaid.outcome is DeliveryOutcome.DEFERRED and unpaid.reason.startswith("quota:")
        assert len(fake_zalo.log) == 1, "messages the rules forbid are not attempted"
        fake_zalo.blocked_users.add(USER)
        blocked = await channel.send(fresh, OutboundMessage("Xin chào"))
        assert blocked.outcome is DeliveryOutcome.UNREACHABLE and "-213" in blocked.reason
    await db.dispose()


async def _tokens(
    fake: FakeZalo, database_url: str, http: aiohttp.ClientSession, db: Database
) -> ZaloTokens:
    settings = Settings(_env_file=None, **zalo_settings(fake))  # type: ignore[call-arg]
    tokens = ZaloTokens(db, http, settings)
    await tokens.ensure_row()
    return tokens


async def test_one_refresher_at_a_time_and_the_pair_is_stored_together(
    fake_zalo: FakeZalo, database_url: str
) -> None:
    db = Database(database_url)
    fake_zalo.refresh_delay = 0.5  # a slow OAuth server: the lease must cover the whole call
    async with aiohttp.ClientSession() as http:
        workers = [await _tokens(fake_zalo, database_url, http, db) for _ in range(4)]
        results = await asyncio.gather(*(w.refresh_if_due() for w in workers))
        assert sorted(results) == [False, False, False, True]
        assert fake_zalo.refresh_calls == 1, "the single-use refresh token was used once"
        async with db.session() as session:
            row = await session.get(ZaloToken, 1)
            assert row is not None
            assert row.access_token in fake_zalo.access_tokens
            assert row.refresh_token == fake_zalo.refresh_token
            assert row.expires_at is not None and row.expires_at > utcnow() + timedelta(hours=24)
            assert row.lease_until is None
        # Not due again until close to expiry.
        assert await workers[0].refresh_if_due() is False
    await db.dispose()


async def test_oauth_error_with_http_200_keeps_the_working_token_and_shows_on_health(
    zalo_gateway: RunningGateway, fake_zalo: FakeZalo
) -> None:
    db = zalo_gateway.app[DB]
    for _ in range(50):  # the start-up round refreshes the seeded token
        async with db.session() as session:
            row = await session.get(ZaloToken, 1)
            if row is not None and row.refreshed_at is not None:
                break
        await asyncio.sleep(0.1)
    async with db.session() as session:
        before = await session.get(ZaloToken, 1)
        assert before is not None
        working = (before.access_token, before.refresh_token)
        await session.execute(update(ZaloToken).values(expires_at=utcnow() + timedelta(minutes=5)))
    fake_zalo.fail_refresh = True

    assert await zalo_gateway.app[ZALO_TOKENS].refresh_if_due() is False
    async with db.session() as session:
        after = await session.get(ZaloToken, 1)
        assert after is not None and (after.access_token, after.refresh_token) == working
        assert "Invalid refresh token" in (after.last_error or "")
    async with zalo_gateway.http.get(f"{zalo_gateway.base_url}/healthz") as resp:
        health = await resp.json()
    assert health["status"] == "degraded"
    assert "Invalid refresh token" in health["zalo_token"]["last_refresh_error"]
    user = ZaloUser(zalo_gateway, fake_zalo)
    assert await user.say("xin chào"), "sending still works with the kept token"


async def test_petition_with_photo_and_location_keeps_both_on_the_case(
    zalo_gateway: RunningGateway, fake_zalo: FakeZalo
) -> None:
    from bot.store.models import Case

    user = ZaloUser(zalo_gateway, fake_zalo)
    await user.say("tôi muốn phản ánh")
    asked_where = await user.say("Cống thoát nước trước chợ bị tắc, bốc mùi nhiều ngày nay.")
    assert any("ở đâu" in t for t in asked_where)
    image = event("zalo_event_location.json", event_name="user_send_image")
    image["message"] = {
        "msg_id": f"img{now_ms()}",
        "text": "",
        "attachments": [{"type": "image", "payload": {"url": "https://example.invalid/anh.jpg"}}],
    }
    assert await user.post(image) == 200
    await zalo_gateway.flow.drain()
    assert any("Đã nhận ảnh" in t for t in fake_zalo.texts_to(USER))
    location = event("zalo_event_location.json")
    location["message"]["msg_id"] = f"loc{now_ms()}"
    assert await user.post(location) == 200
    await zalo_gateway.flow.drain()
    await user.press("Gửi ẩn danh")
    done = await user.press("Xác nhận gửi")
    assert any("Mã hồ sơ:" in t for t in done), done
    async with zalo_gateway.app[DB].session() as session:
        case = (await session.execute(select(Case))).scalar_one()
    assert case.location == "Vị trí: 21.0285, 105.8542"
    assert [a["type"] for a in case.attachments] == ["image", "location"]
    assert case.attachments[0]["url"] == "https://example.invalid/anh.jpg"


async def test_a_follow_link_for_a_topic_opens_the_subscription(
    zalo_gateway: RunningGateway, fake_zalo: FakeZalo
) -> None:
    follower = "8800000000000000009"
    user = ZaloUser(zalo_gateway, fake_zalo, user_id=follower)
    plain = event("zalo_event_follow.json", follower={"id": follower})
    assert await user.post(plain) == 200
    await zalo_gateway.flow.drain()
    assert fake_zalo.texts_to(follower) == [], "a plain follow asks nothing of the citizen"

    linked = event("zalo_event_follow.json", follower={"id": follower}, source="sub_datdai")
    assert await user.post(linked) == 200
    await zalo_gateway.flow.drain()
    asked = " ".join(fake_zalo.texts_to(follower))
    assert "địa bàn nào" in asked, "the topic is chosen: only the place is asked"
    done = " ".join(await user.say("phuong hoan kiem"))
    assert "Đã đăng ký" in done and "Đất đai" in done, done
