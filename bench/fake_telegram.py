"""The test suite's fake Telegram Bot API as its own process, for the broadcast benchmarks.

    python -m bench.fake_telegram --port 8081 [--per-second 200] [--per-chat-interval 1.0]

Besides the Bot API (`/bot<token>/<method>`), it answers `GET /_stats` with what it counted:
messages accepted, 429s given, and how many chats got one, two or more messages.
"""

from __future__ import annotations

import time
from typing import Any

from aiohttp import web

from bench.fake_platform import serve, stats
from tests.fakes.telegram_api import FakeTelegram

TOKEN = "123456:BENCH-token"  # noqa: S105 (the fake's own, not a secret)


def build(per_second: float, per_chat_interval: float) -> web.Application:
    """The fake's app plus /_stats; `sent` is not kept (memory stays flat)."""
    fake = FakeTelegram(TOKEN, per_second=per_second, per_chat_interval=per_chat_interval)
    arrivals: list[float] = []
    inner = fake._send_message

    def counted(params: dict[str, Any]) -> web.Response:
        response = inner(params)
        if response.status == 200:
            arrivals.append(time.monotonic())
            fake.sent.clear()
        return response

    fake._send_message = counted  # type: ignore[method-assign]
    app = fake.app()

    async def get_stats(_: web.Request) -> web.Response:
        return web.json_response(stats(fake.per_chat, fake.too_many, arrivals))

    app.router.add_get("/_stats", get_stats)
    return app


def main() -> None:
    serve(build, __doc__)


if __name__ == "__main__":
    main()
