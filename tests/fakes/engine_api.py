"""A local stand-in for the engine's REST channel on 127.0.0.1, for the one fault the real
engine cannot be made to show on demand: an HTTP error for one particular message.

POST /webhooks/rest/webhook {"sender", "message", "metadata"} → 500 for `fail_on`, else
[{"recipient_id": sender, "text": "Đã nhận: <message>"}]; GET /status → a loaded model.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aiohttp import web


@dataclass
class FakeEngine:
    """State of the fake engine: what it was sent, and which text it refuses."""

    fail_on: str
    received: list[str] = field(default_factory=list)

    def app(self) -> web.Application:
        """The two routes the gateway uses."""
        app = web.Application()
        app.router.add_post("/webhooks/rest/webhook", self._message)
        app.router.add_get("/status", self._status)
        return app

    async def _message(self, request: web.Request) -> web.Response:
        body = await request.json()
        text = str(body.get("message", ""))
        self.received.append(text)
        if text == self.fail_on:
            return web.Response(status=500, text="Internal Server Error")
        return web.json_response([{"recipient_id": body.get("sender"), "text": f"Đã nhận: {text}"}])

    async def _status(self, _request: web.Request) -> web.Response:
        return web.json_response({"model_file": "fake.tar.gz"})
