"""Telegram through the webhook, against the fake Bot API, with the real engine."""

from __future__ import annotations

import asyncio
import copy
import io
import json
import logging
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import structlog
from sqlalchemy import func, select

from bot.channels import DeliveryOutcome, OutboundMessage, Recipient
from bot.domain.delivery import DeliveryKind, DeliveryStatus
from bot.domain.messages import Direction, MessageStatus
from bot.gateway import DB, LOOPS
from bot.logging import processors
from bot.store.models import Contact, Delivery, Message
from connectors.telegram import TelegramChannel, make_bot
from tests.conftest import TELEGRAM_SECRET, TELEGRAM_TOKEN, RunningGateway
from tests.fakes.telegram_api import FakeTelegram

DATA = Path(__file__).resolve().parent.parent / "data" / "telegram"
CHAT = 5550001


def fixture(name: str) -> dict[str, Any]:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


class TelegramUser:
    """A citizen writing to the bot: builds Updates like Telegram does and posts them to the
    webhook, or (`polling`) queues them for the bot's long polling."""

    next_update = 900000000

    def __init__(
        self, gw: RunningGateway, fake: FakeTelegram, chat_id: int = CHAT, polling: bool = False
    ) -> None:
        self.gw, self.fake, self.chat_id, self.polling = gw, fake, chat_id, polling

    async def post(self, update: dict[str, Any], secret: str | None = TELEGRAM_SECRET) -> int:
        if self.polling:  # "200" once the bot has taken the update (and scheduled it)
            self.fake.push_update(update)
            await asyncio.wait_for(self.fake.confirmed(update["update_id"]), 120)
            return 200
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
        async with self.gw.http.post(
            f"{self.gw.base_url}/webhooks/telegram", json=update, headers=headers
        ) as resp:
            return resp.status

    def _id(self) -> int:
        TelegramUser.next_update += 1
        return TelegramUser.next_update

    async def say(self, text: str) -> list[str]:
        """Send text and return the bot's replies to it."""
        before = len(self.fake.texts_to(self.chat_id))
        update = fixture("telegram_update_message.json")
        update["update_id"] = self._id()
        update["message"]["message_id"] = update["update_id"]
        update["message"]["text"] = text
        update["message"]["chat"]["id"] = self.chat_id
        update["message"]["from"]["id"] = self.chat_id
        assert await self.post(update) == 200
        return await self.replies_after(before)

    async def press(self, title: str) -> list[str]:
        """Press the inline button called `title` under the bot's last keyboard."""
        markup = next(
            m["reply_markup"]
            for m in reversed(self.fake.sent)
            if m["chat_id"] == self.chat_id and m["reply_markup"]
        )
        buttons = [b for row in markup["inline_keyboard"] for b in row]
        button = next((b for b in buttons if b["text"] == title), None)
        assert button, f"no button {title!r} in {[b['text'] for b in buttons]}"
        before = len(self.fake.texts_to(self.chat_id))
        update = fixture("telegram_update_callback.json")
        update["update_id"] = self._id()
        update["callback_query"]["id"] = f"cb{update['update_id']}"
        update["callback_query"]["data"] = button["callback_data"]
        update["callback_query"]["message"]["chat"]["id"] = self.chat_id
        update["callback_query"]["message"]["reply_markup"] = markup
        assert await self.post(update) == 200
        return await self.replies_after(before)

    async def replies_after(self, before: int) -> list[str]:
        await self.gw.flow.drain()
        return self.fake.texts_to(self.chat_id)[before:]


async def count_messages(gw: RunningGateway) -> int:
    async with gw.app[DB].session() as session:
        return int(await session.scalar(select(func.count()).select_from(Message)) or 0)


async def test_forged_or_missing_secret_is_403_and_stores_nothing(
    telegram_gateway: RunningGateway, fake_telegram: FakeTelegram
) -> None:
    user = TelegramUser(telegram_gateway, fake_telegram)
    update = fixture("telegram_update_message.json")
    assert await user.post(update, secret="wrong") == 403
    assert await user.post(update, secret=None) == 403
    assert await user.post(update, secret=TELEGRAM_SECRET + "x") == 403
    assert await count_messages(telegram_gateway) == 0
    assert fake_telegram.sent == []


async def test_malformed_update_is_400_and_stores_nothing(
    telegram_gateway: RunningGateway, fake_telegram: FakeTelegram
) -> None:
    url = f"{telegram_gateway.base_url}/webhooks/telegram"
    headers = {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}
    for body in (b"{not json", b"\xff\xfe", b'{"message": {}}', b"[]"):
        async with telegram_gateway.http.post(url, data=body, headers=headers) as resp:
            assert resp.status == 400, body
    assert await count_messages(telegram_gateway) == 0


