"""A local fake of the Zalo OA API and OAuth server on 127.0.0.1, with the documented shapes.

Consultation messages: POST /v3.0/oa/message/cs with header access_token →
{"error": 0, "message": "Success", "data": {...}} or a negative error code.
Token refresh: POST /v4/oa/access_token (header secret_key: the *app's* secret key, not the OA
secret key that signs webhooks; form app_id, refresh_token, grant_type=refresh_token) → a new
access token and a new refresh token; the old refresh token stops working. `fail_refresh`
answers like Zalo's OAuth errors: HTTP 200 with error_name.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class FakeZalo:
    """State of the fake OA."""

    app_id: str
    app_secret_key: str
    access_tokens: set[str] = field(default_factory=set)
    refresh_token: str = ""
    sent: list[dict[str, Any]] = field(default_factory=list)
    refresh_calls: int = 0
    refresh_secrets: list[str] = field(default_factory=list)  # secret_key header of each call
    refresh_delay: float = 0.0
    fail_refresh: bool = False
    blocked_users: set[str] = field(default_factory=set)
    base_url: str = ""

    def issue(self) -> tuple[str, str]:
        """A fresh valid pair (access, refresh)."""
        access = "acc_" + secrets.token_urlsafe(12)
        self.refresh_token = "ref_" + secrets.token_urlsafe(12)
        self.access_tokens = {access}
        return access, self.refresh_token

    def texts_to(self, user_id: str) -> list[str]:
        """Texts sent to one user."""
        return [m["message"]["text"] for m in self.sent if m["recipient"]["user_id"] == user_id]

    def app(self) -> web.Application:
        """Routes of both hosts (openapi.zalo.me and oauth.zaloapp.com) on one server."""
        app = web.Application()
        app.router.add_post("/v3.0/oa/message/cs", self._send)
        app.router.add_post("/v4/oa/access_token", self._refresh)
        return app

    async def _send(self, request: web.Request) -> web.Response:
        token = request.headers.get("access_token", "")
        if token not in self.access_tokens:
            return web.json_response({"error": -216, "message": "Access token is invalid"})
        body = await request.json()
        user = str(body.get("recipient", {}).get("user_id", ""))
        text = str(body.get("message", {}).get("text", ""))
        if user in self.blocked_users:
            return web.json_response({"error": -213, "message": "User has not followed the OA"})
        if not text or len(text) > 2000:
            return web.json_response({"error": -201, "message": "Parameters are invalid"})
        self.sent.append(body)
        return web.json_response(
            {
                "error": 0,
                "message": "Success",
                "data": {"message_id": secrets.token_hex(8), "user_id": user},
            }
        )

    async def _refresh(self, request: web.Request) -> web.Response:
        self.refresh_calls += 1
        self.refresh_secrets.append(request.headers.get("secret_key", ""))
        if self.refresh_delay:
            await asyncio.sleep(self.refresh_delay)
        form = await request.post()
        if (
            request.headers.get("secret_key") != self.app_secret_key
            or form.get("app_id") != self.app_id
        ):
            return web.json_response(
                {"error_name": "Invalid app", "error_description": "bad secret"}
            )
        if self.fail_refresh or form.get("refresh_token") != self.refresh_token:
            return web.json_response(
                {
                    "error_name": "Invalid refresh token",
                    "error_reason": "refresh token is invalid or expired",
                    "error_description": "Refresh token is invalid",
                }
            )
        access, refresh = self.issue()
        return web.json_response(
            {"access_token": access, "refresh_token": refresh, "expires_in": "90000"}
        )


def now_ms() -> str:
    """A Zalo timestamp for now (milliseconds, as a string)."""
    return str(int(time.time() * 1000))
