"""Web chat channel: a page at / and a small JSON API that the page (and tests) drive.

The browser polls for messages, so replies are delivered when stored (pushes=False).
A session id is a random bearer token kept in the browser's localStorage; it names
the web contact, so the same browser sees its history after a reload.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any

import yaml
from aiohttp import web
from pydantic import BaseModel, BeforeValidator, Field

from bot.channels import (
    FREE,
    Button,
    Capabilities,
    DeliveryOutcome,
    DeliveryResult,
    InboundMessage,
    OutboundMessage,
    Recipient,
    Route,
)
from bot.errors import InvalidInput, NotFound
from bot.gateway import DB, FLOW, SETTINGS, json_response, read_json
from bot.services import webchat
from bot.services.webchat import ChatMessage, WebContact
from bot.settings import PROJECT_ROOT
from connectors import web_limits

STATIC = Path(__file__).resolve().parent / "web_static"
_CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
_SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
MAX_PAYLOAD = 256
MESSAGES_PATH = "/api/web/messages"  # GET: the history; POST: a message
# The engine's own answer to "xin chào": a first visit is greeted with the same words and menu.
ENGINE_DOMAIN = PROJECT_ROOT / "nlu" / "domain.yml"
GREETING_RESPONSE = "utter_greet"
GREETING: web.AppKey[OutboundMessage] = web.AppKey("web_greeting", OutboundMessage)


def load_greeting(domain: Path = ENGINE_DOMAIN) -> OutboundMessage:
    """The engine's greeting (first variant), read from its domain so the two never differ."""
    with domain.open(encoding="utf-8") as file:
        response = yaml.safe_load(file)["responses"][GREETING_RESPONSE][0]
    buttons = tuple(Button(b["title"], b["payload"]) for b in response.get("buttons", []))
    return OutboundMessage(text=response["text"], buttons=buttons)


class WebChannel:
    """The web chat as a channel: nothing to push, the page fetches what is stored."""

    name = webchat.CHANNEL
    capabilities = Capabilities(max_text_length=4000, max_buttons=10, pushes=False)

    def route(self, recipient: Recipient, message: OutboundMessage) -> Route:
        """One kind of message, no quota."""
        return FREE

    async def send(
        self, recipient: Recipient, message: OutboundMessage, route: Route | None = None
    ) -> DeliveryResult:
        """Stored is delivered: the page polls /api/web/messages."""
        return DeliveryResult(DeliveryOutcome.SENT)


def message_json(message: ChatMessage) -> dict[str, Any]:
    """A message as the page sees it."""
    return {
        "id": message.id,
        "direction": message.direction,
        "text": message.text,
        "buttons": message.buttons,
        "created_at": message.created_at.isoformat(),
    }


def _thousands(number: int) -> str:
    return f"{number:,}".replace(",", ".")  # Vietnamese digit grouping: 5.000


def too_long_text(length: int, limit: int) -> str:
    """Why a text is refused and how to send it anyway (the page says the same, chat.js)."""
    return (
        f"Tin nhắn dài {_thousands(length)} ký tự, quá giới hạn {_thousands(limit)} ký tự của "
        "một tin nhắn. Anh/chị vui lòng chia thành nhiều tin nhắn ngắn hơn; nếu là nội dung "
        "phản ánh hoặc yêu cầu giải trình, anh/chị gõ “gửi phản ánh” hoặc “yêu cầu giải trình” "
        "để gửi thành hồ sơ."
    )


def _session_id(value: object) -> str:
    """A well-formed session id; anything else names no session (404, as an unknown one)."""
    if not isinstance(value, str) or not _SESSION_ID.match(value):
        raise NotFound("Phiên trò chuyện không tồn tại.", code="session_not_found")
    return value


def _client_id(value: object) -> str:
    if not isinstance(value, str) or not _CLIENT_ID.match(value):
        raise InvalidInput("Thiếu mã tin nhắn hợp lệ.", code="invalid_client_message_id")
    return value


def _text(value: object) -> str:
    """Text must be a string; its length rules need the settings (checked by the handler)."""
    if not isinstance(value, str):
        raise InvalidInput("Nội dung tin nhắn không hợp lệ.", code="invalid_text")
    return value


