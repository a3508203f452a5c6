"""Sending on Zalo through the OA API, as the kind of message Zalo's rules allow now.

Which kind (a reply quoting the user's last message, a transaction or a promotion template,
or not now) is decided by `connectors.zalo.kinds.route`; a reply's text is cut at Zalo's
limit, buttons go with the last piece; Zalo's error codes become delivery outcomes through
one table, and an expired token is refreshed once and the send retried.
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any

import aiohttp

from bot.channels import (
    Capabilities,
    DeferReason,
    DeliveryOutcome,
    DeliveryResult,
    OutboundMessage,
    Recipient,
    Route,
    deferred,
)
from bot.settings import Settings
from connectors.render import json_bytes, split_text
from connectors.zalo import kinds
from connectors.zalo.events import CHANNEL
from connectors.zalo.tokens import HTTP_TIMEOUT, ZaloTokens

MAX_TEXT = 2000
MAX_BUTTONS = 5


class Meaning(StrEnum):
    """What a Zalo error code means for a delivery."""

    REFRESH = "refresh"  # the access token: refresh it once and try again
    UNREACHABLE = "unreachable"
    WINDOW = "window"  # Zalo says the reply window is closed: wait for the user
    QUOTA = "quota"  # the OA's quota is spent: wait for the next month
    RETRY = "retry"
    FAILED = "failed"


# Zalo OA error codes → (meaning, reason), in one place.
ZALO_ERRORS: dict[int, tuple[Meaning, str]] = {
    -216: (Meaning.REFRESH, "access token is invalid"),
    -124: (Meaning.REFRESH, "access token has expired"),
    -213: (Meaning.UNREACHABLE, "user has not followed the OA or has blocked it"),
    -230: (Meaning.WINDOW, "user has not interacted with the OA recently"),
    -211: (Meaning.QUOTA, "out of quota"),
    -32: (Meaning.RETRY, "rate limit exceeded"),
    -201: (Meaning.FAILED, "invalid parameters"),
    -210: (Meaning.FAILED, "parameter exceeds its limit"),
}

# A token error that persists after one refresh is retried later, with the outbox's backoff.
OUTCOMES: dict[Meaning, DeliveryOutcome] = {
    Meaning.REFRESH: DeliveryOutcome.RETRY,
    Meaning.UNREACHABLE: DeliveryOutcome.UNREACHABLE,
    Meaning.RETRY: DeliveryOutcome.RETRY,
    Meaning.FAILED: DeliveryOutcome.FAILED,
}
DEFERRALS = {Meaning.WINDOW: DeferReason.WINDOW, Meaning.QUOTA: DeferReason.QUOTA}
PATHS = {
    kinds.CS: "/v3.0/oa/message/cs",
    kinds.TRANSACTION: "/v3.0/oa/message/transaction",
    kinds.PROMOTION: "/v3.0/oa/message/promotion",
}


SEND_TIMEOUT = aiohttp.ClientTimeout(total=HTTP_TIMEOUT)
TEMPLATE_CACHE = 256


def _body(user_id: str, message: bytes) -> bytes:
    """A send's body around an already encoded `message` object."""
    return b'{"recipient":{"user_id":' + json_bytes(user_id) + b'},"message":' + message + b"}"


class ZaloChannel:
    """Replies, transaction and promotion messages through the OA API, within Zalo's rules."""

    name = CHANNEL
    capabilities = Capabilities(
        max_text_length=MAX_TEXT, max_buttons=MAX_BUTTONS, pushes=True, window=True, receipts=True
    )

    def __init__(self, http: aiohttp.ClientSession, tokens: ZaloTokens, settings: Settings) -> None:
        self._http = http
        self._tokens = tokens
        self._settings = settings
        self._base = settings.zalo_api_base.rstrip("/")
        # A broadcast's template is the same for every follower: laid out and encoded once.
        self._templates: dict[tuple[str, OutboundMessage], bytes] = {}

    def route(self, recipient: Recipient, message: OutboundMessage) -> Route:
        """A reply inside the window, else the kind the message's category may use (with
        the quota it draws on), else deferred with the reason."""
        return kinds.route(recipient, message, self._settings)

    async def send(
        self, recipient: Recipient, message: OutboundMessage, route: Route | None = None
    ) -> DeliveryResult:
        """Send along `route` (the dispatcher passes the one it took quota for); without
        one, only what needs no quota goes (a reply in the window), the rest is deferred."""
        route = route or self.route(recipient, message)
        if route.defer is not None:
            return route.defer
        if route.kind != kinds.CS:
            if route.quota is not None and not route.taken:
                return deferred(DeferReason.QUOTA, "no quota was taken for this send")
            return await self._post(
                route.kind, _body(recipient.channel_user_id, self._template(route.kind, message))
            )
        pieces = split_text(message.text, MAX_TEXT) or [" "]
        quoted = kinds.quotable(recipient.last_inbound_ref)
        for number, piece in enumerate(pieces, start=1):
            body: dict[str, Any] = {
                "recipient": {"user_id": recipient.channel_user_id},
                "message": {"text": piece},
            }
            if quoted:  # a reply to the user's message, not a proactive one
                body["message"]["quote_message_id"] = quoted
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
            result = await self._post(kinds.CS, json_bytes(body), already_sent=number > 1)
            if result.outcome is not DeliveryOutcome.SENT:
                return result
        return result

    def _template(self, kind: str, message: OutboundMessage) -> bytes:
        key = (kind, message)
        encoded = self._templates.get(key)
        if encoded is None:
            if len(self._templates) >= TEMPLATE_CACHE:
                self._templates.clear()
            encoded = json_bytes(kinds.template(kind, message, self._settings))
            self._templates[key] = encoded
        return encoded

    async def _post(
        self, kind: str, body: bytes, retried: bool = False, already_sent: bool = False
    ) -> DeliveryResult:
        token = await self._tokens.access_token()
        try:
            async with self._http.post(
                f"{self._base}{PATHS[kind]}",
                headers={"access_token": token, "Content-Type": "application/json"},
                data=body,
                timeout=SEND_TIMEOUT,
            ) as resp:
                if resp.status >= 500:
                    return DeliveryResult(DeliveryOutcome.RETRY, f"HTTP {resp.status}")
                answer = json.loads(await resp.read())
        except aiohttp.ClientConnectorError as exc:  # never reached Zalo: safe to send again
            return DeliveryResult(
                DeliveryOutcome.RETRY, f"network: {type(exc).__name__}", ambiguous=already_sent
            )
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:  # it may have arrived
            return DeliveryResult(
                DeliveryOutcome.RETRY, f"network: {type(exc).__name__}", ambiguous=True
            )
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
            return await self._post(kind, body, retried=True, already_sent=already_sent)
        if meaning in DEFERRALS:
            return deferred(DEFERRALS[meaning], f"{kind}: {reason}")
        return DeliveryResult(OUTCOMES[meaning], reason)
