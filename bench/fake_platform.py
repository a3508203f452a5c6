"""What the benchmarks' fake platforms (bench/fake_telegram.py, bench/fake_zalo.py) share:
the counts `GET /_stats` answers, and the command line that serves one on 127.0.0.1."""

from __future__ import annotations

import argparse
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

from aiohttp import web


def stats(per_chat: Mapping[Any, int], too_many: int, arrivals: list[float]) -> dict[str, Any]:
    """Counts for the benchmark: per chat, refusals for the rate limit, first and last
    accepted arrival (monotonic seconds)."""
    by_count = Counter(per_chat.values())
    return {
        "sent": sum(per_chat.values()),
        "too_many": too_many,
        "chats": len(per_chat),
        "chats_by_count": {str(k): v for k, v in sorted(by_count.items())},
        "first": arrivals[0] if arrivals else None,
        "last": arrivals[-1] if arrivals else None,
    }


def serve(build: Callable[[float, float], web.Application], doc: str | None) -> None:
    """`--port`, `--per-second` and `--per-chat-interval` (0: no limit), then serve."""
    parser = argparse.ArgumentParser(description=doc)
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
