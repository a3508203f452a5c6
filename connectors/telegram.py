"""Telegram channel (python-telegram-bot 22): webhook + long polling in, Bot API out.

Inbound: the webhook checks X-Telegram-Bot-Api-Secret-Token in constant time (403 and nothing
stored otherwise), parses the Update, stores it (update_id dedupes retries) and answers 200 at
once; the conversation is processed in the background. Handled: message text, /start with
a deep-link argument, callback_query (answered so the button stops spinning). Edited messages
are ignored on purpose: the original was already answered, and re-running an edited form
answer would surprise the citizen more than help.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import warnings
from datetime import timedelta
from typing import Any

import aiohttp
import structlog
from aiohttp import web
from telegram import Bot, InlineKeyboardMarkup, Update, User
from telegram.error import RetryAfter, TelegramError

from bot.channels import (
    FREE,
    Attachment,
    Capabilities,
    DeliveryOutcome,
    DeliveryResult,
    InboundMessage,
    OutboundMessage,
    Recipient,
    Route,
    button_ref,
    topic_link_payload,
)
from bot.errors import Forbidden, InvalidInput
from bot.gateway import FLOW, SETTINGS, json_response, parse_json, same_secret
from bot.services.loops import LoopState, supervise
from connectors.render import json_bytes, split_text

log = structlog.get_logger(__name__)

PATH = "/webhooks/telegram"

MAX_TEXT = 4096
MAX_CALLBACK_BYTES = 64
TELEGRAM_BOT = web.AppKey("telegram_bot", Bot)


def _retry_after(exc: RetryAfter) -> float:
    # PTB 22 warns that retry_after becomes a timedelta in its next major version; accept both.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value: int | timedelta = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class TelegramChannel:
    """Sends through the Bot API; errors become delivery outcomes, never exceptions."""

    name = "telegram"
    capabilities = Capabilities(max_text_length=MAX_TEXT, max_buttons=20, pushes=True)

    def __init__(self, bot: Bot, http: aiohttp.ClientSession) -> None:
        self.bot = bot
        self._http = http
        self._url = f"{bot.base_url}/sendMessage"

    def _keyboard(self, message: OutboundMessage) -> dict[str, Any] | None:
        if not message.buttons:
            return None
        rows = []
        for index, button in enumerate(message.buttons):
            data = button.payload
            if len(data.encode()) > MAX_CALLBACK_BYTES and message.ref is not None:
                data = button_ref(message.ref, index)  # resolved by the gateway on the way back
            rows.append([{"text": button.title[:64], "callback_data": data[:64]}])
        return {"inline_keyboard": rows}

    def route(self, recipient: Recipient, message: OutboundMessage) -> Route:
        """One kind of message, no quota."""
        return FREE

    async def send(
        self, recipient: Recipient, message: OutboundMessage, route: Route | None = None
    ) -> DeliveryResult:
        """Text cut at 4,096 characters on sentence ends; buttons under the last piece.

        sendMessage is called straight over aiohttp (one JSON request, no object model):
        this is the broadcast hot path, and PTB's Bot.send_message costs several times the
        CPU of the request itself. PTB still parses every update and does the rest."""
        pieces = split_text(message.text, MAX_TEXT) or [" "]
        external_id = None
        for number, piece in enumerate(pieces, start=1):
            body: dict[str, Any] = {"chat_id": int(recipient.channel_user_id), "text": piece}
            if number == len(pieces) and (markup := self._keyboard(message)) is not None:
                body["reply_markup"] = markup
            result = await self._post(body, already_sent=number > 1)
            if result.outcome is not DeliveryOutcome.SENT:
                return result
            external_id = result.external_id
        return DeliveryResult(DeliveryOutcome.SENT, external_id=external_id)

    async def _post(self, body: dict[str, Any], already_sent: bool) -> DeliveryResult:
        try:
            async with self._http.post(
                self._url, data=json_bytes(body), headers=JSON_HEADERS, timeout=SEND_TIMEOUT
            ) as response:
                status = response.status
                data = json.loads(await response.read())
        except aiohttp.ClientConnectorError as exc:  # never reached Telegram: safe to resend
            return DeliveryResult(
                DeliveryOutcome.RETRY, f"network: {type(exc).__name__}", ambiguous=already_sent
            )
        except (TimeoutError, aiohttp.ClientError, ValueError) as exc:  # it may have arrived
            return DeliveryResult(
                DeliveryOutcome.RETRY, f"network: {type(exc).__name__}", ambiguous=True
            )
        return outcome(status, data, already_sent)


SEND_TIMEOUT = aiohttp.ClientTimeout(sock_connect=5, sock_read=15)
JSON_HEADERS = {"Content-Type": "application/json"}


def outcome(status: int, data: Any, already_sent: bool = False) -> DeliveryResult:
    """A Bot API answer as a delivery outcome (the error table of the Bot API docs)."""
    if not isinstance(data, dict):
        return DeliveryResult(DeliveryOutcome.RETRY, f"HTTP {status}", ambiguous=True)
    if data.get("ok") is True:
        result = data.get("result")
        message_id = result.get("message_id") if isinstance(result, dict) else None
        return DeliveryResult(
            DeliveryOutcome.SENT, external_id=None if message_id is None else str(message_id)
        )
    code = int(data.get("error_code") or status)
    reason = str(data.get("description") or f"HTTP {status}")[:300]
    parameters = data.get("parameters")
    parameters = parameters if isinstance(parameters, dict) else {}
    if code == 429:  # flood control: wait as told
        retry_after = float(parameters.get("retry_after") or 1)
        return DeliveryResult(
            DeliveryOutcome.RETRY, f"flood control: {reason}", retry_after, ambiguous=already_sent
        )
    if code == 403:  # blocked by the user, or the user is deactivated
        return DeliveryResult(DeliveryOutcome.UNREACHABLE, reason)
    if code >= 500:  # Telegram's own trouble: it may or may not have been sent
        return DeliveryResult(DeliveryOutcome.RETRY, reason, ambiguous=True)
    return DeliveryResult(DeliveryOutcome.FAILED, reason)  # 400 bad request, 401, 404


INT64 = 2**63
MAX_NAME = 200  # what contacts.display_name holds
_LOCALE = re.compile(r"[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,4})?")
# setWebhook's secret_token: 1-256 characters of A-Z a-z 0-9 _ - (Bot API).
_SECRET_FORM = re.compile(r"[A-Za-z0-9_-]{1,256}")


def _id(value: object) -> int:
    """A Telegram id: an integer that fits 64 bits (a bool is not one)."""
    if isinstance(value, bool) or not isinstance(value, int) or not -INT64 < value < INT64:
        raise ValueError("not a Telegram id")
    return value


def _text(value: object) -> str:
    """An optional text field: a string, or absent."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValueError("not text")
    return value


