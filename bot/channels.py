"""The channel port: the one interface every connector implements, defined in the core.

Services and the engine client depend on these types; connectors (connectors/) implement
`Channel` and import only the core's public services and types, never the other way round.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
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


class Category(StrEnum):
    """Why a message goes out, as platforms with message kinds need to know (Zalo sends
    each category outside the citizen's reply window as a different kind, or not at all)."""

    CONVERSATION = "conversation"  # a reply in a conversation the citizen is having
    TRANSACTION = "transaction"  # news of something the citizen started (their case)
    PROMOTION = "promotion"  # news the citizen subscribed to (a broadcast)


@dataclass(frozen=True, slots=True)
class Card:
    """The same message laid out for platforms that show structured messages (Zalo's
    transaction and promotion templates): a title, paragraphs, key/value rows, a closing
    line. A channel without them sends the message's text, which says the same."""

    title: str
    lines: tuple[str, ...] = ()
    rows: tuple[tuple[str, str], ...] = ()
    footer: str = ""
    buttons: tuple[Button, ...] = ()  # the card's own (few) buttons

    def as_json(self) -> dict[str, Any]:
        """The stored form (deliveries.card, broadcasts.card)."""
        return {
            "title": self.title,
            "lines": list(self.lines),
            "rows": [list(row) for row in self.rows],
            "footer": self.footer,
            "buttons": [{"title": b.title, "payload": b.payload} for b in self.buttons],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Card | None:
        """A stored card (None stays None)."""
        if not data:
            return None
        return cls(
            title=str(data.get("title", "")),
            lines=tuple(str(line) for line in data.get("lines") or ()),
            rows=tuple((str(k), str(v)) for k, v in data.get("rows") or ()),
            footer=str(data.get("footer", "")),
            buttons=tuple(
                Button(str(b["title"]), str(b["payload"])) for b in data.get("buttons") or ()
            ),
        )


@dataclass(frozen=True, slots=True)
class OutboundMessage:
    """A message to a citizen, before the channel renders it.

    `ref` is the stored message's id when there is one: a channel whose buttons cannot carry
    a long payload sends button_ref(ref, index) instead, and the gateway resolves it.
    `category` and `card` let a platform with message kinds pick one (see `Route`).
    """

    text: str
    buttons: tuple[Button, ...] = ()
    ref: int | None = None
    category: Category = Category.CONVERSATION
    card: Card | None = None


@dataclass(frozen=True, slots=True)
class Recipient:
    """Where a channel delivers, plus what its sending rules need to know."""

    channel: str
    channel_user_id: str
    last_inbound_at: datetime | None = None  # the citizen's last message to us
    sent_since_inbound: int = 0  # our messages since then
    last_inbound_ref: str | None = None  # that message's platform id (a reply quotes it)


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
    # The platform's rules do not let it go now (quota spent, message kind not enabled,
    # reply window closed): kept, with the reason, for later or for when the citizen writes.
    DEFERRED = "deferred"


class DeferReason(StrEnum):
    """Why a message waits; a deferred result's reason starts with one of these and ':'."""

    QUOTA = "quota"  # the monthly quota of the message kind is spent
    KIND_DISABLED = "kind_disabled"  # the agency's account may not send this kind
    WINDOW = "window"  # only a reply is allowed, and the reply window is closed


def deferred(reason: DeferReason, detail: str) -> DeliveryResult:
    """A send the platform's rules hold back, with a reason reports can group by."""
    return DeliveryResult(DeliveryOutcome.DEFERRED, f"{reason.value}: {detail}")


def defer_reason(reason: str) -> str:
    """The group of a deferred delivery's reason ("quota", "window"...)."""
    return reason.split(":", 1)[0].strip() or "deferred"


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


@dataclass(frozen=True, slots=True)
class QuotaClaim:
    """A send that draws on a monthly quota counted in the database (across processes):
    the pool's name, its monthly limit, and how many of its last units this claim must leave
    to more important messages (case updates are served before broadcasts)."""

    pool: str
    limit: int
    keep: int = 0


@dataclass(frozen=True, slots=True)
class Route:
    """How a channel would send a message now: as which of its message kinds, against which
    quota (None: free), or not now (`defer`, a deferred result)."""

    kind: str = ""
    quota: QuotaClaim | None = None
    defer: DeliveryResult | None = None
    taken: bool = False  # the caller took the quota unit for this send

    def with_quota_taken(self) -> Route:
        """This route, its quota unit taken (the dispatcher's, in the database)."""
        return replace(self, taken=True)


FREE = Route()  # one kind of message, no quota: every channel but Zalo


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
    # True when the platform reports received / seen for a sent message (Zalo's receipt
    # events): the dispatcher keeps each sent delivery's platform message id.
    receipts: bool = False


class Channel(Protocol):
    """A messaging channel as the gateway sees it."""

    name: str
    capabilities: Capabilities

    def route(self, recipient: Recipient, message: OutboundMessage) -> Route:
        """How this message would go now (kind, quota, or deferred); pure, no I/O."""
        ...

    async def send(
        self, recipient: Recipient, message: OutboundMessage, route: Route | None = None
    ) -> DeliveryResult:
        """Deliver one message (along `route` when the caller already took its quota);
        never raises for platform errors, returns the outcome."""
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

    def receipts(self, name: str) -> bool:
        """Whether `name`'s platform reports received / seen for a sent message (its
        deliveries keep their platform message id)."""
        channel = self._channels.get(name)
        return channel is not None and channel.capabilities.receipts

    def with_window(self) -> set[str]:
        """Channels whose sending depends on the citizen's last message (Zalo)."""
        return {name for name, c in self._channels.items() if c.capabilities.window}

    def names(self) -> list[str]:
        """Registered channel names (for health output)."""
        return sorted(self._channels)
