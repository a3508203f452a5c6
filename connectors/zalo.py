"""Zalo Official Account channel: signed webhook in, consultation messages out, token rotation.

Signature (Zalo's documented scheme): header `X-ZEvent-Signature: mac=<hex>` where hex is
SHA-256 (a plain hash) of app_id + raw body + timestamp + OA secret key. A missing or wrong
mac, another app's event, or a timestamp far from now (a replay) is refused with 403 and
nothing is stored.

Tokens: the access token lives about 25 hours and the refresh token is single-use. One
process at a time refreshes (a lease row in the database, held longer than the HTTP
timeout), well before expiry; the new pair is stored in one UPDATE; a body without a new
access token (Zalo answers some OAuth errors with HTTP 200) is a failure that keeps the
working pair and is shown on /healthz and in the log.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import aiohttp
import structlog
from aiohttp import web
from sqlalchemy import or_, select, update

from bot.channels import (
    Attachment,
    Capabilities,
    DeliveryOutcome,
    DeliveryResult,
    InboundMessage,
    OutboundMessage,
    Recipient,
    topic_link_payload,
)
from bot.gateway import DB, FLOW, SETTINGS
from bot.services.subscriptions import set_reachable
from bot.settings import Settings
from bot.store.db import Database
from bot.store.models import Contact, ZaloToken, utcnow
from bot.web.errors import error_response
from connectors.render import split_text

log = structlog.get_logger(__name__)

MAX_TEXT = 2000
MAX_BUTTONS = 5
HTTP_TIMEOUT = 20.0
LEASE = timedelta(seconds=90)  # longer than HTTP_TIMEOUT: no second refresher can start

# Zalo OA error codes → what they mean for a delivery, in one place.
# (outcome, reason); "token" means: refresh the access token once and try again.
ZALO_ERRORS: dict[int, tuple[str, str]] = {
    -216: ("token", "access token is invalid"),
    -124: ("token", "access token has expired"),
    -213: ("unreachable", "user has not followed the OA or has blocked it"),
    -230: ("not_allowed", "user has not interacted with the OA recently (reply window closed)"),
    -211: ("retry", "out of quota"),
    -32: ("retry", "rate limit exceeded"),
    -201: ("failed", "invalid parameters"),
    -210: ("failed", "parameter exceeds its limit"),
}


def signature(app_id: str, body: bytes, timestamp: str, secret: str) -> str:
    """The mac Zalo puts in X-ZEvent-Signature."""
    return hashlib.sha256(app_id.encode() + body + timestamp.encode() + secret.encode()).hexdigest()


def verify(settings: Settings, body: bytes, header: str, now_ms: int) -> dict[str, Any] | None:
    """The event if its signature, app and time are right; None otherwise."""
    secret = settings.zalo_secret_key.get_secret_value()
    if not secret or not header.startswith("mac="):
        return None
    try:
        event = json.loads(body.decode("utf-8"))
        app_id, timestamp = str(event["app_id"]), str(event["timestamp"])
        age_ms = abs(now_ms - int(timestamp))
    except (UnicodeDecodeError, ValueError, KeyError, TypeError):
        return None
    expected = signature(app_id, body, timestamp, secret)
    if not hmac.compare_digest(header[4:].strip().lower().encode(), expected.encode()):
        return None
    if app_id != settings.zalo_app_id or age_ms > settings.zalo_max_event_age_s * 1000:
        return None
    return event if isinstance(event, dict) else None


def parse_event(event: dict[str, Any]) -> InboundMessage | None:
    """A message event as an InboundMessage; None for events that are not messages."""
    name = str(event.get("event_name", ""))
    if not name.startswith("user_send_"):
        return None
    sender = str((event.get("sender") or {}).get("id", ""))
    message = event.get("message") or {}
    msg_id = str(message.get("msg_id", ""))
    if not sender or not msg_id:
        raise ValueError("message event without sender or msg_id")
    text = str(message.get("text") or "")
    attachments: list[Attachment] = []
    for item in message.get("attachments") or []:
        payload = item.get("payload") or {}
        kind = item.get("type")
        if kind == "location":
            coords = payload.get("coordinates") or {}
            lat, lon = coords.get("latitude"), coords.get("longitude")
            attachments.append(Attachment("location", latitude=lat, longitude=lon))
            text = text or f"Vị trí: {lat}, {lon}"
        elif kind in {"image", "file", "sticker", "gif"}:
            attachments.append(Attachment(kind, url=payload.get("url") or payload.get("thumbnail")))
            text = text or ("[Ảnh]" if kind == "image" else "")
    return InboundMessage(
        channel="zalo",
        channel_user_id=sender,
        external_id=msg_id,
        text=text,
        attachments=tuple(attachments),
    )


@dataclass
class TokenStatus:
    """What /healthz shows about the Zalo token."""

    expires_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None


class ZaloTokens:
    """The current access token, and its rotation under a database lease."""

    def __init__(self, db: Database, http: aiohttp.ClientSession, settings: Settings) -> None:
        self._db = db
        self._http = http
        self._settings = settings
        self._holder = f"{os.getpid()}-{id(self)}"
        self._cached: tuple[str, float] | None = None

    async def ensure_row(self) -> None:
        """Seed the single token row from the settings the first time."""
        async with self._db.session() as session:
            if await session.get(ZaloToken, 1) is None:
                session.add(
                    ZaloToken(
                        id=1,
                        access_token=self._settings.zalo_access_token.get_secret_value(),
                        refresh_token=self._settings.zalo_refresh_token.get_secret_value(),
                        # Unknown age: treat as due, so the first round refreshes it.
                        expires_at=utcnow(),
                    )
                )

    async def access_token(self) -> str:
        """The stored access token (cached for a few seconds)."""
        if self._cached and time.monotonic() - self._cached[1] < 5:
            return self._cached[0]
        async with self._db.session() as session:
            row = await session.get(ZaloToken, 1)
            token = row.access_token if row else ""
        self._cached = (token, time.monotonic())
        return token

    async def status(self) -> TokenStatus:
        """Expiry and the last refresh error, for the health endpoint."""
        async with self._db.session() as session:
            row = await session.get(ZaloToken, 1)
            if row is None:
                return TokenStatus(None, "no token configured", None)
            return TokenStatus(row.expires_at, row.last_error, row.last_error_at)

    async def refresh_if_due(self, force: bool = False) -> bool:
        """Refresh when the token expires within the margin (or when forced); True if refreshed."""
        now = utcnow()
        margin = timedelta(seconds=self._settings.zalo_refresh_margin_s)
        async with self._db.session() as session:
            # Take the lease only if nobody holds it; one UPDATE, so two processes cannot both win.
            due = or_(ZaloToken.expires_at.is_(None), ZaloToken.expires_at < now + margin)
            result = await session.execute(
                update(ZaloToken)
                .where(
                    ZaloToken.id == 1,
                    or_(ZaloToken.lease_until.is_(None), ZaloToken.lease_until < now),
                    *(() if force else (due,)),
                )
                .values(lease_until=now + LEASE, lease_holder=self._holder)
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                return False
            refresh_token = (
                await session.execute(select(ZaloToken.refresh_token).where(ZaloToken.id == 1))
            ).scalar_one()
        try:
            body = await self._call_oauth(refresh_token)
            access, new_refresh = body.get("access_token"), body.get("refresh_token")
            if not access or not new_refresh:
                raise ValueError(
                    str(
                        body.get("error_name") or body.get("error_description") or body.get("error")
                    )
                    or "no access_token in the answer"
                )
            expires_in = int(body.get("expires_in") or 90000)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            await self._release(error=f"refresh failed: {exc}"[:500])
            log.error("zalo_token_refresh_failed", reason=str(exc)[:200])
            return False
        done = utcnow()
        async with self._db.session() as session:
            await session.execute(
                update(ZaloToken)
                .where(ZaloToken.id == 1, ZaloToken.lease_holder == self._holder)
                .values(
                    access_token=access,
                    refresh_token=new_refresh,
                    expires_at=done + timedelta(seconds=expires_in),
                    refreshed_at=done,
                    last_error=None,
                    last_error_at=None,
                    lease_until=None,
                    lease_holder=None,
                )
            )
        self._cached = None
        log.info("zalo_token_refreshed", expires_in=expires_in)
        return True

    async def _call_oauth(self, refresh_token: str) -> dict[str, Any]:
        async with self._http.post(
            f"{self._settings.zalo_oauth_base.rstrip('/')}/v4/oa/access_token",
            headers={"secret_key": self._settings.zalo_secret_key.get_secret_value()},
            data={
                "app_id": self._settings.zalo_app_id,
                "refresh_token": refresh_token,
                "grant_type": "refresh_token",
            },
            timeout=aiohttp.ClientTimeout(total=HTTP_TIMEOUT),
        ) as resp:
            try:
                body = await resp.json(content_type=None)
            except (json.JSONDecodeError, aiohttp.ContentTypeError) as exc:
                raise ValueError(f"HTTP {resp.status}, body is not JSON") from exc
            if not isinstance(body, dict):
                raise ValueError(f"HTTP {resp.status}, unexpected body")
            return body

    async def _release(self, error: str) -> None:
        async with self._db.session() as session:
            await session.execute(
                update(ZaloToken)
                .where(ZaloToken.id == 1, ZaloToken.lease_holder == self._holder)
                .values(
                    lease_until=None, lease_holder=None, last_error=error, last_error_at=utcnow()
                )
            )

    async def run(self, interval: float = 60.0) -> None:
        """Background loop: check every minute, refresh well before expiry."""
        while True:
            try:
                await self.refresh_if_due()
            except Exception:
                log.exception("zalo_token_round_failed")
            await asyncio.sleep(interval)


ZALO_TOKENS = web.AppKey("zalo_tokens", ZaloTokens)


class ZaloChannel:
    """Consultation (reply) messages through the OA API, within Zalo's sending rules."""

    name = "zalo"
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
        if recipient.last_inbound_at is None or utcnow() - recipient.last_inbound_at > window:
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
        kind, reason = ZALO_ERRORS.get(code, ("failed", str(answer.get("message", "unknown"))))
        reason = f"zalo {code}: {reason}"
        if kind == "token" and not retried:
            await self._tokens.refresh_if_due(force=True)
            return await self._post(body, retried=True)
        outcome = {
            "unreachable": DeliveryOutcome.UNREACHABLE,
            "retry": DeliveryOutcome.RETRY,
            "token": DeliveryOutcome.RETRY,
        }.get(kind, DeliveryOutcome.FAILED)
        if kind == "not_allowed":
            reason = f"not_allowed: {reason}"
        return DeliveryResult(outcome, reason)


