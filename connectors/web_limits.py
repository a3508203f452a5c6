"""How often one client address, or one web chat session, may use the public chat API.

Every web message costs an engine turn, so new sessions are limited per address, messages per
session and per address, polls (cheap) generously per session. A refused request is a 429
with Retry-After and a Vietnamese message, and nothing of it is stored: the page keeps the
text and the citizen sends it again.
"""

from __future__ import annotations

import hashlib
import math

from aiohttp import web

from bot.domain.throttle import Key, MemoryThrottle, Rule, Throttle, client_address, limit_key
from bot.errors import RateLimited
from bot.gateway import SETTINGS
from bot.settings import Settings

WEB_THROTTLE: web.AppKey[Throttle] = web.AppKey("web_throttle")

SESSIONS_PER_IP = "web_session_per_ip"
MESSAGES_PER_SESSION = "web_message_per_session"
MESSAGES_PER_IP = "web_message_per_ip"
POLLS_PER_SESSION = "web_poll_per_session"

TOO_FAST = "Anh/chị gửi nhanh quá, vui lòng đợi {seconds} giây rồi gửi lại."
TOO_MANY_SESSIONS = (
    "Có quá nhiều phiên trò chuyện mới từ mạng của anh/chị, "
    "vui lòng đợi {seconds} giây rồi thử lại."
)
POLLING_TOO_FAST = "Trang cập nhật tin nhắn quá nhanh, vui lòng đợi {seconds} giây."


def memory_throttle(settings: Settings) -> MemoryThrottle:
    """The web chat's limits, kept in this process."""
    rules = {
        SESSIONS_PER_IP: Rule(
            settings.web_sessions_per_ip_per_min, settings.web_sessions_per_ip_burst
        ),
        MESSAGES_PER_SESSION: Rule(
            settings.web_messages_per_session_per_min, settings.web_messages_per_session_burst
        ),
        MESSAGES_PER_IP: Rule(
            settings.web_messages_per_ip_per_min, settings.web_messages_per_ip_burst
        ),
        POLLS_PER_SESSION: Rule(
            settings.web_polls_per_session_per_min, settings.web_polls_per_session_burst
        ),
    }
    return MemoryThrottle(rules, max_keys=settings.web_limit_max_keys)


def _client(request: web.Request) -> str:
    """The address a request counts against (X-Forwarded-For only from trusted proxies)."""
    settings = request.app[SETTINGS]
    forwarded = request.headers.get("X-Forwarded-For")
    return limit_key(client_address(request.remote, forwarded, settings.trusted_proxies))


def _session(session_id: str) -> str:
    """A session's key: a digest, so the bearer token itself is never a store's key."""
    return hashlib.sha256(session_id.encode()).hexdigest()[:32]


async def _take(request: web.Request, keys: list[Key], message: str) -> None:
    wait = await request.app[WEB_THROTTLE].take(keys)
    if wait > 0:
        seconds = max(1, math.ceil(wait))
        raise RateLimited(message.format(seconds=seconds), retry_after=seconds)


async def limit_new_session(request: web.Request) -> None:
    """Raise RateLimited when this address starts sessions too often."""
    await _take(request, [(SESSIONS_PER_IP, _client(request))], TOO_MANY_SESSIONS)


async def limit_message(request: web.Request, session_id: str) -> None:
    """Raise RateLimited when this session, or this address, sends too often."""
    keys = [(MESSAGES_PER_SESSION, _session(session_id)), (MESSAGES_PER_IP, _client(request))]
    await _take(request, keys, TOO_FAST)


async def limit_poll(request: web.Request, session_id: str) -> None:
    """Raise RateLimited when this session polls too often."""
    await _take(request, [(POLLS_PER_SESSION, _session(session_id))], POLLING_TOO_FAST)
