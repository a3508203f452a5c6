"""What the gateway's HTTP entrypoints share (bot/web routes, connectors' webhooks): typed
application state (aiohttp AppKey) and reading a request body into a validated model.

Connectors import this module, never bot/web: the app factory (bot/web/app.py) is the one
place that imports connectors.
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

import aiohttp
from aiohttp import web
from pydantic import BaseModel, ValidationError

from bot.channels import ChannelRegistry
from bot.engine import EngineClient
from bot.errors import InvalidInput
from bot.services.conversations import MessageFlow
from bot.services.dispatch import Dispatcher
from bot.services.loops import LoopState
from bot.settings import Settings
from bot.store.db import Database

SETTINGS = web.AppKey("settings", Settings)
DB = web.AppKey("db", Database)
HTTP = web.AppKey("http", aiohttp.ClientSession)
ENGINE = web.AppKey("engine", EngineClient)
CHANNELS = web.AppKey("channels", ChannelRegistry)
FLOW = web.AppKey("flow", MessageFlow)
DISPATCHER = web.AppKey("dispatcher", Dispatcher)
# The supervised background loops of this process, by name, for /healthz.
LOOPS = web.AppKey("loops", dict[str, LoopState])

M = TypeVar("M", bound=BaseModel)

NOT_JSON = "Dữ liệu gửi lên không phải JSON hợp lệ."


def describe(error: ValidationError) -> str:
    """The first problem of a validation error, naming the field: "'to': Field required"."""
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "body"
    return f"'{where}': {first['msg']}"


async def read_object(request: web.Request) -> dict[str, Any]:
    """The request body as a JSON object; 400 `invalid_json` when it is not UTF-8 JSON or
    not an object."""
    try:
        data = json.loads((await request.read()).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput(NOT_JSON, code="invalid_json") from exc
    if not isinstance(data, dict):
        raise InvalidInput(NOT_JSON, code="invalid_json")
    return data


def validated(model: type[M], data: dict[str, Any]) -> M:
    """`data` as `model`, or 400 `too_long` / `invalid_body` naming the field (a validator that
    raises a GiaitrinhError with a more precise code passes through unchanged). For bodies
    that do not come from a request too (a file given to the CLI)."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        kinds = {e["type"] for e in exc.errors()}
        code = "too_long" if kinds & {"string_too_long", "too_long"} else "invalid_body"
        raise InvalidInput(describe(exc), code=code) from exc


async def read_json(request: web.Request, model: type[M]) -> M:
    """The request body as `model`: 400 `invalid_json` when it is not a UTF-8 JSON object,
    then as `validated`."""
    return validated(model, await read_object(request))
