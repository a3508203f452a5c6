"""For the tests of several processes: a citizen whose messages reach several gateways, and
what a Redis server has done."""

from __future__ import annotations

import shutil
import subprocess
from typing import Any

import aiohttp

from tests.conftest import WebChat


class RoamingChat(WebChat):
    """One citizen whose messages reach the gateways in turn (a load balancer's choice)."""

    def __init__(self, http: aiohttp.ClientSession, urls: list[str]) -> None:
        super().__init__(http, urls[0])
        self.urls = urls
        self.sent = 0

    async def post(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        self.base_url = self.urls[self.sent % len(self.urls)]
        self.sent += 1
        return await super().post(body)


def redis_commands(port: int) -> int:
    """How many commands the Redis server on 127.0.0.1:port has processed."""
    out = subprocess.run(
        [shutil.which("redis-cli") or "redis-cli", "-p", str(port), "INFO", "stats"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    line = next(x for x in out.splitlines() if x.startswith("total_commands_processed:"))
    return int(line.split(":")[1])
