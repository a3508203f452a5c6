"""The test suite's fake Telegram Bot API as its own process, for the broadcast benchmarks.

    python -m bench.fake_telegram --port 8081 [--per-second 200] [--per-chat-interval 1.0]

Besides the Bot API (`/bot<token>/<method>`), it answers `GET /_stats` with what it counted:
messages accepted, 429s given, and how many chats got one, two or more messages.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from typing import Any

from aiohttp import web

from tests.fakes.telegram_api import FakeTelegram

TOKEN = "123456:BENCH-token"  # noqa: S105 (the fake's own, not a secret)


def stats(fake: FakeTelegram, arrivals: list[float]) -> dict[str, Any]:
    """Counts for the benchmark: per chat, 429s, first and last accepted arrival."""
    by_count = Counter(fake.per_chat.values())
    return {
        "sent": sum(fake.per_chat.values()),
        "too_many": fake.too_many,
        "chats": len(fake.per_chat),
        "chats_by_count": {str(k): v for k, v in sorted(by_count.items())},
        "first": arrivals[0] if arrivals else None,
        "last": arrivals[-1] if arrivals else None,
    }


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
        return web.json_response(stats(fake, arrivals))

    app.router.add_get("/_stats", get_stats)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--per-second", type=float, default=0.0)
    parser.add_argument("--per-chat-interval", type=float, default=0.0)
    args = parser.parse_args()
    web.run_app(
        build(args.per_second, args.per_chat_interval),
        host="127.0.0.1",
        port=args.port,
        print=None,
        access_log=None,
    )


if __name__ == "__main__":
    main()