def _number(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("not a number")
    return value


def _sender(user: User | None) -> tuple[str, str]:
    """(display name cut to what is stored, locale or "vi" when odd or absent)."""
    if user is None:
        return "", "vi"
    code = user.language_code
    locale = code if isinstance(code, str) and _LOCALE.fullmatch(code) else "vi"
    return _text(user.first_name)[:MAX_NAME], locale


def parse_update(data: Any, bot: Bot) -> tuple[InboundMessage | None, str | None]:
    """(message for the flow or None to ignore, callback_query id to answer). Raises
    ValueError for anything that is not a well-formed Update (wrong types, ids that fit no
    64-bit integer, button data over Telegram's 64 bytes): PTB builds its objects without
    checking types, so the fields used here are checked one by one."""
    if not isinstance(data, dict):
        raise ValueError("not an object")
    external_id = f"u{_id(data.get('update_id'))}"
    try:
        update = Update.de_json(data, bot)
    except Exception as exc:  # PTB's constructors fail in any way on a malformed field
        raise ValueError("not an Update") from exc
    if update is None:
        return None, None
    if update.callback_query is not None:
        query = update.callback_query
        pressed = _text(query.data)
        if len(pressed.encode()) > MAX_CALLBACK_BYTES or not isinstance(query.id, str):
            raise ValueError("not a callback query")
        chat = getattr(query.message, "chat", None)
        user_id = _id(chat.id if chat is not None else getattr(query.from_user, "id", None))
        title = ""
        markup = getattr(query.message, "reply_markup", None)
        if isinstance(markup, InlineKeyboardMarkup):
            for row in markup.inline_keyboard:
                for button in row:
                    if button.callback_data == query.data:
                        title = _text(button.text)
        name, locale = _sender(query.from_user)
        inbound = InboundMessage(
            channel="telegram",
            channel_user_id=str(user_id),
            external_id=external_id,
            text=title or pressed,
            payload=pressed or None,
            display_name=name,
            locale=locale,
        )
        return inbound, query.id
    message = update.message
    if message is None:  # edited_message, channel posts, etc.: ignored (see module doc)
        return None, None
    chat_id = _id(getattr(message.chat, "id", None))
    text = _text(message.text) or _text(message.caption)
    payload = None
    if text.startswith("/start"):
        argument = text[len("/start") :].strip()
        if argument.startswith("sub_"):  # a link for a topic; a malformed one just subscribes
            payload = topic_link_payload(argument) or "/subscribe"
        else:
            payload = "/greet"
    attachments: list[Attachment] = []
    if message.location is not None:
        latitude = _number(message.location.latitude)
        longitude = _number(message.location.longitude)
        attachments.append(Attachment("location", latitude=latitude, longitude=longitude))
        text = text or f"Vị trí: {latitude}, {longitude}"
    if message.photo:
        attachments.append(Attachment("image", file_id=_text(message.photo[-1].file_id)))
        text = text or "[Ảnh]"
    name, locale = _sender(message.from_user)
    return (
        InboundMessage(
            channel="telegram",
            channel_user_id=str(chat_id),
            external_id=external_id,
            text=text,
            payload=payload,
            display_name=name,
            locale=locale,
            attachments=tuple(attachments),
        ),
        None,
    )


async def store_update(
    app: web.Application, inbound: InboundMessage | None, callback_id: str | None
) -> bool:
    """Answer the button press, store and schedule a parsed update; True when it was new."""
    bot = app[TELEGRAM_BOT]
    if callback_id is not None:
        with contextlib.suppress(TelegramError):
            await bot.answer_callback_query(callback_id)
    if inbound is None:
        return False
    flow = app[FLOW]
    receipt = await flow.receive(inbound)
    if not receipt.duplicate:
        flow.schedule(receipt.conversation_id)
    return not receipt.duplicate


async def handle_update(app: web.Application, data: dict[str, Any]) -> bool:
    """One polled update: stored and scheduled (True when new); one that is not well-formed
    is logged and skipped, since polling again would only bring it back."""
    try:
        inbound, callback_id = parse_update(data, app[TELEGRAM_BOT])
    except ValueError as exc:
        log.warning("telegram_update_rejected", reason=str(exc))
        return False
    return await store_update(app, inbound, callback_id)


async def webhook(request: web.Request) -> web.Response:
    """POST /webhooks/telegram: 403 without the right secret token, 400 `invalid_secret_token`
    for a header Telegram could not have sent, 400 `invalid_json` / `invalid_update` for a
    body that is not an Update; nothing is stored for any of them."""
    expected = request.app[SETTINGS].telegram_webhook_secret.get_secret_value()
    given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
    if not expected or not given:
        raise Forbidden("secret token mismatch")
    if not _SECRET_FORM.fullmatch(given):
        raise InvalidInput("malformed secret token", code="invalid_secret_token")
    if not same_secret(given, expected):
        raise Forbidden("secret token mismatch")
    data = parse_json(await request.read())
    try:
        inbound, callback_id = parse_update(data, request.app[TELEGRAM_BOT])
    except ValueError as exc:
        log.warning("telegram_update_rejected", reason=str(exc))
        raise InvalidInput("body is not a Telegram Update", code="invalid_update") from exc
    await store_update(request.app, inbound, callback_id)
    return json_response({"ok": True})


# Each poll already waits up to `wait_s` on Telegram's side, so the next one starts at once;
# after a failure supervise() waits 0.5 s, then 1 s, 2 s … up to a minute.
POLL_RETRY = 0.5
POLL_MAX_BACKOFF = 60.0


async def poll(app: web.Application, wait_s: int = 25, state: LoopState | None = None) -> None:
    """Long polling for machines without a public URL: the same path as the webhook."""
    bot = app[TELEGRAM_BOT]
    offset: int | None = None
    with contextlib.suppress(TelegramError):
        await bot.delete_webhook()

    async def one_poll() -> None:
        nonlocal offset
        try:
            updates = await bot.get_updates(offset=offset, timeout=wait_s)
        except RetryAfter as exc:  # flood control is an instruction, not a failure
            await asyncio.sleep(_retry_after(exc))
            return
        for update in updates:
            # Confirmed to Telegram (by the next offset) only once stored: an update whose
            # storing failed (a locked database) comes again with the next poll.
            await handle_update(app, update.to_dict())
            offset = update.update_id + 1

    await supervise(
        state or LoopState("telegram_polling"),
        one_poll,
        0.0,
        max_backoff=POLL_MAX_BACKOFF,
        retry_base=POLL_RETRY,
    )


def make_bot(token: str, api_base: str) -> Bot:
    """A Bot pointed at the given API server."""
    return Bot(token=token, base_url=f"{api_base.rstrip('/')}/bot")


def setup(app: web.Application) -> None:
    """Mount the webhook route."""
    app.router.add_post(PATH, webhook)
