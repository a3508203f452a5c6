"""Web chat channel: a page at / and a small JSON API that the page (and tests) drive.

The browser polls for messages, so replies are delivered when stored (pushes=False).
A session id is a random bearer token kept in the browser's localStorage; it names
the web contact, so the same browser sees its history after a reload.
"""

from __future__ import annotations

import json
import re
import secrets
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlalchemy import select

from bot.channels import (
    Capabilities,
    DeliveryOutcome,
    DeliveryResult,
    InboundMessage,
    OutboundMessage,
    Recipient,
)
from bot.errors import InvalidInput, NotFound
from bot.gateway import DB, FLOW, SETTINGS
from bot.store.models import Contact, Conversation, Message

STATIC = Path(__file__).resolve().parent / "web_static"
_CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
_SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
MAX_PAYLOAD = 256


class WebChannel:
    """The web chat as a channel: nothing to push, the page fetches what is stored."""

    name = "web"
    capabilities = Capabilities(max_text_length=4000, max_buttons=10, pushes=False)

    async def send(self, recipient: Recipient, message: OutboundMessage) -> DeliveryResult:
        """Stored is delivered: the page polls /api/web/messages."""
        return DeliveryResult(DeliveryOutcome.SENT)


def message_json(row: Message) -> dict[str, Any]:
    """A message as the page sees it."""
    return {
        "id": row.id,
        "direction": row.direction,
        "text": row.text,
        "buttons": row.buttons or [],
        "created_at": row.created_at.isoformat(),
    }


async def _json_body(request: web.Request) -> dict[str, Any]:
    try:
        raw = await request.read()
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput("Dữ liệu gửi lên không hợp lệ.", code="invalid_json") from exc
    if not isinstance(body, dict):
        raise InvalidInput("Dữ liệu gửi lên không hợp lệ.", code="invalid_json")
    return body


async def _contact(request: web.Request, session_id: Any) -> Contact:
    if not isinstance(session_id, str) or not _SESSION_ID.match(session_id):
        raise NotFound("Phiên trò chuyện không tồn tại.", code="session_not_found")
    async with request.app[DB].session() as session:
        contact = (
            await session.execute(
                select(Contact).where(
                    Contact.channel == "web", Contact.channel_user_id == session_id
                )
            )
        ).scalar_one_or_none()
    if contact is None:
        raise NotFound("Phiên trò chuyện không tồn tại.", code="session_not_found")
    return contact


async def create_session(request: web.Request) -> web.Response:
    """Start a web chat: a new anonymous contact and its conversation."""
    session_id = secrets.token_urlsafe(24)
    async with request.app[DB].session() as session:
        contact = Contact(channel="web", channel_user_id=session_id)
        session.add(contact)
        await session.flush()
        session.add(Conversation(contact_id=contact.id))
    return web.json_response({"session_id": session_id})


async def list_messages(request: web.Request) -> web.Response:
    """History of this browser's conversation after a message id (0 for all)."""
    contact = await _contact(request, request.query.get("session_id"))
    try:
        after = int(request.query.get("after", "0"))
    except ValueError as exc:
        raise InvalidInput("Tham số after phải là số.", code="invalid_after") from exc
    async with request.app[DB].session() as session:
        rows = (
            (
                await session.execute(
                    select(Message)
                    .join(Conversation, Conversation.id == Message.conversation_id)
                    .where(Conversation.contact_id == contact.id, Message.id > after)
                    .order_by(Message.id)
                    .limit(500)
                )
            )
            .scalars()
            .all()
        )
    return web.json_response({"messages": [message_json(row) for row in rows]})


async def post_message(request: web.Request) -> web.Response:
    """Receive one citizen message, run it through the flow, return the replies so far."""
    settings = request.app[SETTINGS]
    body = await _json_body(request)
    contact = await _contact(request, body.get("session_id"))
    client_id = body.get("client_message_id")
    if not isinstance(client_id, str) or not _CLIENT_ID.match(client_id):
        raise InvalidInput("Thiếu mã tin nhắn hợp lệ.", code="invalid_client_message_id")
    text = body.get("text", "")
    payload = body.get("payload")
    if not isinstance(text, str) or (payload is not None and not isinstance(payload, str)):
        raise InvalidInput("Nội dung tin nhắn không hợp lệ.", code="invalid_text")
    text = text.strip()
    if len(text) > settings.web_max_chars:
        raise InvalidInput(
            f"Tin nhắn dài quá {settings.web_max_chars} ký tự. "
            "Anh/chị vui lòng rút gọn hoặc chia thành nhiều tin.",
            code="text_too_long",
        )
    if payload is not None and (not payload or len(payload) > MAX_PAYLOAD):
        raise InvalidInput("Nút bấm không hợp lệ.", code="invalid_payload")
    if not text and not payload:
        raise InvalidInput("Tin nhắn trống.", code="empty_text")

    flow = request.app[FLOW]
    receipt = await flow.receive(
        InboundMessage(
            channel="web",
            channel_user_id=contact.channel_user_id,
            # Scoped by contact so one browser cannot collide with another's ids.
            external_id=f"{contact.id}:{client_id}",
            text=text,
            payload=payload,
        )
    )
    await flow.process_conversation(receipt.conversation_id)
    async with request.app[DB].session() as session:
        inbound = await session.get(Message, receipt.message_id)
        assert inbound is not None
        replies = (
            (
                await session.execute(
                    select(Message)
                    .where(Message.in_reply_to_id == receipt.message_id)
                    .order_by(Message.id)
                )
            )
            .scalars()
            .all()
        )
    return web.json_response(
        {
            "message": message_json(inbound),
            "duplicate": receipt.duplicate,
            "replies": [message_json(row) for row in replies],
        }
    )


async def index(_request: web.Request) -> web.FileResponse:
    """The chat page."""
    return web.FileResponse(STATIC / "index.html")


def setup(app: web.Application) -> None:
    """Mount the page, its assets and its API."""
    app.router.add_get("/", index)
    app.router.add_static("/static/", STATIC)
    app.router.add_post("/api/web/session", create_session)
    app.router.add_get("/api/web/messages", list_messages)
    app.router.add_post("/api/web/messages", post_message)
