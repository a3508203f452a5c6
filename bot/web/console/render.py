"""Rendering a console page: a template that extends base.html, with what every page needs
(who is logged in, the links they may follow, the CSRF token for forms and htmx)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from bot.web.console.session import CSRF, PREFIX, STAFF
from bot.web.console.views import NAV


def render(
    request: web.Request, template: str, context: Mapping[str, Any], status: int = 200
) -> web.Response:
    """The page `template` with `context` and the layout's own values (filled in after the
    handler ran: aiohttp-jinja2's context processors run before it, too early to know who
    `require_staff` found)."""
    staff = request.get(STAFF)
    nav = [e for e in NAV if staff and (e.action is None or staff.may(e.action))]
    values = {
        "request": request,
        "staff": staff,
        "nav": nav,
        "prefix": PREFIX,
        "csrf_token": request.get(CSRF, ""),
        **context,
    }
    return aiohttp_jinja2.render_template(template, request, values, status=status)


async def form_fields(request: web.Request) -> dict[str, str]:
    """The posted form's text fields (the CSRF middleware has already read it)."""
    return {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
