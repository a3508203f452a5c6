"""Sending on Zalo: consultation (reply) messages through the OA API, within Zalo's rules.

A reply is only attempted inside the user's window (a message from them in the last
`zalo_reply_window_h` hours, at most `zalo_reply_window_max` replies since); text is cut at
Zalo's limit, buttons go with the last piece; Zalo's error codes become delivery outcomes
through one table, and an expired token is refreshed once and the send retried.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import aiohttp

from bot.channels import (
    Capabilities,
    DeliveryOutcome,
    DeliveryResult,
    OutboundMessage,
    Recipient,
)
from bot.settings import Settings
from connectors.render import split_text
from connectors.zalo.events import CHANNEL
from connectors.zalo.tokens import HTTP_TIMEOUT, ZaloTokens

MAX_TEXT = 2000
MAX_BUTTONS = 5


class Meaning(StrEnum):
    """What a Zalo error code means for a delivery."""

    REFRESH = "refresh"  # the access token: refresh it once and try again
    UNREACHABLE = "unreachable"
    NOT_ALLOWED = "not_allowed"  # Zalo's sending rules forbid it now
    RETRY = "retry"
    FAILED = "failed"


# Zalo OA error codes → (meaning, reason), in one place.
ZALO_ERRORS: dict[int, tuple[Meaning, str]] = {
    -216: (Meaning.REFRESH, "access token is invalid"),
    -124: (Meaning.REFRESH, "access token has expired"),
    -213: (Meaning.UNREACHABLE, "user has not followed the OA or has blocked it"),
    -230: (
        Meaning.NOT_ALLOWED,
        "user has not interacted with the OA recently (reply window closed)",
    ),
    -211: (Meaning.RETRY, "out of quota"),
    -32: (Meaning.RETRY, "rate limit exceeded"),
    -201: (Meaning.FAILED, "invalid parameters"),
    -210: (Meaning.FAILED, "parameter exceeds its limit"),
}

# A token error that persists after one refresh is retried later, with the outbox's backoff.
OUTCOMES: dict[Meaning, DeliveryOutcome] = {
    Meaning.REFRESH: DeliveryOutcome.RETRY,
    Meaning.UNREACHABLE: DeliveryOutcome.UNREACHABLE,
    Meaning.NOT_ALLOWED: DeliveryOutcome.FAILED,
    Meaning.RETRY: DeliveryOutcome.RETRY,
    Meaning.FAILED: DeliveryOutcome.FAILED,
}


class ZaloChannel:
    """Consultation (reply) messages through the OA API, within Zalo's sending rules."""

    name = CHANNEL
    capabilities = Capabilities(
        max_text_length=MAX_TEXT, max_buttons=MAX_BUTTONS, pushes=True, window=True
    )

    def __init__(self, http: aiohttp.ClientSession, tokens: ZaloTokens, settings: Settings) -> None:
        self._http = http
        self._tokens = tokens
        self._settings = settings

    def _allowed(self, recipient: Recipient) -> str | None:
        """Why the platform's rules forbid this reply now, or None when it may be sent."""
        window = timedelta(hours=self._settings.zalo_reply_window_h)
        last = recipient.last_inbound_at
        if last is None or datetime.now(UTC) - last > window:
            hours = self._settings.zalo_reply_window_h
            return f"not_allowed: no message from the user in the last {hours} h"
        if recipient.sent_since_inbound >= self._settings.zalo_reply_window_max:
            return (
                f"not_allowed: {self._settings.zalo_reply_window_max} replies already sent "
                "since the user's last message"
            )
        return None

    async def send(self, recipient: Recipient, message: OutboundMessage) -> DeliveryResult:
        """Send text pieces (buttons with the last one); refresh the token once if Zalo asks."""
        refusal = self._allowed(recipient)
        if refusal:
            return DeliveryResult(DeliveryOutcome.FAILED, refusal)
        pieces = split_text(message.text, MAX_TEXT) or [" "]
        for number, piece in enumerate(pieces, start=1):
            body: dict[str, Any] = {
                "recipient": {"user_id": recipient.channel_user_id},
                "message": {"text": piece},
            }
            if number == len(pieces) and message.buttons:
                body["message"]["attachment"] = {
                    "type": "template",
                    "payload": {
                        "buttons": [
                            {"title": b.title[:100], "type": "oa.query.show", "payload": b.payload}
                            for b in message.buttons[:MAX_BUTTONS]
                        ]
                    },
                }
            result = await self._post(body)
            if result.outcome is not DeliveryOutcome.SENT:
                return result
        return result

    async def _post(self, body: dict[str, Any], retried: bool = False) -> DeliveryResult:
        token = await self._tokens.access_token()
        try:
            async with self._http.post(
                f"{self._settings.zalo_api_base.rstrip('/')}/v3.0/oa/message/cs",
                headers={"access_token": token},
                json=body,
                timeout=aiohttp.ClientTimeout(total=HTTP_TIMEOUT),
            ) as resp:
                if resp.status >= 500:
                    return DeliveryResult(DeliveryOutcome.RETRY, f"HTTP {resp.status}")
                answer = await resp.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, json.JSONDecodeError) as exc:
            return DeliveryResult(DeliveryOutcome.RETRY, f"network: {type(exc).__name__}")
        code = int(answer.get("error", -1)) if isinstance(answer, dict) else -1
        if code == 0:
            data = answer.get("data") or {}
            return DeliveryResult(DeliveryOutcome.SENT, external_id=str(data.get("message_id", "")))
        meaning, reason = ZALO_ERRORS.get(
            code, (Meaning.FAILED, str(answer.get("message", "unknown")))
        )
        reason = f"zalo {code}: {reason}"
        if meaning is Meaning.REFRESH and not retried:
            await self._tokens.refresh_if_due(force=True)
            return await self._post(body, retried=True)
        if meaning is Meaning.NOT_ALLOWED:
            reason = f"not_allowed: {reason}"
        return DeliveryResult(OUTCOMES[meaning], reason)
