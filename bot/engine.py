"""Client for the Rasa engine's REST channel (and its token-protected HTTP API).

Two kinds of failure: no answer (refused connection, dropped connection, timeout) means the
engine is down and the message waits (`EngineUnavailable`); an answer that is an error
means the engine could not handle this message (`EngineRefused`), which the flow counts.
One setting, `engine_timeout`, is both Rasa's `--response-timeout` (bot/enginectl.py) and,
plus `TIMEOUT_MARGIN`, how long the gateway waits: Rasa gives up on a slow turn first, so
the gateway never abandons a turn the engine is still working on and sends it again.
Several engine replicas (the `rasa_url` setting lists them) share one tracker store and one
lock store; the client spreads turns over them and skips one that cannot be reached.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from dataclasses import dataclass
from typing import Any

import aiohttp
import structlog

from bot.channels import Button, OutboundMessage
from bot.errors import EngineRefused, EngineUnavailable
from bot.metrics import NO_METRICS, EngineOutcome, Metrics

log = structlog.get_logger(__name__)

TIMEOUT_MARGIN = 5.0  # seconds the gateway waits beyond the engine's own response timeout


def response_timeout(engine_timeout: float) -> int:
    """Rasa's `--response-timeout` for the `engine_timeout` setting (whole seconds)."""
    return max(1, math.ceil(engine_timeout))


def gateway_wait(engine_timeout: float) -> float:
    """How long the gateway waits for one turn: longer than the engine's own timeout (Sanic
    checks it every few seconds, hence the margin)."""
    return response_timeout(engine_timeout) + TIMEOUT_MARGIN


@dataclass(frozen=True, slots=True)
class EngineTurn:
    """What the engine answered to one message."""

    replies: list[OutboundMessage]


def parse_rest_replies(body: Any) -> list[OutboundMessage]:
    """Turn Rasa REST channel output into channel-neutral messages, dropping what we cannot show."""
    if not isinstance(body, list):
        raise EngineRefused("engine answered with an unexpected body")
    replies: list[OutboundMessage] = []
    for item in body:
        if not isinstance(item, dict):
            continue
        text = item.get("text") or ""
        buttons = tuple(
            Button(title=str(b.get("title", "")), payload=str(b.get("payload", "")))
            for b in item.get("buttons") or []
            if isinstance(b, dict) and b.get("title")
        )
        if text or buttons:
            replies.append(OutboundMessage(text=str(text), buttons=buttons))
    return replies


REPLICA_REST_S = 5.0  # a replica that could not be reached is tried last for this long


@dataclass(slots=True)
class Replica:
    """One engine process, and what this gateway last saw of it."""

    url: str
    ready: bool = True  # until a probe or a refused connection says otherwise
    down_until: float = 0.0  # monotonic time before which it is tried last
    last_error: str | None = None
    turns: int = 0  # turns it answered for this gateway

    def failed(self, error: str) -> None:
        """It could not be reached: tried last for a while."""
        self.ready = False
        self.down_until = time.monotonic() + REPLICA_REST_S
        self.last_error = error

    def as_json(self) -> dict[str, Any]:
        """For /healthz."""
        return {
            "url": self.url,
            "ready": self.ready,
            "turns": self.turns,
            "last_error": self.last_error,
        }


def replica_urls(base_url: str) -> list[str]:
    """The engine replicas of the `rasa_url` setting: one URL, or several separated by commas."""
    urls = [u.strip().rstrip("/") for u in base_url.split(",") if u.strip()]
    if not urls:
        raise ValueError("no engine URL")
    return urls


