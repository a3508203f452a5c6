"""Zalo Official Account channel: signed webhook in, consultation messages out, token rotation.

- `signature`: Zalo's webhook mac and the checks that refuse forged, foreign or replayed events;
- `events`: events as inbound messages (messages, follow / unfollow, a topic follow link);
- `tokens`: the access token and its rotation under a database lease (`ZaloTokens`);
- `channel`: sending within Zalo's rules, platform errors as delivery outcomes (`ZaloChannel`);
- `webhook`: the route (`setup`).
"""

from __future__ import annotations

from bot.services.platform_tokens import TokenStatus
from connectors.zalo.channel import MAX_BUTTONS, MAX_TEXT, ZALO_ERRORS, ZaloChannel
from connectors.zalo.events import follow_welcome, parse_event
from connectors.zalo.signature import signature, verify
from connectors.zalo.tokens import HTTP_TIMEOUT, LEASE, ZALO_TOKENS, ZaloTokens
from connectors.zalo.webhook import setup, webhook

__all__ = [
    "HTTP_TIMEOUT",
    "LEASE",
    "MAX_BUTTONS",
    "MAX_TEXT",
    "ZALO_ERRORS",
    "ZALO_TOKENS",
    "TokenStatus",
    "ZaloChannel",
    "ZaloTokens",
    "follow_welcome",
    "parse_event",
    "setup",
    "signature",
    "verify",
    "webhook",
]
