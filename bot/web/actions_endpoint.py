"""Rasa's action endpoint, served by the gateway: actions/ run through rasa_sdk's executor."""

from __future__ import annotations

import structlog
from aiohttp import web
from rasa_sdk.executor import ActionExecutor
from rasa_sdk.interfaces import (
    ActionExecutionRejection,
    ActionMissingDomainException,
    ActionNotFoundException,
)

from bot.gateway import SETTINGS, json_response, read_object, same_secret
from bot.web.errors import error_response

log = structlog.get_logger(__name__)

EXECUTOR = web.AppKey("action_executor", ActionExecutor)


def make_executor() -> ActionExecutor:
    """An executor with every action class found in the actions package."""
    executor = ActionExecutor()
    executor.register_package("actions")
    return executor


async def run_action(request: web.Request) -> web.Response:
    """Execute one action call from the engine (X-Action-Token checked in constant time)."""
    expected = request.app[SETTINGS].action_token.get_secret_value()
    given = request.headers.get("X-Action-Token", "")
    if not expected:
        # Without a shared secret anyone could run actions: the endpoint stays closed.
        return error_response(503, "actions_disabled", "GIAITRINH_ACTION_TOKEN is not set")
    if not same_secret(given, expected):
        return error_response(401, "unauthorized", "invalid action token")
    action_call = await read_object(request)  # 400 invalid_json: not JSON, too deep, ...
    executor = request.app[EXECUTOR]
    try:
        result = await executor.run(action_call)
    except ActionExecutionRejection as exc:
        return json_response({"error": exc.message, "action_name": exc.action_name}, status=400)
    except ActionNotFoundException as exc:
        log.error("action_not_found", action=exc.action_name)
        return json_response({"error": exc.message, "action_name": exc.action_name}, status=404)
    except ActionMissingDomainException as exc:
        # 449 asks the engine to resend the call with its domain (rasa_sdk protocol).
        return json_response({"error": exc.message, "action_name": exc.action_name}, status=449)
    return json_response(result.model_dump() if result else None)


def setup(app: web.Application) -> None:
    """Mount the endpoint where the engine's endpoints file points Rasa (bot/enginectl.py)."""
    app[EXECUTOR] = make_executor()
    app.router.add_post("/webhooks/actions", run_action)
