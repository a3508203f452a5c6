"""A local stand-in for the engine's REST channel on 127.0.0.1, for the faults the real
engine cannot be made to show on demand: an HTTP error for one particular message, and the
200 with no replies Rasa gives when a turn fails or times out inside it.

POST /webhooks/rest/webhook {"sender", "message", "metadata"} → 500 for `fail_on`, `[]` for
`swallow` (nothing recorded), else [{"recipient_id": sender, "text": "Đã nhận: <message>"}]
and a user event in the sender's tracker; GET /status → a loaded model;
GET /conversations/<sender>/tracker → {"events": [...]} as Rasa lays them out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class FakeEngine:
    """State of the fake engine: what it was sent, and which text it refuses."""

    fail_on: str
    received: list[str] = field(default_factory=list)
    swallow: str | None = None
    events: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def app(self) -> web.Application:
        """The two routes the gateway uses."""
        app = web.Application()
        app.router.add_post("/webhooks/rest/webhook", self._message)
        app.router.add_get("/status", self._status)
        app.router.add_get("/conversations/{sender}/tracker", self._tracker)
        return app

    async def _message(self, request: web.Request) -> web.Response:
        body = await request.json()
        text = str(body.get("message", ""))
        self.received.append(text)
        if text == self.fail_on:
            return web.Response(status=500, text="Internal Server Error")
        if text == self.swallow:
            return web.json_response([])
        self.events.setdefault(str(body.get("sender")), []).append(
            {
                "event": "user",
                "text": text,
                "metadata": body.get("metadata") or {},
                "parse_data": {"intent": {"name": "chao_hoi"}},
            }
        )
        return web.json_response([{"recipient_id": body.get("sender"), "text": f"Đã nhận: {text}"}])

    async def _tracker(self, request: web.Request) -> web.Response:
        sender = request.match_info["sender"]
        return web.json_response({"sender_id": sender, "events": self.events.get(sender, [])})

    async def _status(self, _request: web.Request) -> web.Response:
        return web.json_response({"model_file": "fake.tar.gz"})
