"""The audit middleware: every POST under /api/v1 leaves a row (bot.services.audit), with
the caller the route authenticated and the status it answered, refusals included."""

from __future__ import annotations

import structlog
from aiohttp import web

from bot.domain.actors import Actor
from bot.gateway import DB
from bot.services.audit import record_call
from bot.web.errors import Handler

log = structlog.get_logger(__name__)

# Set by `bot.web.params.actor` once the token is checked (before the role is).
CALLER = web.RequestKey("caller", Actor)
# What the call acted on when the URL does not say it (a new publication's slug).
TARGET = web.RequestKey("audit_target", str)

_TARGETS = ("code", "slug", "username", "id")


def _route(request: web.Request) -> str:
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else request.path


def _target(request: web.Request) -> str | None:
    if TARGET in request:
        return request[TARGET]
    return next((request.match_info[k] for k in _TARGETS if k in request.match_info), None)


@web.middleware
async def audit_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Record state-changing API calls after the answer is known (errors are already
    rendered by the error middleware inside this one)."""
    if request.method != "POST" or not request.path.startswith("/api/v1/"):
        return await handler(request)
    response = await handler(request)
    try:
        await record_call(
            request.app[DB],
            request.get(CALLER),
            request.method,
            _route(request),
            _target(request),
            response.status,
        )
    except Exception:
        # The call itself is done; its outcome stands even if its audit row is lost.
        log.exception("audit_write_failed", path=_route(request), status=response.status)
    return response
