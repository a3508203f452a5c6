"""The channel port: the one interface every connector implements, defined in the core.

Services and the engine client depend on these types; connectors (connectors/) implement
`Channel` and import only the core's public services and types, never the other way round.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class Button:
    """A reply choice: what the citizen sees and what the engine receives."""

    title: str
    payload: str


@dataclass(frozen=True, slots=True)
class Attachment:
    """A reference to what came with a message (never the content): an image or file by
    URL or platform file id, or a location by its coordinates."""

    kind: str  # location | image | file | sticker | gif
    url: str | None = None
    file_id: str | None = None
    latitude: float | None = None
    longitude: float | None = None

    def as_json(self) -> dict[str, Any]:
        """The stored form (messages.attachments, case attachments): only the fields set."""
        body: dict[str, Any] = {"type": self.kind}
        for name in ("url", "file_id", "latitude", "longitude"):
            value = getattr(self, name)
            if value is not None:
                body[name] = value
        return body


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """A channel-neutral message from a citizen, as a connector parsed it."""

    channel: str
    channel_user_id: str
    external_id: str
    text: str = ""
    payload: str | None = None
    display_name: str = ""
    locale: str = "vi"
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    """A message to a citizen, before the channel renders it.

    `ref` is the stored message's id when there is one: a channel whose buttons cannot carry
    a long payload sends button_ref(ref, index) instead, and the gateway resolves it.
    """

    text: str
    buttons: tuple[Button, ...] = ()
    ref: int | None = None


@dataclass(frozen=True, slots=True)
class Recipient:
    """Where a channel delivers, plus what its sending rules need to know."""

    channel: str
    channel_user_id: str
    last_inbound_at: datetime | None = None  # the citizen's last message to us
    sent_since_inbound: int = 0  # our messages since then


BUTTON_REF = re.compile(r"^#b(\d+)\.(\d+)$")
TOPIC_LINK = re.compile(r"^sub_([A-Za-z_][A-Za-z0-9_]{0,39})$")


def topic_link_payload(value: str) -> str | None:
    """The subscribe payload for a link made for a topic (`sub_<topic>`: a Telegram
    `/start` argument, a Zalo follow link's tracking value), or None for anything else."""
    match = TOPIC_LINK.match(value)
    return f'/subscribe{{"topic":"{match.group(1)}"}}' if match else None


def button_ref(message_id: int, index: int) -> str:
    """A short stand-in for the payload of button `index` of stored message `message_id`."""
    return f"#b{message_id}.{index}"


class DeliveryOutcome(StrEnum):
    """What became of one send, in the same words for every channel."""

    SENT = "sent"
    RETRY = "retry"  # transient: try again later (network, rate limit)
    FAILED = "failed"  # permanent for this message (bad request)
    UNREACHABLE = "unreachable"  # the user blocked us or cannot be messaged now


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    """The outcome of one send with the platform's reason, kept on the message row."""

    outcome: DeliveryOutcome
    reason: str = ""
    retry_after: float | None = None
    external_id: str | None = None
    # True when the request may have reached the platform (a read timeout): a message
    # sent at most once is then not retried.
    ambiguous: bool = False


def not_configured(channel: str) -> DeliveryResult:
    """The outcome of a send to a channel this process has not registered: failed, with a
    reason an operator can act on, never an exception that stops the other sends."""
    return DeliveryResult(DeliveryOutcome.FAILED, f"channel_not_configured: {channel}")


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a channel can render; the renderer adapts text and buttons to it."""

    max_text_length: int
    max_buttons: int
    pushes: bool  # True when the channel can send without the citizen asking (not web polling)
    # True when sending depends on the citizen's last message (Zalo's interaction window):
    # the dispatcher then looks up the conversation before sending.
    window: bool = False


class Channel(Protocol):
    """A messaging channel as the gateway sees it."""

    name: str
    capabilities: Capabilities

    async def send(self, recipient: Recipient, message: OutboundMessage) -> DeliveryResult:
        """Deliver one message; never raises for platform errors, returns the outcome."""
        ...


class ChannelRegistry:
    """Channels by name, looked up from a contact's channel field."""

    def __init__(self) -> None:
        self._channels: dict[str, Channel] = {}

    def register(self, channel: Channel) -> None:
        """Add a channel (at app start-up)."""
        self._channels[channel.name] = channel

    def get(self, name: str) -> Channel:
        """The channel that delivers to contacts of `name`."""
        return self._channels[name]

    def find(self, name: str) -> Channel | None:
        """The channel of `name`, or None when this process does not serve it (a contact
        of a channel configured elsewhere, or no longer): its sends fail alone, see
        `not_configured`."""
        return self._channels.get(name)

    def pushes(self, name: str) -> bool:
        """Whether a message to a contact of `name` must be sent (queued for sending); a
        channel whose page polls (the web chat) has it once it is stored. A channel this
        process does not serve counts as pushing, so its send fails alone."""
        channel = self._channels.get(name)
        return channel is None or channel.capabilities.pushes

    def names(self) -> list[str]:
        """Registered channel names (for health output)."""
        return sorted(self._channels)
