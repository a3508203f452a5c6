"""A local fake of the Zalo OA API and OAuth server on 127.0.0.1, with the documented shapes.

Messages: POST /v3.0/oa/message/cs (consultation: text, optional `quote_message_id` and a
button template), /v3.0/oa/message/transaction and /v3.0/oa/message/promotion (a template
attachment: `template_type`, `elements` of banner / header / text / table, `buttons`;
transaction also `language`), each with header access_token → {"error": 0, "message":
"Success", "data": {"message_id", "user_id"}} or a negative error code: -216 invalid token,
-213 user not following, -201 invalid parameters (a template outside the documented
limits), -211 out of quota (transaction and promotion beyond `proactive_quota` this run).
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
    # Every accepted send in order: (kind, body); `sent` keeps the consultation bodies only.
    log: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    message_ids: dict[str, str] = field(default_factory=dict)  # message id -> kind
    proactive_quota: int | None = None  # transaction + promotion sends before -211
    proactive_used: int = 0
    refused: list[tuple[str, int]] = field(default_factory=list)  # (kind, error) of refusals

    def issue(self) -> tuple[str, str]:
        """A fresh valid pair (access, refresh)."""
        access = "acc_" + secrets.token_urlsafe(12)
        self.refresh_token = "ref_" + secrets.token_urlsafe(12)
        self.access_tokens = {access}
        return access, self.refresh_token

    def texts_to(self, user_id: str) -> list[str]:
        """Texts sent to one user."""
        return [m["message"]["text"] for m in self.sent if m["recipient"]["user_id"] == user_id]

    def to(self, user_id: str) -> list[tuple[str, dict[str, Any]]]:
        """(kind, body) of every message sent to one user, in order."""
        return [(k, b) for k, b in self.log if b["recipient"]["user_id"] == user_id]

    def kinds(self) -> dict[str, int]:
        """How many messages of each kind were accepted."""
        counts: dict[str, int] = {}
        for kind, _ in self.log:
            counts[kind] = counts.get(kind, 0) + 1
        return counts

    def app(self) -> web.Application:
        """Routes of both hosts (openapi.zalo.me and oauth.zaloapp.com) on one server."""
        app = web.Application()
        app.router.add_post("/v3.0/oa/message/cs", self._send)
        app.router.add_post("/v3.0/oa/message/transaction", self._template("transaction"))
        app.router.add_post("/v3.0/oa/message/promotion", self._template("promotion"))
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
            return self._refuse("cs", -201, "Parameters are invalid")
        self.sent.append(body)
        return self._accept("cs", body, user)

    def _accept(self, kind: str, body: dict[str, Any], user: str) -> web.Response:
        message_id = secrets.token_hex(10)
        self.log.append((kind, body))
        self.message_ids[message_id] = kind
        return web.json_response(
            {"error": 0, "message": "Success", "data": {"message_id": message_id, "user_id": user}}
        )

    def _refuse(self, kind: str, code: int, message: str) -> web.Response:
        self.refused.append((kind, code))
        return web.json_response({"error": code, "message": message})

    def _template(self, kind: str) -> Any:
        async def handler(request: web.Request) -> web.Response:
            if request.headers.get("access_token", "") not in self.access_tokens:
                return web.json_response({"error": -216, "message": "Access token is invalid"})
            body = await request.json()
            user = str(body.get("recipient", {}).get("user_id", ""))
            if user in self.blocked_users:
                return self._refuse(kind, -213, "User has not followed the OA")
            problem = template_problem(kind, body.get("message", {}))
            if problem:
                return self._refuse(kind, -201, f"Parameters are invalid: {problem}")
            if self.proactive_quota is not None and self.proactive_used >= self.proactive_quota:
                return self._refuse(kind, -211, "Out of quota")
            self.proactive_used += 1
            return self._accept(kind, body, user)

        return handler

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


ELEMENTS = {"banner", "header", "text", "table"}
BUTTON_TYPES = {"oa.open.url", "oa.query.show", "oa.query.hide", "oa.open.sms", "oa.open.phone"}


def template_problem(kind: str, message: dict[str, Any]) -> str:
    """What breaks the documented template shape and limits ("" when nothing does)."""
    attachment = message.get("attachment") or {}
    payload = attachment.get("payload") or {}
    template_type = str(payload.get("template_type", ""))
    if attachment.get("type") != "template":
        return "attachment.type must be template"
    if kind == "promotion" and template_type != "promotion":
        return "template_type must be promotion"
    if kind == "transaction":
        if not template_type.startswith("transaction_"):
            return "template_type must be transaction_*"
        if payload.get("language") not in {"VI", "EN"}:
            return "language must be VI or EN"
    elements = payload.get("elements") or []
    if not elements or any(e.get("type") not in ELEMENTS for e in elements):
        return "elements"
    for element in elements:
        kind_of, content = element.get("type"), element.get("content")
        if kind_of == "header" and not (isinstance(content, str) and 0 < len(content) <= 100):
            return "header content"
        if kind_of == "text" and not (isinstance(content, str) and 0 < len(content) <= 1000):
            return "text content"
        if kind_of == "table":
            if not isinstance(content, list) or not 0 < len(content) <= 5:
                return "table rows"
            for row in content:
                if not (0 < len(row.get("key", "")) <= 25 and 0 < len(row.get("value", "")) <= 100):
                    return "table row"
    if sum(1 for e in elements if e.get("type") == "header") != 1:
        return "one header"
    buttons = payload.get("buttons") or []
    if len(buttons) > 4 or any(
        b.get("type") not in BUTTON_TYPES or not 0 < len(b.get("title", "")) <= 35 for b in buttons
    ):
        return "buttons"
    return ""


def now_ms() -> str:
    """A Zalo timestamp for now (milliseconds, as a string)."""
    return str(int(time.time() * 1000))
