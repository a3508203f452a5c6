"""Zalo webhook events as the gateway's inbound messages: user messages (text, location,
images and files by reference), follow / unfollow, and a follow through a topic link."""

from __future__ import annotations

from typing import Any

from bot.channels import Attachment, InboundMessage, topic_link_payload

CHANNEL = "zalo"
FOLLOW, UNFOLLOW = "follow", "unfollow"


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
        channel=CHANNEL,
        channel_user_id=sender,
        external_id=msg_id,
        text=text,
        attachments=tuple(attachments),
    )


def follow_change(event: dict[str, Any]) -> tuple[str, bool] | None:
    """(user id, following) for a follow or unfollow event, None for other events. The
    user id is "" when the event names nobody (such an event changes nothing)."""
    name = str(event.get("event_name", ""))
    if name not in {FOLLOW, UNFOLLOW}:
        return None
    user = str((event.get("follower") or {}).get("id") or (event.get("sender") or {}).get("id"))
    return ("" if user == "None" else user), name == FOLLOW


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
                channel=CHANNEL,
                channel_user_id=user_id,
                external_id=f"follow:{user_id}:{event.get('timestamp', '')}",
                text="Quan tâm OA qua liên kết nhận tin",
                payload=payload,
            )
    return None