async def test_documented_message_is_answered_and_a_retry_is_ignored(
    telegram_gateway: RunningGateway, fake_telegram: FakeTelegram
) -> None:
    user = TelegramUser(telegram_gateway, fake_telegram)
    update = fixture("telegram_update_message.json")
    assert await user.post(update) == 200
    replies = await user.replies_after(0)
    assert replies, "the question gets an answer"
    assert await user.post(copy.deepcopy(update)) == 200  # Telegram retrying the same update
    assert await user.replies_after(0) == replies
    async with telegram_gateway.app[DB].session() as session:
        inbound = await session.scalar(
            select(func.count()).select_from(Message).where(Message.direction == Direction.IN)
        )
    assert inbound == 1


async def test_start_deep_link_and_greeting_in_vietnamese(
    telegram_gateway: RunningGateway, fake_telegram: FakeTelegram
) -> None:
    user = TelegramUser(telegram_gateway, fake_telegram, chat_id=5550002)
    update = fixture("telegram_update_start_deeplink.json")
    assert await user.post(update) == 200
    replies = await user.replies_after(0)
    assert any("địa bàn nào" in r for r in replies), "/start sub_datdai starts subscribing"
    assert any("Đã hủy" in r for r in await user.say("thôi"))
    replies = await user.say("xin chào")
    assert any("Xin chào" in r for r in replies)


async def test_full_conversation_greeting_to_case_code(
    telegram_gateway: RunningGateway, fake_telegram: FakeTelegram
) -> None:
    user = TelegramUser(telegram_gateway, fake_telegram)
    assert any("Xin chào" in r for r in await user.say("chao ad"))
    replies = await user.say("toi muon yeu cau giai trinh ve quyet dinh thu hoi dat")
    assert any("đồng ý" in r.lower() for r in replies)
    await user.press("Đồng ý")
    await user.say("Nguyễn Thị Lan")
    await user.say("0912345678")
    await user.say("phường Hoàn Kiếm")
    await user.say("Quyết định thu hồi đất số 12/QĐ-UBND")
    summary = await user.say(
        "Đề nghị giải trình căn cứ thu hồi và mức bồi thường cho gia đình tôi."
    )
    assert any("Nguyễn Thị Lan" in r for r in summary)
    done = await user.press("Xác nhận gửi")
    assert any("Mã hồ sơ:" in r for r in done), done
    assert len(fake_telegram.answered_callbacks) == 2, "every button press is answered"


async def test_blocked_user_becomes_unreachable(
    telegram_gateway: RunningGateway, fake_telegram: FakeTelegram
) -> None:
    fake_telegram.blocked_chats.add(CHAT)
    user = TelegramUser(telegram_gateway, fake_telegram)
    assert await user.say("xin chào") == []
    async with telegram_gateway.app[DB].session() as session:
        contact = (await session.execute(select(Contact))).scalar_one()
        reply = (
            (await session.execute(select(Message).where(Message.direction == Direction.OUT)))
            .scalars()
            .first()
        )
    assert contact.unreachable_at is not None
    assert (
        reply is not None
        and reply.status == MessageStatus.FAILED
        and "blocked" in (reply.error or "")
    )


async def test_flood_control_waits_as_told_then_sends_once(
    telegram_gateway: RunningGateway, fake_telegram: FakeTelegram
) -> None:
    fake_telegram.flood_once[CHAT] = 1
    user = TelegramUser(telegram_gateway, fake_telegram)
    assert await user.say("xin chào") == [], "first attempt refused with retry_after"
    async with telegram_gateway.app[DB].session() as session:
        delivery = (await session.execute(select(Delivery))).scalar_one()
        assert delivery.status == DeliveryStatus.PENDING and delivery.kind == DeliveryKind.REPLY
    status = None
    for _ in range(60):  # the dispatcher records the outcome just after the fake answers
        async with telegram_gateway.app[DB].session() as session:
            status = (
                await session.execute(
                    select(Message.status).where(Message.direction == Direction.OUT)
                )
            ).scalar_one()
        if status == MessageStatus.SENT:
            break
        await asyncio.sleep(0.1)
    assert status == MessageStatus.SENT
    texts = fake_telegram.texts_to(CHAT)
    assert len(texts) == 1 and "Xin chào" in texts[0]


