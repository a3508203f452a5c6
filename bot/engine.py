"""Client for the Rasa engine's REST channel (and its token-protected HTTP API).

Two kinds of failure: no answer (refused connection, dropped connection, timeout) means the
engine is down and the message waits (`EngineUnavailable`); an answer that is an error
means the engine could not handle this message (`EngineRefused`), which the flow counts.
One setting, `engine_timeout`, is both Rasa's `--response-timeout` (bot/enginectl.py) and,
plus `TIMEOUT_MARGIN`, how long the gateway waits: Rasa gives up on a slow turn first, so
the gateway never abandons a turn the engine is still working on and sends it again.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import aiohttp
import structlog

from bot.channels import Button, OutboundMessage
from bot.errors import EngineRefused, EngineUnavailable

log = structlog.get_logger(__name__)

TIMEOUT_MARGIN = 5.0  # seconds the gateway waits beyond the engine's own response timeout


def response_timeout(engine_timeout: float) -> int:
    """Rasa's `--response-timeout` for the `engine_timeout` setting (whole seconds)."""
    return max(1, math.ceil(engine_timeout))


def gateway_wait(engine_timeout: float) -> float:
    """How long the gateway waits for one turn: longer than the engine's own timeout (Sanic
    checks it every few seconds, hence the margin)."""
    return response_timeout(engine_timeout) + TIMEOUT_MARGIN


@dataclass(frozen=True, slots=True)
class EngineTurn:
    """What the engine answered to one message."""

    replies: list[OutboundMessage]


def parse_rest_replies(body: Any) -> list[OutboundMessage]:
    """Turn Rasa REST channel output into channel-neutral messages, dropping what we cannot show."""
    if not isinstance(body, list):
        raise EngineRefused("engine answered with an unexpected body")
    replies: list[OutboundMessage] = []
    for item in body:
        if not isinstance(item, dict):
            continue
        text = item.get("text") or ""
        buttons = tuple(
            Button(title=str(b.get("title", "")), payload=str(b.get("payload", "")))
            for b in item.get("buttons") or []
            if isinstance(b, dict) and b.get("title")
        )
        if text or buttons:
            replies.append(OutboundMessage(text=str(text), buttons=buttons))
    return replies


class EngineClient:
    """Sends one citizen message to Rasa and returns its replies, within a timeout."""

    def __init__(
        self, session: aiohttp.ClientSession, base_url: str, token: str, timeout: float
    ) -> None:
        self._session = session
        self._base_url = base_url.rstrip("/")
        self._token = token
        # `timeout` is the engine's own response timeout (the engine_timeout setting).
        self._timeout = aiohttp.ClientTimeout(total=gateway_wait(timeout))

    async def send(self, sender: str, text: str, metadata: dict[str, Any]) -> EngineTurn:
        """One turn; EngineUnavailable when the engine does not answer (down, unreachable,
        too slow), EngineRefused when it answers this message with an error."""
        url = f"{self._base_url}/webhooks/rest/webhook"
        body = {"sender": sender, "message": text, "metadata": metadata}
        try:
            async with self._session.post(url, json=body, timeout=self._timeout) as resp:
                status = resp.status
                raw = await resp.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise EngineUnavailable(f"engine unreachable: {type(exc).__name__}") from exc
        if status != 200:
            raise EngineRefused(f"engine answered HTTP {status}")
        try:
            data = json.loads(raw)
        except ValueError as exc:  # also bytes that are not UTF-8
            raise EngineRefused("engine answered with a body that is not JSON") from exc
        return EngineTurn(replies=parse_rest_replies(data))

    async def is_ready(self) -> bool:
        """True when the engine's API answers and has a model loaded."""
        try:
            async with self._session.get(
                f"{self._base_url}/status",
                params={"token": self._token},
                timeout=aiohttp.ClientTimeout(total=2),
            ) as resp:
                if resp.status != 200:
                    return False
                data = await resp.json(content_type=None)
                return bool(data.get("model_file"))
        except (aiohttp.ClientError, TimeoutError, ValueError):
            return False

    async def understood(self, sender: str) -> dict[int, str]:
        """What the engine understood of each citizen message of a conversation (the
        gateway's message id → intent), from its tracker; empty when it cannot say."""
        try:
            async with self._session.get(
                f"{self._base_url}/conversations/{sender}/tracker",
                params={"token": self._token, "include_events": "ALL"},
                timeout=aiohttp.ClientTimeout(total=5),
            ) as resp:
                if resp.status != 200:
                    return {}
                data = await resp.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError):
            return {}
        return intents_by_message(data)


def intents_by_message(tracker: Any) -> dict[int, str]:
    """Our message id → intent name, from a tracker's user events (the gateway sends its
    message id in each message's metadata)."""
    found: dict[int, str] = {}
    events = tracker.get("events") if isinstance(tracker, dict) else None
    for event in events if isinstance(events, list) else []:
        if not isinstance(event, dict) or event.get("event") != "user":
            continue
        ref = (event.get("metadata") or {}).get("message_id")
        intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        if isinstance(ref, int) and isinstance(intent, str):
            found[ref] = intent
    return found
