"""Publishing routes of the agencies' REST API (/api/v1/explanations, broadcasts)."""

from __future__ import annotations

from aiohttp import web

from bot.errors import Forbidden
from bot.gateway import DB, read_object
from bot.services import explanations
from bot.web.params import actor, number


async def publish_explanation(request: web.Request) -> web.Response:
    """POST /api/v1/explanations: publish (or publish a new version) and plan the broadcast."""
    caller = await actor(request)
    if caller.role not in {"admin", "officer"}:
        raise Forbidden("Chỉ cán bộ mới đăng bài giải trình.", code="officer_only")
    spec = explanations.spec_from_json(await read_object(request))
    published = await explanations.publish(request.app[DB], spec, caller.name)
    return web.json_response(published.as_json(), status=201)


async def send_broadcast(request: web.Request) -> web.Response:
    """POST /api/v1/explanations/{slug}/broadcasts: send the current version again, to the
    matching subscribers who have not received it (e.g. after new subscriptions)."""
    caller = await actor(request)
    if caller.role not in {"admin", "officer"}:
        raise Forbidden("Chỉ cán bộ mới gửi tin.", code="officer_only")
    published = await explanations.send_again(
        request.app[DB], request.match_info["slug"], caller.name
    )
    return web.json_response(published.as_json(), status=201)


async def get_explanation(request: web.Request) -> web.Response:
    """GET /api/v1/explanations/{slug}[/versions/{version}]"""
    await actor(request)
    version = request.match_info.get("version")
    body = await explanations.get_version(
        request.app[DB], request.match_info["slug"], number(version, 0) if version else None
    )
    return web.json_response(body)


async def broadcast_report(request: web.Request) -> web.Response:
    """GET /api/v1/broadcasts/{id}: pending, sent, failed by reason, blocked, timestamps."""
    await actor(request)
    report = await explanations.broadcast_report(
        request.app[DB], number(request.match_info["id"], 0)
    )
    return web.json_response(report.as_json())


def setup(app: web.Application) -> None:
    """Mount the publishing routes."""
    app.router.add_post("/api/v1/explanations", publish_explanation)
    app.router.add_post("/api/v1/explanations/{slug}/broadcasts", send_broadcast)
    app.router.add_get("/api/v1/explanations/{slug}", get_explanation)
    app.router.add_get("/api/v1/explanations/{slug}/versions/{version}", get_explanation)
    app.router.add_get("/api/v1/broadcasts/{id}", broadcast_report)
