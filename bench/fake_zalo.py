"""A fake Zalo OA API as its own process, for the broadcast benchmarks.

    python -m bench.fake_zalo --port 8082 [--per-second 200] [--per-chat-interval 1.0]

`POST /v3.0/oa/message/cs`, `/transaction` and `/promotion` with header `access_token`, in the
shapes of Zalo's OA API v3: `{"error": 0, "message": "Success", "data": {"message_id",
"user_id"}}`; errors come with HTTP 200 as Zalo sends them: -216 for another token, -201 for
a body without a recipient, a text (cs) or a template within Zalo's limits, and above the
overall rate or sooner than the per-user interval Zalo's `{"error": -32, "message": "rate
limit exceeded"}` (the channel retries it later). No OAuth endpoint: the benchmark seeds a
token that does not expire during the run.

`GET /_stats` answers what the Telegram fake's does (messages accepted, rate-limit refusals,
how many users got one, two or more) plus accepted messages by kind and refusals by limit;
`GET /_users` the users who got at least one message (the quota check compares them with
rows in doubt).
"""

from __future__ import annotations

import itertools
import time
from collections import Counter, deque
from typing import Any

from aiohttp import web

from bench.fake_platform import serve, stats
from tests.fakes.zalo_api import template_problem

TOKEN = "bench-zalo-access-token"  # noqa: S105 (the fake's own, not a secret)
KINDS = ("cs", "transaction", "promotion")


def problem(kind: str, body: dict[str, Any]) -> str:
    """What makes a send's body wrong for its path ("" when nothing does): the templates are
    checked against Zalo's documented limits as the test suite's fake OA checks them."""
    if not str((body.get("recipient") or {}).get("user_id", "")):
        return "recipient.user_id"
    message = body.get("message") or {}
    if kind == "cs":
        return "" if 0 < len(str(message.get("text", ""))) <= 2000 else "message.text"
    return template_problem(kind, message)


class FakeOA:
    """The OA's counts and limits: per user, by kind, refusals, arrivals."""

    def __init__(self, per_second: float, per_chat_interval: float) -> None:
        self.per_second = per_second
        self.per_chat_interval = per_chat_interval
        self.per_user: Counter[str] = Counter()
        self.kinds: Counter[str] = Counter()
        self.too_many = 0
        self.limited_by: Counter[str] = Counter()  # which limit refused: overall or user
        self.arrivals: list[float] = []
        self._window: deque[float] = deque()  # accepted in the last second
        self._last_by_user: dict[str, float] = {}
        self._ids = itertools.count(1)

    def limited(self, user: str, now: float) -> str:
        """Which limit this send is above: "user" (too soon after the user's last),
        "overall" (the rate over the last second), or "" (none)."""
        if self.per_chat_interval and now - self._last_by_user.get(user, -1e9) < (
            self.per_chat_interval
        ):
            return "user"
        if self.per_second:
            while self._window and now - self._window[0] >= 1.0:
                self._window.popleft()
            if len(self._window) >= self.per_second:
                return "overall"
        return ""

    def accept(self, kind: str, user: str, now: float) -> str:
        """Count an accepted message; returns its message id."""
        if self.per_second:
            self._window.append(now)
        self._last_by_user[user] = now
        self.per_user[user] += 1
        self.kinds[kind] += 1
        self.arrivals.append(now)
        return f"{next(self._ids):020x}"

    def app(self) -> web.Application:
        """The message paths, /_stats and /_users."""
        app = web.Application()
        for kind in KINDS:
            app.router.add_post(f"/v3.0/oa/message/{kind}", self._handler(kind))
        app.router.add_get("/_stats", self._stats)
        app.router.add_get("/_users", self._users)
        return app

    def _handler(self, kind: str) -> Any:
        async def send(request: web.Request) -> web.Response:
            if request.headers.get("access_token") != TOKEN:
                return web.json_response({"error": -216, "message": "Access token is invalid"})
            body = await request.json()
            wrong = problem(kind, body)
            if wrong:
                return web.json_response(
                    {"error": -201, "message": f"Parameters are invalid: {wrong}"}
                )
            user = str(body["recipient"]["user_id"])
            now = time.monotonic()
            limit = self.limited(user, now)
            if limit:
                self.too_many += 1
                self.limited_by[limit] += 1
                return web.json_response({"error": -32, "message": "rate limit exceeded"})
            message_id = self.accept(kind, user, now)
            return web.json_response(
                {
                    "error": 0,
                    "message": "Success",
                    "data": {"message_id": message_id, "user_id": user},
                }
            )

        return send

    async def _stats(self, _: web.Request) -> web.Response:
        counted = stats(self.per_user, self.too_many, self.arrivals)
        extra = {"kinds": dict(self.kinds), "limited_by": dict(self.limited_by)}
        return web.json_response(counted | extra)

    async def _users(self, _: web.Request) -> web.Response:
        return web.json_response(sorted(self.per_user))


def build(per_second: float, per_chat_interval: float) -> web.Application:
    """The fake OA's app."""
    return FakeOA(per_second, per_chat_interval).app()


def main() -> None:
    serve(build, __doc__)


if __name__ == "__main__":
    main()