async def test_long_text_is_split_and_too_long_payloads_use_references(
    fake_telegram: FakeTelegram,
) -> None:
    async with (
        make_bot(TELEGRAM_TOKEN, fake_telegram.base_url) as bot,  # type: ignore[attr-defined]
        aiohttp.ClientSession() as http,
    ):
        channel = TelegramChannel(bot, http)
        text = "Cơ quan đã tiếp nhận yêu cầu của anh/chị và đang xử lý. " * 150
        from bot.channels import Button

        long_payload = "Phường Hoàn Kiếm, Thành phố Hà Nội, dữ liệu rất dài " * 2
        result = await channel.send(
            Recipient("telegram", str(CHAT)),
            OutboundMessage(text=text, buttons=(Button("Chọn", long_payload),), ref=42),
        )
    assert result.outcome is DeliveryOutcome.SENT
    texts = fake_telegram.texts_to(CHAT)
    assert len(texts) == 3 and all(len(t) <= 4096 for t in texts)
    assert " ".join(texts) == text.strip()
    markup = fake_telegram.sent[-1]["reply_markup"]
    assert markup["inline_keyboard"][0][0]["callback_data"] == "#b42.0"
    assert fake_telegram.sent[0]["reply_markup"] is None


async def test_long_polling_receives_and_answers_without_a_webhook(
    demo_database_url: str,
    tokens: Any,
    engine: Any,
    gateway_port: int,
    fake_telegram: FakeTelegram,
) -> None:
    from tests.conftest import gateway_settings, running_gateway, telegram_settings

    settings = gateway_settings(
        demo_database_url,
        tokens,
        engine.url,
        **{**telegram_settings(fake_telegram), "telegram_mode": "auto", "public_url": ""},
    )
    async with running_gateway(settings, gateway_port):
        update = fixture("telegram_update_message.json")
        update["message"]["text"] = "xin chào"
        fake_telegram.push_update(update)
        for _ in range(100):
            if fake_telegram.texts_to(CHAT):
                break
            await asyncio.sleep(0.1)
    assert any("Xin chào" in t for t in fake_telegram.texts_to(CHAT))
    assert {"method": "deletewebhook"}.items() <= fake_telegram.webhooks[0].items()


async def test_long_polling_goes_on_after_failed_polls(
    demo_database_url: str,
    tokens: Any,
    engine: Any,
    gateway_port: int,
    fake_telegram: FakeTelegram,
) -> None:
    from tests.conftest import gateway_settings, running_gateway, telegram_settings

    settings = gateway_settings(
        demo_database_url,
        tokens,
        engine.url,
        **{**telegram_settings(fake_telegram), "telegram_mode": "polling"},
    )
    fake_telegram.poll_failures = 3  # Telegram answers 502 three times in a row
    async with running_gateway(settings, gateway_port) as gateway:
        update = fixture("telegram_update_message.json")
        update["message"]["text"] = "xin chào"
        fake_telegram.push_update(update)
        for _ in range(150):
            if fake_telegram.texts_to(CHAT):
                break
            await asyncio.sleep(0.1)
        async with gateway.http.get(f"{gateway.base_url}/healthz") as resp:
            polling = (await resp.json())["loops"]["telegram_polling"]
    assert fake_telegram.failed_polls == 3
    # /healthz shows the loop running, with the failures it went through.
    assert polling["running"] and polling["last_error"] and polling["last_ok_at"], polling
    assert any("Xin chào" in t for t in fake_telegram.texts_to(CHAT)), "polling resumed"