class EngineClient:
    """Sends one citizen message to an engine replica and returns its replies, within a
    timeout. Calls are spread over the replicas in turn; a replica that refuses the
    connection is tried last until a probe (`is_ready`) finds it ready again, and the message
    goes to the next one at once (it never reached the first, so it cannot be handled twice).
    Any replica can take any conversation: they share the tracker store and its lock store."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        token: str,
        timeout: float,
        metrics: Metrics = NO_METRICS,
    ) -> None:
        self._session = session
        self._metrics = metrics
        self.replicas = [Replica(url) for url in replica_urls(base_url)]
        self._turn = 0
        self._token = token
        # `timeout` is the engine's own response timeout (the engine_timeout setting).
        self._timeout = aiohttp.ClientTimeout(total=gateway_wait(timeout))

    def _order(self) -> list[Replica]:
        """Ready replicas first, each in turn; then the others, soonest back first."""
        now = time.monotonic()
        ready = [r for r in self.replicas if r.ready or r.down_until <= now]
        others = sorted((r for r in self.replicas if r not in ready), key=lambda r: r.down_until)
        if ready:
            self._turn = (self._turn + 1) % len(ready)
            ready = ready[self._turn :] + ready[: self._turn]
        return ready + others

    async def send(self, sender: str, text: str, metadata: dict[str, Any]) -> EngineTurn:
        """One turn; EngineUnavailable when no replica answers (down, unreachable, too slow),
        EngineRefused when one answers this message with an error. Each turn's time and
        outcome are counted (the metrics port)."""
        started = time.monotonic()
        outcome = EngineOutcome.UNAVAILABLE
        try:
            turn = await self._send(sender, text, metadata)
            outcome = EngineOutcome.ANSWERED
            return turn
        except EngineRefused:
            outcome = EngineOutcome.REFUSED
            raise
        finally:  # unavailable also when cancelled: the turn did not end with an answer
            self._metrics.engine_turn(time.monotonic() - started, outcome)

    async def _send(self, sender: str, text: str, metadata: dict[str, Any]) -> EngineTurn:
        body = {"sender": sender, "message": text, "metadata": metadata}
        for replica in self._order():
            try:
                async with self._session.post(
                    f"{replica.url}/webhooks/rest/webhook", json=body, timeout=self._timeout
                ) as resp:
                    status = resp.status
                    raw = await resp.read()
            except aiohttp.ClientConnectorError as exc:  # never reached it: try the next one
                replica.failed(type(exc).__name__)
                log.warning("engine_replica_unreachable", replica=replica.url)
                continue
            except (aiohttp.ClientError, TimeoutError) as exc:
                # It may have handled the message: the message waits, it is not sent elsewhere.
                raise EngineUnavailable(f"engine unreachable: {type(exc).__name__}") from exc
            replica.ready = True
            replica.turns += 1
            turn = _turn(status, raw)
            if not turn.replies and not await self._handled(sender, metadata.get("message_id")):
                # Rasa answers 200 with what it had so far when a turn fails inside it or
                # times out (e.g. waiting for a dead replica's conversation lock).
                raise EngineRefused("engine did not handle the message (failed or timed out)")
            return turn
        raise EngineUnavailable("engine unreachable: no replica accepts connections")

    async def _handled(self, sender: str, message_id: Any) -> bool:
        """Whether the engine's tracker has this message (True when it cannot say)."""
        if not isinstance(message_id, int):
            return True
        understood = await self._intents(sender)
        return understood is None or message_id in understood

    async def is_ready(self) -> bool:
        """True when a replica's API answers with a model loaded (each replica is probed;
        what it answered decides whether it is tried first)."""
        states = await asyncio.gather(*(self._probe(r) for r in self.replicas))
        return any(states)

    async def _probe(self, replica: Replica) -> bool:
        try:
            async with self._session.get(
                f"{replica.url}/status",
                params={"token": self._token},
                timeout=aiohttp.ClientTimeout(total=2),
            ) as resp:
                data = await resp.json(content_type=None) if resp.status == 200 else {}
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            replica.failed(type(exc).__name__)
            return False
        replica.ready = isinstance(data, dict) and bool(data.get("model_file"))
        if not replica.ready:
            replica.failed("no_model")
        else:
            replica.down_until, replica.last_error = 0.0, None
        return replica.ready

    async def understood(self, sender: str) -> dict[int, str]:
        """What the engine understood of each citizen message of a conversation (the
        gateway's message id → intent), from its tracker; empty when it cannot say."""
        return await self._intents(sender) or {}

    async def _intents(self, sender: str) -> dict[int, str] | None:
        """understood(), or None when the tracker could not be read."""
        tracker = await self._tracker(sender)
        return None if tracker is None else intents_by_message(tracker)

    async def replay(self, sender: str, message_id: int) -> EngineTurn | None:
        """The engine's answer to a message it already handled, from its tracker (the bot's
        utterances after that message); None when it never got it (or cannot say)."""
        tracker = await self._tracker(sender)
        return None if tracker is None else replies_after(tracker, message_id)

    async def _tracker(self, sender: str) -> Any:
        """A conversation's tracker with all its events, or None when it cannot be read."""
        try:
            async with self._session.get(
                f"{self._order()[0].url}/conversations/{sender}/tracker",
                params={"token": self._token, "include_events": "ALL"},
                timeout=aiohttp.ClientTimeout(total=5),
            ) as resp:
                if resp.status != 200:
                    return None
                return await resp.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError):
            return None


def _turn(status: int, raw: bytes) -> EngineTurn:
    """An engine's answer to one message: its replies, or EngineRefused."""
    if status != 200:
        raise EngineRefused(f"engine answered HTTP {status}")
    try:
        data = json.loads(raw)
    except ValueError as exc:  # also bytes that are not UTF-8
        raise EngineRefused("engine answered with a body that is not JSON") from exc
    return EngineTurn(replies=parse_rest_replies(data))


def intents_by_message(tracker: Any) -> dict[int, str]:
    """Our message id → intent name, from a tracker's user events (the gateway sends its
    message id in each message's metadata)."""
    found: dict[int, str] = {}
    events = tracker.get("events") if isinstance(tracker, dict) else None
    for event in events if isinstance(events, list) else []:
        if not isinstance(event, dict) or event.get("event") != "user":
            continue
        ref = (event.get("metadata") or {}).get("message_id")
        intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        if isinstance(ref, int) and isinstance(intent, str):
            found[ref] = intent
    return found


def replies_after(tracker: Any, message_id: int) -> EngineTurn | None:
    """What the bot said after the citizen's message `message_id` (our id, in the user event's
    metadata), up to the next user event; None when the tracker does not have that message."""
    events = tracker.get("events") if isinstance(tracker, dict) else None
    said: list[dict[str, Any]] | None = None
    for event in events if isinstance(events, list) else []:
        if not isinstance(event, dict):
            continue
        if event.get("event") == "user":
            if said is not None:
                break
            if (event.get("metadata") or {}).get("message_id") == message_id:
                said = []
        elif said is not None and event.get("event") == "bot":
            data = event.get("data")
            buttons = data.get("buttons") if isinstance(data, dict) else None
            said.append({"text": event.get("text"), "buttons": buttons})
    return None if said is None else EngineTurn(replies=parse_rest_replies(said))
