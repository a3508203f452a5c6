"""Client for the Rasa engine's REST channel (and its token-protected HTTP API)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aiohttp
import structlog

from bot.channels import Button, OutboundMessage
from bot.errors import EngineUnavailable

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class EngineTurn:
    """What the engine answered to one message."""

    replies: list[OutboundMessage]


def parse_rest_replies(body: Any) -> list[OutboundMessage]:
    """Turn Rasa REST channel output into channel-neutral messages, dropping what we cannot show."""
    if not isinstance(body, list):
        raise EngineUnavailable("engine answered with an unexpected body")
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
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    async def send(self, sender: str, text: str, metadata: dict[str, Any]) -> EngineTurn:
        """One turn; raises EngineUnavailable on any transport failure or timeout."""
        url = f"{self._base_url}/webhooks/rest/webhook"
        body = {"sender": sender, "message": text, "metadata": metadata}
        try:
            async with self._session.post(url, json=body, timeout=self._timeout) as resp:
                if resp.status != 200:
                    raise EngineUnavailable(f"engine answered HTTP {resp.status}")
                data = await resp.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise EngineUnavailable(f"engine unreachable: {type(exc).__name__}") from exc
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
