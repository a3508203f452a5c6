"""Subscribing in chat (web chat, Telegram deep link), stopping in one message, pausing."""

from __future__ import annotations

from sqlalchemy import select

from bot.gateway import DB
from bot.store.models import Contact, Subscription
from tests.chat import buttons, press, said
from tests.conftest import RunningGateway
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.zalo_api import FakeZalo
from tests.integration.test_telegram import TelegramUser, fixture
from tests.integration.test_zalo import ZaloUser, event


async def _subscriptions(gw: RunningGateway) -> list[tuple[str, str, str]]:
    async with gw.app[DB].session() as session:
        rows = (await session.execute(select(Subscription).order_by(Subscription.id))).scalars()
        return [(s.topic, s.locality, s.status) for s in rows]


async def test_subscribe_with_a_misspelled_ward_then_stop(gateway: RunningGateway) -> None:
    chat = await gateway.chat()
    data = await chat.say("dang ky nhan tin")
    assert "chủ đề nào" in said(data) and "Đất đai" in buttons(data)
    data = await press(chat, data, "Đất đai")
    assert "địa bàn nào" in said(data)
    data = await chat.say("phuong hoan kem")
    assert "Có phải anh/chị muốn nói" in said(data)
    data = await press(chat, data, "Phường Hoàn Kiếm, Thành phố Hà Nội")
    assert "Đã đăng ký nhận tin “Đất đai” cho Phường Hoàn Kiếm" in said(data), said(data)
    assert "hủy nhận tin" in said(data)
    [(topic, locality, status)] = await _subscriptions(gateway)
    assert topic == "datdai" and locality.startswith("w:") and status == "active"
    data = await chat.say("đăng ký nhận tin")
    assert "Đất đai – Phường Hoàn Kiếm" in said(data), "the current subscriptions are listed"
    data = await chat.say("hủy")
    data = await chat.say("hủy nhận tin")
    assert "Đã dừng toàn bộ" in said(data), said(data)
    assert [s[2] for s in await _subscriptions(gateway)] == ["cancelled"]


async def test_telegram_deep_link_preselects_the_topic(
    telegram_gateway: RunningGateway, fake_telegram: FakeTelegram
) -> None:
    user = TelegramUser(telegram_gateway, fake_telegram, chat_id=5550002)
    assert await user.post(fixture("telegram_update_start_deeplink.json")) == 200
    replies = await user.replies_after(0)
    assert any("địa bàn nào" in r for r in replies), replies
    replies = await user.say("toàn quốc")
    assert any("Đã đăng ký nhận tin “Đất đai” cho toàn quốc" in r for r in replies), replies
    assert await _subscriptions(telegram_gateway) == [("datdai", "country", "active")]
    fake_telegram.blocked_chats.add(5550002)
    await user.say("cảm ơn")  # the reply fails: the user blocked the bot
    assert await _subscriptions(telegram_gateway) == [("datdai", "country", "paused")]


async def test_zalo_unfollow_pauses_and_a_new_message_resumes(
    zalo_gateway: RunningGateway, fake_zalo: FakeZalo
) -> None:
    user = ZaloUser(zalo_gateway, fake_zalo)
    await user.say("đăng ký nhận tin")
    await user.press("Trách nhiệm giải trình")
    done = await user.say("Hà Nội")
    assert any("Thành phố Hà Nội" in t for t in done), done
    unfollow = event("zalo_event_follow.json", event_name="unfollow")
    unfollow["follower"] = {"id": user.user_id}
    assert await user.post(unfollow) == 200
    assert [s[2] for s in await _subscriptions(zalo_gateway)] == ["paused"]
    async with zalo_gateway.app[DB].session() as session:
        contact = (await session.execute(select(Contact))).scalar_one()
        assert contact.unreachable_at is not None
    await user.say("xin chào")
    assert [s[2] for s in await _subscriptions(zalo_gateway)] == ["active"]


async def test_list_and_remove_one_subscription_keeps_the_others(gateway: RunningGateway) -> None:
    chat = await gateway.chat()
    for topic, place in (("Đất đai", "phường Hoàn Kiếm"), ("Thủ tục hành chính", "toàn quốc")):
        data = await chat.say("đăng ký nhận tin")
        data = await press(chat, data, topic)
        data = await chat.say(place)
        assert "Đã đăng ký" in said(data), said(data)
    data = await chat.say("dang ky nhan tin")
    listed = said(data)
    assert "1. Đất đai – Phường Hoàn Kiếm" in listed and "2. Thủ tục hành chính" in listed
    assert "bỏ 1" in listed
    data = await chat.say("bo 3")
    assert "Không có mục số 3" in said(data), "a number not in the list changes nothing"
    data = await press(chat, data, "Bỏ 1: Đất đai")
    assert "Đã bỏ nhận tin “Đất đai” – Phường Hoàn Kiếm" in said(data), said(data)
    assert [s[2] for s in await _subscriptions(gateway)] == ["cancelled", "active"]
    data = await chat.say("đăng ký nhận tin")
    assert "1. Thủ tục hành chính – toàn quốc" in said(data), said(data)