async def test_set_webhook_command_registers_url_and_secret(fake_telegram: FakeTelegram) -> None:
    import os
    import sys

    env = {
        **os.environ,
        "GIAITRINH_TELEGRAM_TOKEN": TELEGRAM_TOKEN,
        "GIAITRINH_TELEGRAM_WEBHOOK_SECRET": TELEGRAM_SECRET,
        "GIAITRINH_TELEGRAM_API_BASE": fake_telegram.base_url,  # type: ignore[attr-defined]
        "GIAITRINH_PUBLIC_URL": "https://giaitrinh.example.vn",
    }
    giaitrinh = str(Path(sys.executable).parent / "giaitrinh")
    proc = await asyncio.create_subprocess_exec(
        giaitrinh, "telegram", "set-webhook", env=env, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await proc.communicate()
    assert proc.returncode == 0, out
    [call] = fake_telegram.webhooks
    assert call["method"] == "setwebhook"
    assert call["url"] == "https://giaitrinh.example.vn/webhooks/telegram"
    assert call["secret_token"] == TELEGRAM_SECRET


async def test_outbox_keeps_to_one_message_per_second_per_chat(
    telegram_gateway: RunningGateway, fake_telegram: FakeTelegram
) -> None:
    from bot.store.models import Conversation, utcnow

    fake_telegram.per_chat_interval = 1.0  # the fake answers 429 to anything faster
    async with telegram_gateway.app[DB].session() as session:
        contact = Contact(channel="telegram", channel_user_id=str(CHAT), last_seen_at=utcnow())
        session.add(contact)
        await session.flush()
        session.add(Conversation(contact_id=contact.id))
        session.add_all(
            Delivery(contact_id=contact.id, kind="case_update", text=f"Thông báo {i}")
            for i in range(3)
        )
    for _ in range(100):
        if len(fake_telegram.texts_to(CHAT)) == 3:
            break
        await asyncio.sleep(0.1)
    assert fake_telegram.texts_to(CHAT) == ["Thông báo 0", "Thông báo 1", "Thông báo 2"]
    assert fake_telegram.too_many == 0, "the dispatcher never provoked a 429"


async def test_logs_of_a_polled_conversation_hold_neither_the_token_nor_the_phone(
    demo_database_url: str,
    tokens: Any,
    engine: Any,
    gateway_port: int,
    fake_telegram: FakeTelegram,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Everything logged at DEBUG (stdlib and structlog, in production's format) during a
    case filed over long polling, with a database error while the phone number is stored."""
    from tests.conftest import (
        gateway_settings,
        lock_error,
        running_gateway,
        telegram_settings,
        write_lock,
    )

    structlog_lines = io.StringIO()
    structlog.configure(
        processors=processors(as_json=True),
        logger_factory=structlog.PrintLoggerFactory(structlog_lines),
        cache_logger_on_first_use=False,
    )
    caplog.set_level(logging.DEBUG)
    settings = gateway_settings(
        demo_database_url,
        tokens,
        engine.url,
        database_busy_timeout_s=0.2,
        **{**telegram_settings(fake_telegram), "telegram_mode": "polling"},
    )
    try:
        async with running_gateway(settings, gateway_port) as gw:
            user = TelegramUser(gw, fake_telegram, chat_id=5550003, polling=True)
            await user.say("toi muon yeu cau giai trinh ve quyet dinh thu hoi dat")
            await user.press("Đồng ý")
            await user.say("Nguyễn Thị Lan")
            polling = gw.app[LOOPS]["telegram_polling"]
            async with write_lock(demo_database_url):
                phone = asyncio.create_task(user.say("0912345678"))
                await asyncio.wait_for(polling.wait_for(lambda s: s.failures >= 1), 60)
            await phone
            await user.say("phường Hoàn Kiếm")
            await user.say("Quyết định thu hồi đất số 12/QĐ-UBND")
            summary = await user.say("Đề nghị giải trình căn cứ thu hồi và mức bồi thường.")
            assert any("0912345678" in r for r in summary), "the phone number reached the form"
            done = await user.press("Xác nhận gửi")
            assert any("Mã hồ sơ:" in r for r in done), done
    finally:
        structlog.reset_defaults()
    logged = caplog.text + structlog_lines.getvalue()
    locked = lock_error(demo_database_url)
    assert "loop_round_failed" in logged and locked in logged, "the error is logged"
    secret_part = TELEGRAM_TOKEN.split(":")[1]
    assert TELEGRAM_TOKEN not in logged and secret_part not in logged, _around(logged, secret_part)
    assert "912345678" not in logged, _around(logged, "912345678")


def _around(text: str, needle: str) -> str:
    """Where a leak is, for the failure message."""
    at = text.find(needle)
    return text[max(0, at - 300) : at + 100]


async def test_a_rejected_token_is_logged_without_the_token(
    database_url: str, tokens: Any, fake_telegram: FakeTelegram
) -> None:
    """python-telegram-bot puts the token in its InvalidToken message; the log must not."""
    from pydantic import SecretStr

    from tests.conftest import free_port, gateway_settings, running_gateway, telegram_settings

    wrong = "654321:WRONG-secret-part"
    settings = gateway_settings(
        database_url,
        tokens,
        f"http://127.0.0.1:{free_port()}",
        **{**telegram_settings(fake_telegram), "telegram_token": SecretStr(wrong)},
    )
    with structlog.testing.capture_logs() as logs:
        async with running_gateway(settings, free_port()):
            pass
    failed = [e for e in logs if e["event"] == "telegram_init_failed"]
    assert failed, logs
    assert "WRONG-secret-part" not in repr(failed), failed


async def test_set_webhook_with_a_rejected_token_does_not_print_it(
    fake_telegram: FakeTelegram,
) -> None:
    import os
    import sys

    env = {
        **os.environ,
        "GIAITRINH_TELEGRAM_TOKEN": "654321:WRONG-secret-part",
        "GIAITRINH_TELEGRAM_WEBHOOK_SECRET": TELEGRAM_SECRET,
        "GIAITRINH_TELEGRAM_API_BASE": fake_telegram.base_url,  # type: ignore[attr-defined]
        "GIAITRINH_PUBLIC_URL": "https://giaitrinh.example.vn",
    }
    giaitrinh = str(Path(sys.executable).parent / "giaitrinh")
    proc = await asyncio.create_subprocess_exec(
        giaitrinh,
        "telegram",
        "set-webhook",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    assert proc.returncode == 1, (out, err)
    assert b"WRONG-secret-part" not in out + err, err
    assert fake_telegram.webhooks == []
