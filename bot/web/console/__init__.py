"""The agency console, served under /console: server-rendered Jinja2 pages (aiohttp-jinja2),
encrypted cookie sessions (aiohttp-session), a CSRF token on every state-changing request,
and htmx for the parts of a page that change.

How to add a page (docs/architecture.md, "The console"):

1. a handler that starts with `staff = await require_staff(request, Action.X)` (from
   `bot.web.console.session`) and returns `render(request, "x.html", {...})` (from
   `bot.web.console.render`), a template that extends `base.html`;
2. its routes in a module's `setup(console)`, listed in `_PAGES` below;
3. its link in `NAV` (`bot/web/console/views.py`), shown to the roles that may do `X`.
"""

from __future__ import annotations

from pathlib import Path

import aiohttp_jinja2
import aiohttp_session
import jinja2
from aiohttp import web

from bot.gateway import SETTINGS
from bot.web.console import (
    admin_pages,
    auth_pages,
    case_pages,
    handoff_pages,
    pages,
    place_pages,
    publish_pages,
    report_pages,
)
from bot.web.console.guard import LOGIN_THROTTLE, csrf_check, error_pages, login_throttle
from bot.web.console.session import PREFIX, cookie_storage
from bot.web.console.views import FILTERS, GLOBALS

HERE = Path(__file__).parent
# The console's own application (mounted under PREFIX), for tests and later pages.
CONSOLE: web.AppKey[web.Application] = web.AppKey("console", web.Application)
# Modules whose setup(console) mounts pages.
_PAGES = (
    auth_pages,
    case_pages,
    handoff_pages,
    pages,
    publish_pages,
    place_pages,
    report_pages,
    admin_pages,
)


async def _to_console(_request: web.Request) -> web.Response:
    """/console without its slash: the console's home."""
    raise web.HTTPPermanentRedirect(f"{PREFIX}/")


def setup(app: web.Application) -> None:
    """Mount the console on the gateway (the app's settings must be set)."""
    console = web.Application()
    # Outermost first: the session is saved whatever happens inside; errors become pages;
    # the CSRF check runs before any handler.
    aiohttp_session.setup(console, cookie_storage(app[SETTINGS]))
    console.middlewares.extend([error_pages, csrf_check])
    env = aiohttp_jinja2.setup(
        console,
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=jinja2.select_autoescape(["html"], default_for_string=True, default=True),
        undefined=jinja2.StrictUndefined,
        default_helpers=False,
    )
    env.filters.update(FILTERS)
    env.globals.update(GLOBALS)
    console[LOGIN_THROTTLE] = login_throttle(app[SETTINGS])
    console.router.add_static("/static", HERE / "static")
    for module in _PAGES:
        module.setup(console)
    app.router.add_get(PREFIX, _to_console)
    app.add_subapp(PREFIX, console)
    app[CONSOLE] = console