async def webhook(request: web.Request) -> web.Response:
    """POST /webhooks/zalo."""
    settings = request.app[SETTINGS]
    body = await request.read()
    event = verify(
        settings, body, request.headers.get("X-ZEvent-Signature", ""), int(time.time() * 1000)
    )
    if event is None:
        return error_response(403, "forbidden", "signature, app or timestamp not accepted")
    name = str(event.get("event_name", ""))
    if name in {"follow", "unfollow"}:
        user = str((event.get("follower") or {}).get("id") or (event.get("sender") or {}).get("id"))
        await _follow(request.app[DB], user, following=name == "follow")
        inbound = follow_welcome(event, user) if name == "follow" else None
    else:
        try:
            inbound = parse_event(event)
        except ValueError:
            return error_response(400, "invalid_event", "message event without sender or msg_id")
    if inbound is not None:
        flow = request.app[FLOW]
        receipt = await flow.receive(inbound)
        if not receipt.duplicate:
            flow.schedule(receipt.conversation_id)
    return web.json_response({"ok": True})


def follow_welcome(event: dict[str, Any], user_id: str) -> InboundMessage | None:
    """A follow that came through an OA follow link or QR code made for a topic.

    Our convention: the link carries `sub_<topic>` as its tracking value, which Zalo
    passes back in the follow event (`source`, or `tracking_id` where present). Like
    Telegram's `/start sub_<topic>`, it opens the subscription with the topic chosen.
    A plain follow sends nothing: the citizen has not asked anything yet."""
    if not user_id or user_id == "None":
        return None
    for key in ("tracking_id", "source"):
        payload = topic_link_payload(str(event.get(key) or ""))
        if payload is not None:
            return InboundMessage(
                channel="zalo",
                channel_user_id=user_id,
                external_id=f"follow:{user_id}:{event.get('timestamp', '')}",
                text="Quan tâm OA qua liên kết nhận tin",
                payload=payload,
            )
    return None


async def _follow(db: Database, user_id: str, following: bool) -> None:
    """Follow makes a contact reachable; unfollow marks it unreachable (pauses sends)."""
    if not user_id or user_id == "None":
        return
    async with db.session() as session:
        contact = (
            await session.execute(
                select(Contact).where(Contact.channel == "zalo", Contact.channel_user_id == user_id)
            )
        ).scalar_one_or_none()
        if contact is None:
            if not following:
                return
            contact = Contact(channel="zalo", channel_user_id=user_id)
            session.add(contact)
            await session.flush()
            return
        await set_reachable(session, contact, following)


def setup(app: web.Application) -> None:
    """Mount the webhook route."""
    app.router.add_post("/webhooks/zalo", webhook)
