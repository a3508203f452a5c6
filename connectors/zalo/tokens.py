"""The Zalo OA access token and its rotation.

The access token lives about 25 hours and the refresh token is single-use. One process at a
time refreshes (a lease in the database, held longer than the HTTP timeout), well before
expiry; the new pair is stored at once; a body without a new access token (Zalo answers
some OAuth errors with HTTP 200) is a failure that keeps the working pair and is shown on
/healthz and in the log. The statements live in the core (bot/services/platform_tokens.py).
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from datetime import timedelta
from typing import Any

import aiohttp
import structlog
from aiohttp import web

from bot.services import platform_tokens
from bot.services.loops import LoopState, supervise
from bot.services.platform_tokens import TokenStatus
from bot.settings import Settings
from bot.store.db import Database

log = structlog.get_logger(__name__)

HTTP_TIMEOUT = 20.0
LEASE = timedelta(seconds=90)  # longer than HTTP_TIMEOUT: no second refresher can start
CACHE_S = 5.0  # how long a read access token is reused before reading the row again
DEFAULT_EXPIRES_IN = 90000  # seconds, when Zalo's answer does not say


class ZaloTokens:
    """The current access token, and its rotation under a database lease."""

    def __init__(self, db: Database, http: aiohttp.ClientSession, settings: Settings) -> None:
        self._db = db
        self._http = http
        self._settings = settings
        self._holder = f"{os.getpid()}-{id(self)}"
        self._cached: tuple[str, float] | None = None
        self._reading = asyncio.Lock()
        self.loop = LoopState("zalo_tokens")

    async def ensure_row(self) -> None:
        """Seed the single token row from the settings the first time."""
        await platform_tokens.seed_zalo(
            self._db,
            self._settings.zalo_access_token.get_secret_value(),
            self._settings.zalo_refresh_token.get_secret_value(),
        )

    async def access_token(self) -> str:
        """The stored access token (cached for a few seconds; when the cache is stale, one
        sender reads the row and the others in flight wait for that read)."""
        if self._cached and time.monotonic() - self._cached[1] < CACHE_S:
            return self._cached[0]
        async with self._reading:
            if self._cached and time.monotonic() - self._cached[1] < CACHE_S:
                return self._cached[0]
            token = await platform_tokens.zalo_access_token(self._db)
            self._cached = (token, time.monotonic())
            return token

    async def status(self) -> TokenStatus:
        """Expiry and the last refresh error, for the health endpoint."""
        return await platform_tokens.zalo_status(self._db)

    async def refresh_if_due(self, force: bool = False) -> bool:
        """Refresh when the token expires within the margin (or when forced); True if refreshed."""
        margin = None if force else timedelta(seconds=self._settings.zalo_refresh_margin_s)
        refresh_token = await platform_tokens.lease_zalo_refresh(
            self._db, self._holder, LEASE, margin
        )
        if refresh_token is None:  # not due, or another process is refreshing
            return False
        try:
            body = await self._call_oauth(refresh_token)
            access, new_refresh = body.get("access_token"), body.get("refresh_token")
            if not access or not new_refresh:
                raise ValueError(
                    str(
                        body.get("error_name") or body.get("error_description") or body.get("error")
                    )
                    or "no access_token in the answer"
                )
            expires_in = int(body.get("expires_in") or DEFAULT_EXPIRES_IN)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            error = f"refresh failed: {exc}"[:500]
            await platform_tokens.zalo_refresh_failed(self._db, self._holder, error)
            log.error("zalo_token_refresh_failed", reason=str(exc)[:200])
            return False
        await platform_tokens.store_zalo_pair(
            self._db, self._holder, str(access), str(new_refresh), timedelta(seconds=expires_in)
        )
        self._cached = None
        log.info("zalo_token_refreshed", expires_in=expires_in)
        return True

    async def _call_oauth(self, refresh_token: str) -> dict[str, Any]:
        async with self._http.post(
            f"{self._settings.zalo_oauth_base.rstrip('/')}/v4/oa/access_token",
            headers={"secret_key": self._settings.zalo_app_secret_key.get_secret_value()},
            data={
                "app_id": self._settings.zalo_app_id,
                "refresh_token": refresh_token,
                "grant_type": "refresh_token",
            },
            timeout=aiohttp.ClientTimeout(total=HTTP_TIMEOUT),
        ) as resp:
            try:
                body = await resp.json(content_type=None)
            except (json.JSONDecodeError, aiohttp.ContentTypeError) as exc:
                raise ValueError(f"HTTP {resp.status}, body is not JSON") from exc
            if not isinstance(body, dict):
                raise ValueError(f"HTTP {resp.status}, unexpected body")
            return body

    async def run(self, interval: float = 60.0) -> None:
        """Background loop: check every minute, refresh well before expiry."""
        await supervise(self.loop, self.refresh_if_due, interval)


ZALO_TOKENS = web.AppKey("zalo_tokens", ZaloTokens)