def _payload(value: object) -> str | None:
    """A button payload is a string, or absent for typed text."""
    return None if value is None else _text(value)


class PostedMessage(BaseModel):
    """The body of POST /api/web/messages. Validators raise the page's error codes; fields
    are checked in this order (a missing field counts as malformed)."""

    session_id: Annotated[str, BeforeValidator(_session_id)] = Field(
        default=None, validate_default=True
    )
    client_message_id: Annotated[str, BeforeValidator(_client_id)] = Field(
        default=None, validate_default=True
    )
    text: Annotated[str, BeforeValidator(_text)] = Field(default="", validate_default=True)
    payload: Annotated[str | None, BeforeValidator(_payload)] = None


async def _contact(request: web.Request, session_id: object) -> WebContact:
    contact = await webchat.contact_for(request.app[DB], _session_id(session_id))
    if contact is None:
        raise NotFound("Phiên trò chuyện không tồn tại.", code="session_not_found")
    return contact


async def create_session(request: web.Request) -> web.Response:
    """Start a web chat: a new anonymous contact and its conversation."""
    await web_limits.limit_new_session(request)
    session_id = await webchat.start_session(request.app[DB], request.app[GREETING])
    return json_response(
        {"session_id": session_id, "max_chars": request.app[SETTINGS].web_max_chars}
    )


async def list_messages(request: web.Request) -> web.Response:
    """History of this browser's conversation after a message id (0 for all)."""
    await web_limits.limit_poll(request, _session_id(request.query.get("session_id")))
    contact = await _contact(request, request.query.get("session_id"))
    try:
        after = int(request.query.get("after", "0"))
    except ValueError as exc:
        raise InvalidInput("Tham số after phải là số.", code="invalid_after") from exc
    if not 0 <= after < 2**63:  # a message id: never negative, never past a 64-bit integer
        raise InvalidInput("Tham số after phải là số.", code="invalid_after")
    messages = await webchat.history(request.app[DB], contact.id, after)
    return json_response(
        {
            "messages": [message_json(m) for m in messages],
            "max_chars": request.app[SETTINGS].web_max_chars,  # the page's counter
        }
    )


async def post_message(request: web.Request) -> web.Response:
    """Receive one citizen message, run it through the flow, return the replies so far."""
    settings = request.app[SETTINGS]
    body = await read_json(request, PostedMessage)
    await web_limits.limit_message(request, body.session_id)  # refused: nothing stored
    contact = await _contact(request, body.session_id)
    text, payload = body.text.strip(), body.payload
    if len(text) > settings.web_max_chars:
        raise InvalidInput(too_long_text(len(text), settings.web_max_chars), code="text_too_long")
    if payload is not None and (not payload or len(payload) > MAX_PAYLOAD):
        raise InvalidInput("Nút bấm không hợp lệ.", code="invalid_payload")
    if not text and not payload:
        raise InvalidInput("Tin nhắn trống.", code="empty_text")

    flow = request.app[FLOW]
    receipt = await flow.receive(
        InboundMessage(
            channel=webchat.CHANNEL,
            channel_user_id=contact.session_id,
            # Scoped by contact so one browser cannot collide with another's ids.
            external_id=f"{contact.id}:{body.client_message_id}",
            text=text,
            payload=payload,
        )
    )
    await flow.process_conversation(receipt.conversation_id)
    inbound, replies = await webchat.with_replies(request.app[DB], receipt.message_id)
    return json_response(
        {
            "message": message_json(inbound),
            "duplicate": receipt.duplicate,
            "replies": [message_json(m) for m in replies],
        }
    )


async def index(_request: web.Request) -> web.FileResponse:
    """The chat page."""
    return web.FileResponse(STATIC / "index.html")


def setup(app: web.Application) -> None:
    """Mount the page, its assets and its API (limited per client and session)."""
    app[web_limits.WEB_THROTTLE] = web_limits.memory_throttle(app[SETTINGS])
    app[GREETING] = load_greeting()
    app.router.add_get("/", index)
    app.router.add_static("/static/", STATIC)
    app.router.add_post("/api/web/session", create_session)
    app.router.add_get(MESSAGES_PATH, list_messages)
    app.router.add_post(MESSAGES_PATH, post_message)
