"""Which kind of Zalo message a delivery goes as, and how the template kinds are laid out.

Zalo's rules (OA API v3; what we relied on is written down in docs/zalo.md):
- inside the user's reply window (a message from them in the last 48 hours, at most 8 of
  ours since) a consultation message (`/message/cs`) is free; quoting the user's last
  message id makes it count as a reply;
- outside it, an update about something the user started (their case) may go as a
  transaction message (`/message/transaction`), news they subscribed to as a promotion
  message (`/message/promotion`): both only if enabled for the OA, both drawing on its
  monthly quota; a conversational reply cannot go at all until the user writes again.

`route` is the policy (pure: no I/O); the quota itself is taken by the dispatcher in the
database before sending, case updates allowed to the last unit, broadcasts leaving a reserve.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.channels import (
    Button,
    Card,
    Category,
    DeferReason,
    OutboundMessage,
    QuotaClaim,
    Recipient,
    Route,
    deferred,
)
from bot.settings import Settings

CS, TRANSACTION, PROMOTION = "cs", "transaction", "promotion"
QUOTA_POOL = "zalo:proactive"
# Template limits, as Zalo's message reference states them (the fake OA enforces the same).
MAX_HEADER = 100
MAX_TEXT_ELEMENT = 1000
MAX_ROWS = 5
MAX_KEY, MAX_VALUE = 25, 100
MAX_TEMPLATE_BUTTONS = 4
MAX_BUTTON_TITLE = 35


def enabled_kinds(settings: Settings) -> frozenset[str]:
    """The kinds beyond the reply window the agency's OA may send."""
    return _kinds(settings.zalo_message_kinds)


@functools.lru_cache(maxsize=8)
def _kinds(setting: str) -> frozenset[str]:
    names = {k.strip().lower() for k in setting.split(",")}
    return frozenset(names & {TRANSACTION, PROMOTION})


def window_refusal(recipient: Recipient, settings: Settings, now: datetime) -> str | None:
    """Why a reply is not allowed now (the window is closed), or None when it is."""
    last = recipient.last_inbound_at
    if last is None or now - last > timedelta(hours=settings.zalo_reply_window_h):
        return f"no message from the user in the last {settings.zalo_reply_window_h} h"
    if recipient.sent_since_inbound >= settings.zalo_reply_window_max:
        return f"{settings.zalo_reply_window_max} replies already sent since the user's message"
    return None


def route(
    recipient: Recipient, message: OutboundMessage, settings: Settings, now: datetime | None = None
) -> Route:
    """The kind this message goes as now, the quota it draws on, or why it waits."""
    closed = window_refusal(recipient, settings, now or datetime.now(UTC))
    if closed is None:
        return Route(CS)
    if message.category is Category.CONVERSATION:
        return Route(defer=deferred(DeferReason.WINDOW, f"reply window closed ({closed})"))
    kind = TRANSACTION if message.category is Category.TRANSACTION else PROMOTION
    if kind not in enabled_kinds(settings):
        return Route(defer=deferred(DeferReason.KIND_DISABLED, f"{kind} messages are not enabled"))
    keep = 0 if kind == TRANSACTION else settings.zalo_quota_reserve
    return Route(kind, quota=QuotaClaim(QUOTA_POOL, settings.zalo_quota_month, keep))


def quotable(ref: str | None) -> str | None:
    """The user's last message id, when it is one a reply can quote (not the id made up
    for a follow through a topic link)."""
    return ref if ref and not ref.startswith("follow:") else None


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _card_of(message: OutboundMessage) -> Card:
    """The message's card, or one made from its text (first line as the title)."""
    if message.card is not None:
        return message.card
    head, _, rest = message.text.strip().partition("\n")
    paragraphs = tuple(p.strip() for p in rest.split("\n\n") if p.strip())
    return Card(head.strip(), paragraphs, buttons=message.buttons)


def _buttons(buttons: tuple[Button, ...]) -> list[dict[str, Any]]:
    """Query buttons: a tap sends the payload as the user's message, which opens the chat
    (and the reply window) with the bot."""
    return [
        {"title": _cut(b.title, MAX_BUTTON_TITLE), "type": "oa.query.show", "payload": b.payload}
        for b in buttons[:MAX_TEMPLATE_BUTTONS]
    ]


def template(kind: str, message: OutboundMessage, settings: Settings) -> dict[str, Any]:
    """The `message` object of a transaction or promotion send: banner, header, text, a
    key/value table, a closing line and buttons."""
    card = _card_of(message)
    elements: list[dict[str, Any]] = []
    if settings.zalo_banner_url:
        elements.append({"type": "banner", "image_url": settings.zalo_banner_url})
    elements.append({"type": "header", "content": _cut(card.title, MAX_HEADER), "align": "left"})
    if card.lines:
        body = "<br>".join(line.replace("\n", "<br>") for line in card.lines)
        elements.append({"type": "text", "content": _cut(body, MAX_TEXT_ELEMENT), "align": "left"})
    if card.rows:
        rows = [
            {"key": _cut(key, MAX_KEY), "value": _cut(value, MAX_VALUE)}
            for key, value in card.rows[:MAX_ROWS]
        ]
        elements.append({"type": "table", "content": rows})
    if card.footer:
        elements.append(
            {"type": "text", "content": _cut(card.footer, MAX_TEXT_ELEMENT), "align": "left"}
        )
    payload: dict[str, Any] = {
        "template_type": settings.zalo_transaction_template if kind == TRANSACTION else PROMOTION,
        "elements": elements,
        "buttons": _buttons(card.buttons),
    }
    if kind == TRANSACTION:
        payload["language"] = "VI"
    return {"attachment": {"type": "template", "payload": payload}}
