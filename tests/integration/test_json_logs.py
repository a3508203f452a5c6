"""What the gateway logs through its normal paths, in production's JSON format, while a
citizen's message with a name and a phone number is refused by the engine, a Telegram
webhook is forged and a Telegram message is answered: every line is one JSON object, and no
text, phone number or token appears."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
import structlog

from bot.logging import library_formatter, processors
from tests.chat import post_update
from tests.conftest import (
    TELEGRAM_SECRET,
    TELEGRAM_TOKEN,
    Tokens,
    free_port,
    gateway_settings,
    running_gateway,
    serve,
    telegram_settings,
)
from tests.fakes.engine_api import FakeEngine
from tests.fakes.telegram_api import FakeTelegram

CHAT = 5550078
PERSONAL = "Tôi là Nguyễn Thị Lan, gọi tôi số 0912345678 về quyết định thu hồi đất"


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """Ours and the libraries' lines at DEBUG, through production's chain; never cached (a
    cached logger would keep writing here after the test)."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(library_formatter(True, [TELEGRAM_TOKEN]))
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    structlog.configure(
        processors=processors(as_json=True, secrets=[TELEGRAM_TOKEN]),
        logger_factory=structlog.PrintLoggerFactory(out),
        cache_logger_on_first_use=False,
    )
    try:
        yield out
    finally:
        structlog.reset_defaults()
        root.removeHandler(handler)
        root.setLevel(level)


async def test_gateway_logs_are_json_without_texts_phone_numbers_or_tokens(
    database_url: str, tokens: Tokens, fake_telegram: FakeTelegram, captured: io.StringIO
) -> None:
    engine = FakeEngine(fail_on=PERSONAL)
    async with serve(engine.app()) as engine_url:
        telegram = telegram_settings(fake_telegram)
        settings = gateway_settings(
            database_url, tokens, engine_url, retry_interval=3600, **telegram
        )
        async with running_gateway(settings, free_port()) as gw:
            chat = await gw.chat()
            await chat.say(PERSONAL)  # the engine answers HTTP 500: engine_refused is logged
            assert await post_update(gw, CHAT, PERSONAL, secret="forged") == 403
            mine = "số của tôi 0912345678"
            assert await post_update(gw, CHAT, mine, secret=TELEGRAM_SECRET) == 200
            await gw.flow.drain()
    assert any("0912345678" in m["text"] for m in fake_telegram.sent), "the reply went out"
    text = captured.getvalue()
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]
    events = {line["event"] for line in lines}
    assert "engine_refused" in events, f"the refusal is logged: {sorted(events)}"
    assert all(isinstance(line.get("event"), str) for line in lines), text
    leaks = ["0912345678", "Nguyễn Thị Lan", "thu hồi đất", TELEGRAM_TOKEN.split(":")[1]]
    leaks += [tokens.rasa, tokens.action, chat.session_id]
    for leak in leaks:
        assert leak not in text, f"{leak!r} logged:\n{text[:3000]}"
