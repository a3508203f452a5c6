"""POST /webhooks/zalo: verify, then store and schedule (or record a follow / unfollow, or a
received / seen receipt on the delivery it concerns).

Nothing is stored before the signature, app id and timestamp are checked and the event is
read completely (a malformed one is 400 `invalid_event`); the platform is answered at once
and the conversation is processed in the background.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from bot.errors import Forbidden, InvalidInput
from bot.gateway import DB, FLOW, SETTINGS, json_response
from bot.services.receipts import record_receipts
from bot.services.subscriptions import set_reachable_by_user
from connectors.zalo.events import CHANNEL, follow_change, follow_welcome, parse_event, receipt
from connectors.zalo.signature import HEADER, verify

PATH = "/webhooks/zalo"


async def webhook(request: web.Request) -> web.Response:
    """POST /webhooks/zalo."""
    body = await request.read()
    event = verify(request.app[SETTINGS], body, request.headers.get(HEADER, ""), _now_ms())
    if event is None:
        raise Forbidden("signature, app or timestamp not accepted")
    try:  # read completely before anything is stored
        follow = follow_change(event)
        receipts = receipt(event)
        if follow is not None:
            inbound = follow_welcome(event, follow[0]) if follow[1] else None
        else:
            inbound = parse_event(event) if receipts is None else None
    except ValueError as exc:
        raise InvalidInput(f"malformed event: {exc}", code="invalid_event") from exc
    if receipts is not None:  # received / seen: the delivery that sent it says so
        seen, ids = receipts
        await record_receipts(request.app[DB], CHANNEL, ids, seen, _event_time(event))
    if follow is not None and follow[0]:
        # A follow makes the user reachable; an unfollow pauses what they receive.
        await set_reachable_by_user(request.app[DB], CHANNEL, *follow)
    if inbound is not None:
        flow = request.app[FLOW]
        stored = await flow.receive(inbound)
        if not stored.duplicate:
            flow.schedule(stored.conversation_id)
    return json_response({"ok": True})


def _now_ms() -> int:
    return int(time.time() * 1000)


def _event_time(event: dict[str, Any]) -> datetime:
    """When Zalo says the event happened (its signed timestamp, in milliseconds)."""
    return datetime.fromtimestamp(int(event["timestamp"]) / 1000, tz=UTC)


def setup(app: web.Application) -> None:
    """Mount the webhook route."""
    app.router.add_post(PATH, webhook)
