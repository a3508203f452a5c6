"""Looking up places by name (/api/v1/localities): the codes that publications, gaps and
subscriptions use ("w:70", "p:1") found from what staff type ("tân an", "hoan kiem")."""

from __future__ import annotations

from aiohttp import web

from bot.domain.localities import search
from bot.domain.permissions import Action
from bot.errors import InvalidInput
from bot.gateway import json_response
from bot.web.params import actor, number

MAX_RESULTS = 50
MAX_QUERY = 100  # characters: a place name with its province fits many times over


async def find_localities(request: web.Request) -> web.Response:
    """GET /api/v1/localities?q=tân an[&limit=20]: matching provinces and communes, best
    first, each with its code, name, level (1 province, 2 commune) and province."""
    await actor(request, Action.READ_LOCALITIES)
    query = request.query.get("q", "").strip()
    if not query:
        raise InvalidInput("Thiếu tên địa bàn cần tìm (q).", code="invalid_filter")
    if len(query) > MAX_QUERY:
        raise InvalidInput(f"Tên tìm kiếm dài quá {MAX_QUERY} ký tự.", code="invalid_filter")
    limit = min(number(request.query.get("limit"), 20), MAX_RESULTS)
    found = search(query, limit)
    return json_response(
        {
            "localities": [
                {
                    "code": loc.code,
                    "name": loc.name,
                    "level": loc.level,
                    "province": loc.province_title,
                    "label": loc.label,
                }
                for loc in found
            ]
        }
    )


def setup(app: web.Application) -> None:
    """Mount the locality search."""
    app.router.add_get("/api/v1/localities", find_localities)
