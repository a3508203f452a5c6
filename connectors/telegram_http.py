"""python-telegram-bot's HTTP layer on aiohttp instead of httpx.

PTB keeps its Bot API semantics (request building, error mapping to Forbidden, RetryAfter,
BadRequest, ...) and lets the transport be replaced through `BaseRequest`. httpx's
connection pool costs more CPU per request than the whole rest of a broadcast send once a
hundred requests are in flight (measured with `make bench-broadcast`: 445 deliveries/s with
httpx, 1,144 with aiohttp), so the gateway uses aiohttp, which it already runs.

Used for what PTB does for us (polling, webhook registration, answering button presses);
the channel's sendMessage hot path calls the Bot API directly (see connectors/telegram.py).
"""

from __future__ import annotations

import aiohttp
from telegram._utils.defaultvalue import DefaultValue  # PTB's own sentinel for 'not passed'
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData


class AiohttpRequest(BaseRequest):
    """A BaseRequest backed by one aiohttp session with a bounded connection pool."""

    def __init__(
        self,
        connection_pool_size: int = 256,
        connect_timeout: float = 5.0,
        read_timeout: float = 10.0,
        media_write_timeout: float = 20.0,
    ) -> None:
        self._pool_size = connection_pool_size
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        """The default read timeout in seconds."""
        return self._read_timeout

    async def initialize(self) -> None:
        """Open the session (idempotent)."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size),
                headers={"User-Agent": self.USER_AGENT},
            )

    async def shutdown(self) -> None:
        """Close the session (idempotent)."""
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """One HTTP request; returns (status code, body) for PTB to interpret."""
        if self._session is None:
            raise RuntimeError("AiohttpRequest is not initialized")
        read = _given(read_timeout, self._read_timeout)
        connect = _given(connect_timeout, self._connect_timeout)
        data: aiohttp.FormData | dict[str, str] | None = None
        if request_data is not None and request_data.contains_files:
            form = aiohttp.FormData()
            for name, value in request_data.json_parameters.items():
                form.add_field(name, value)
            for name, part in request_data.multipart_data.items():
                filename, content, *mime = part
                form.add_field(
                    name, content, filename=filename, content_type=mime[0] if mime else None
                )
            data = form
            read = self._media_write_timeout if read is None else max(read, 1.0)
        elif request_data is not None:
            data = request_data.json_parameters
        timeout = aiohttp.ClientTimeout(sock_connect=connect, sock_read=read)
        try:
            async with self._session.request(method, url, data=data, timeout=timeout) as response:
                return response.status, await response.read()
        except TimeoutError as exc:
            raise TimedOut from exc
        except aiohttp.ClientError as exc:
            raise NetworkError(f"aiohttp.{type(exc).__name__}: {exc}") from exc


def _given(value: ODVInput[float], default: float) -> float | None:
    """A timeout passed by PTB, or ours when it passed none."""
    if isinstance(value, DefaultValue):
        return default if value.value is None else float(value.value)
    return value
