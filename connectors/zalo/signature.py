"""Zalo's webhook signature: who sent an event, and when.

Zalo's documented scheme: header `X-ZEvent-Signature: mac=<hex>` where hex is SHA-256 (a
plain hash) of app_id + raw body + timestamp + OA secret key. A missing or wrong mac,
another app's event, or a timestamp far from now (a replay) is refused and nothing is stored.
"""

from __future__ import annotations

import hashlib
from typing import Any

from bot.errors import InvalidInput
from bot.gateway import parse_json, same_secret
from bot.settings import Settings

HEADER = "X-ZEvent-Signature"


def signature(app_id: str, body: bytes, timestamp: str, secret: str) -> str:
    """The mac Zalo puts in X-ZEvent-Signature."""
    return hashlib.sha256(app_id.encode() + body + timestamp.encode() + secret.encode()).hexdigest()


def verify(settings: Settings, body: bytes, header: str, now_ms: int) -> dict[str, Any] | None:
    """The event if its signature, app and time are right; None otherwise."""
    secret = settings.zalo_oa_secret_key.get_secret_value()
    if not secret or not header.startswith("mac="):
        return None
    try:  # the mac covers fields of the body: it is read (safely) before it is trusted
        event = parse_json(body)
        app_id, timestamp = str(event["app_id"]), str(event["timestamp"])
        age_ms = abs(now_ms - int(timestamp))
    except (InvalidInput, ValueError, KeyError, TypeError):
        return None
    expected = signature(app_id, body, timestamp, secret)
    # Constant time (a forger learns nothing from how long a wrong mac takes to refuse), and
    # no error on header bytes that are not text.
    if not same_secret(header[4:].strip().lower(), expected):
        return None
    if app_id != settings.zalo_app_id or age_ms > settings.zalo_max_event_age_s * 1000:
        return None
    return event if isinstance(event, dict) else None
