"""Staff account routes of the agencies' REST API (/api/v1/users): an admin revokes a token
without a shell on the server (a leaked token, someone who left)."""

from __future__ import annotations

from aiohttp import web

from bot.domain.permissions import Action
from bot.gateway import DB, json_response
from bot.services.users import revoke_token
from bot.web.params import actor


async def revoke(request: web.Request) -> web.Response:
    """POST /api/v1/users/{username}/revoke: the user's API token stops working at once."""
    await actor(request, Action.MANAGE_USERS)
    username = request.match_info["username"]
    await revoke_token(request.app[DB], username)
    return json_response({"username": username, "revoked": True})


def setup(app: web.Application) -> None:
    """Mount the user routes."""
    app.router.add_post("/api/v1/users/{username}/revoke", revoke)
