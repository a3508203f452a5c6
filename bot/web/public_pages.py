"""The public scoreboard, for anyone, without logging in: GET /cong-khai (the page, Chart.js
trends drawn by a static script from the figures in a data attribute: the CSP allows no
inline script) and GET /cong-khai.json (the same figures as open data)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import web

from bot.domain.deadlines import VN_TZ
from bot.domain.reports import MIN_PUBLIC_CASES
from bot.gateway import DB, json_response
from bot.services.scoreboard import Score, ScoreboardCache

HERE = Path(__file__).parent / "public"
PATH = "/cong-khai"
TEMPLATES: web.AppKey[jinja2.Environment] = web.AppKey("public_templates", jinja2.Environment)
CACHE: web.AppKey[ScoreboardCache] = web.AppKey("scoreboard_cache", ScoreboardCache)


def percent(value: float | None) -> str:
    """A share as Vietnamese write it ("87,5%"), or a dash when not shown."""
    return "—" if value is None else f"{value * 100:.1f}%".replace(".", ",")


def number(value: float | int | None, digits: int = 0) -> str:
    """A figure with a decimal comma, or a dash when not shown."""
    if value is None:
        return "—"
    return f"{value:.{digits}f}".replace(".", ",") if digits else f"{value:,}".replace(",", ".")


def month(value: date) -> str:
    """ "11/2026"."""
    return f"{value.month:02d}/{value.year}"


def _trend(scores: tuple[tuple[date, Score], ...]) -> dict[str, Any]:
    """What the page's script draws: month labels and two series (null: not shown)."""
    return {
        "months": [month(m) for m, _ in scores],
        "on_time": [
            None if s.answer_on_time is None else round(s.answer_on_time * 100, 1)
            for _, s in scores
        ],
        "satisfaction": [s.satisfaction for _, s in scores],
    }


async def page(request: web.Request) -> web.Response:
    """GET /cong-khai: the scoreboard page."""
    board = await request.app[CACHE].get(request.app[DB])
    context = {
        "board": board,
        "min_cases": MIN_PUBLIC_CASES,
        "trends": {a.slug: _trend(a.months) for a in board.agencies},
        "as_of": board.as_of.astimezone(VN_TZ),
    }
    return aiohttp_jinja2.render_template("scoreboard.html", request, context, app_key=TEMPLATES)


async def open_data(request: web.Request) -> web.Response:
    """GET /cong-khai.json: the same figures as JSON."""
    board = await request.app[CACHE].get(request.app[DB])
    return json_response(board.as_json())


def setup(app: web.Application, cache: ScoreboardCache | None = None) -> None:
    """Mount the scoreboard and its static files on the gateway."""
    env = aiohttp_jinja2.setup(
        app,
        app_key=TEMPLATES,
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=jinja2.select_autoescape(["html"], default=True),
        undefined=jinja2.StrictUndefined,
        default_helpers=False,
    )
    env.filters.update({"percent": percent, "number": number, "month": month})
    app[CACHE] = cache or ScoreboardCache()
    app.router.add_get(PATH, page)
    app.router.add_get(f"{PATH}.json", open_data)
    app.router.add_static(f"{PATH}/static", HERE / "static")
