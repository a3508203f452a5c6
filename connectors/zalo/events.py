"""Zalo webhook events as the gateway's inbound messages: user messages (text, location,
images and files by reference), follow / unfollow, and a follow through a topic link.

Events come signed but are still read field by field: a field of the wrong type or an id
too long to store raises ValueError (the webhook answers 400 `invalid_event`)."""

from __future__ import annotations

from typing import Any

from bot.channels import Attachment, InboundMessage, topic_link_payload

CHANNEL = "zalo"
FOLLOW, UNFOLLOW = "follow", "unfollow"
RECEIVED, SEEN = "user_received_message", "user_seen_message"
MAX_RECEIPT_IDS = 100
MAX_ID = 64  # Zalo's ids are about 20 digits; contacts and messages keep up to 128 characters


def _object(value: Any) -> dict[str, Any]:
    """An optional JSON object: a dict, or {} when absent."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError("not an object")
    return value


def _text(value: Any) -> str:
    """An optional text field: a string, or "" when absent."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValueError("not text")
    return value


def _id(value: Any) -> str:
    """A user or message id: a string (or a number, as some events send) of bounded length;
    "" when absent."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    text = _text(value)
    if len(text) > MAX_ID:
        raise ValueError("id too long")
    return text


def _coordinate(value: Any) -> Any:
    """A coordinate as Zalo sent it: a string ("21.0285", kept as is) or a number."""
    if value is None or (isinstance(value, str | float | int) and not isinstance(value, bool)):
        return value if not isinstance(value, str) else value[:40]
    raise ValueError("not a coordinate")


def event_name(event: dict[str, Any]) -> str:
    """The event's name ("" when absent); anything but a string is malformed."""
    return _text(event.get("event_name"))


def parse_event(event: dict[str, Any]) -> InboundMessage | None:
    """A message event as an InboundMessage; None for events that are not messages."""
    if not event_name(event).startswith("user_send_"):
        return None
    sender = _id(_object(event.get("sender")).get("id"))
    message = _object(event.get("message"))
    msg_id = _id(message.get("msg_id"))
    if not sender or not msg_id:
        raise ValueError("message event without sender or msg_id")
    text = _text(message.get("text"))
    items = message.get("attachments") or []
    if not isinstance(items, list):
        raise ValueError("attachments are not a list")
    attachments: list[Attachment] = []
    for item in items:
        item = _object(item)
        payload = _object(item.get("payload"))
        kind = item.get("type")
        if kind == "location":
            coords = _object(payload.get("coordinates"))
            lat, lon = _coordinate(coords.get("latitude")), _coordinate(coords.get("longitude"))
            attachments.append(Attachment("location", latitude=lat, longitude=lon))
            text = text or f"Vị trí: {lat}, {lon}"
        elif kind in {"image", "file", "sticker", "gif"}:
            url = _text(payload.get("url")) or _text(payload.get("thumbnail"))
            attachments.append(Attachment(kind, url=url or None))
            text = text or ("[Ảnh]" if kind == "image" else "")
    return InboundMessage(
        channel=CHANNEL,
        channel_user_id=sender,
        external_id=msg_id,
        text=text,
        attachments=tuple(attachments),
    )


def follow_change(event: dict[str, Any]) -> tuple[str, bool] | None:
    """(user id, following) for a follow or unfollow event, None for other events. The
    user id is "" when the event names nobody (such an event changes nothing)."""
    name = event_name(event)
    if name not in {FOLLOW, UNFOLLOW}:
        return None
    user = _id(_object(event.get("follower")).get("id")) or _id(
        _object(event.get("sender")).get("id")
    )
    return user, name == FOLLOW


def follow_welcome(event: dict[str, Any], user_id: str) -> InboundMessage | None:
    """A follow that came through an OA follow link or QR code made for a topic.

    Our convention: the link carries `sub_<topic>` as its tracking value, which Zalo
    passes back in the follow event (`source`, or `tracking_id` where present). Like
    Telegram's `/start sub_<topic>`, it opens the subscription with the topic chosen.
    A plain follow sends nothing: the citizen has not asked anything yet."""
    if not user_id:
        return None
    timestamp = _id(event.get("timestamp"))
    for key in ("tracking_id", "source"):
        value = event.get(key)
        payload = topic_link_payload(value) if isinstance(value, str) else None
        if payload is not None:
            return InboundMessage(
                channel=CHANNEL,
                channel_user_id=user_id,
                external_id=f"follow:{user_id}:{timestamp}",
                text="Quan tâm OA qua liên kết nhận tin",
                payload=payload,
            )
    return None


def receipt(event: dict[str, Any]) -> tuple[bool, list[str]] | None:
    """(seen, the OA's message ids) for a receipt event, None for other events. Received
    names one message (`message.msg_id`); seen may name several (`message.msg_ids`)."""
    name = event_name(event)
    if name not in {RECEIVED, SEEN}:
        return None
    message = _object(event.get("message"))
    listed = message.get("msg_ids") or []
    if not isinstance(listed, list) or len(listed) > MAX_RECEIPT_IDS:
        raise ValueError("msg_ids is not a list of at most 100 ids")
    ids = [_id(value) for value in [message.get("msg_id"), *listed]]
    return name == SEEN, sorted({i for i in ids if i})
