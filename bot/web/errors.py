"""Domain errors → JSON HTTP errors, in one place."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import structlog
from aiohttp import web

from bot.errors import GiaitrinhError, RateLimited
from bot.gateway import json_response

log = structlog.get_logger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def error_response(status: int, code: str, message: str) -> web.Response:
    """The one JSON error shape: {"error": {"code", "message"}}."""
    return json_response({"error": {"code": code, "message": message}}, status=status)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Render domain errors and unexpected failures as JSON with a stable code."""
    try:
        return await handler(request)
    except GiaitrinhError as exc:
        response = error_response(exc.http_status, exc.code, exc.message)
        if isinstance(exc, RateLimited):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return error_response(exc.status, exc.reason.lower().replace(" ", "_"), exc.reason)
    except Exception:
        log.exception("unhandled_error", path=request.path)
        return error_response(500, "internal_error", "Lỗi hệ thống, vui lòng thử lại sau.")


@web.middleware
async def refuse_nul_in_url(request: web.Request, handler: Handler) -> web.StreamResponse:
    """400 `invalid_url` for a NUL character in the path or the query, before any handler
    reads it: PostgreSQL refuses one in text (a search, a filter or a slug would fail)."""
    if "\x00" in request.path or "\x00" in request.query_string:
        return error_response(400, "invalid_url", "Địa chỉ yêu cầu chứa ký tự không hợp lệ.")
    return await handler(request)
