"""What the gateway's HTTP entrypoints share (bot/web routes, connectors' webhooks): typed
application state (aiohttp AppKey) and reading a request body into a validated model.

Connectors import this module, never bot/web: the app factory (bot/web/app.py) is the one
place that imports connectors.
"""

from __future__ import annotations

import hmac
import json
import math
import re
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
UNSTORABLE = "Dữ liệu gửi lên chứa ký tự không hợp lệ."


def describe(error: ValidationError) -> str:
    """The first problem of a validation error, naming the field: "'to': Field required"."""
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "body"
    return f"'{where}': {first['msg']}"


# Deeper than any body we take (a Telegram button press is about 7 levels): a deeper one is
# refused before anything recurses into it.
MAX_DEPTH = 32
# Characters no text column takes: NUL (PostgreSQL refuses it) and lone surrogates (not
# Unicode text at all: a "\ud800" escape cannot be encoded to store it).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_SUSPECT_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")  # \u0000, \uD800-\uDFFF


def _not_finite(value: str) -> float:
    raise ValueError(f"not a finite number: {value}")


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):  # 1e400
        raise ValueError("not a finite number")
    return number


def _too_deep(data: Any) -> bool:
    """Containers nested deeper than MAX_DEPTH (iterative: the check must not recurse)."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            return True
        for item in value.values() if isinstance(value, dict) else value:
            if isinstance(item, dict | list):
                stack.append((item, depth + 1))
    return False


def _unstorable(data: Any) -> bool:
    """A key or string value with a NUL or a lone surrogate."""
    stack: list[Any] = [data]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            if _UNSTORABLE.search(value):
                return True
        elif isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return False


def parse_json(raw: bytes) -> Any:
    """A request body as JSON we can work with and store, or 400 `invalid_json`: not UTF-8,
    not JSON, NaN or infinite numbers, nested deeper than MAX_DEPTH, or a string with a NUL
    or a lone surrogate. Every inbound parser starts here."""
    try:
        data = json.loads(raw.decode("utf-8"), parse_constant=_not_finite, parse_float=_finite)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:  # ValueError: bad JSON
        raise InvalidInput(NOT_JSON, code="invalid_json") from exc
    if isinstance(data, dict | list) and _too_deep(data):
        raise InvalidInput(NOT_JSON, code="invalid_json")
    # A NUL or a surrogate can only come from an escape: strict JSON refuses a raw control
    # character in a string, and strict UTF-8 an encoded surrogate. Bodies without such an
    # escape (nearly all: Vietnamese letters escape as \u00xx-\u1exx) are not walked.
    if _SUSPECT_ESCAPE.search(raw) and _unstorable(data):
        raise InvalidInput(UNSTORABLE, code="invalid_json")
    return data


def same_secret(given: str, expected: str) -> bool:
    """A header against a configured secret in constant time; never raises on odd bytes
    (aiohttp hands undecodable header bytes over as surrogate escapes)."""
    return bool(expected) and hmac.compare_digest(
        given.encode("utf-8", "surrogateescape"), expected.encode("utf-8")
    )


async def read_object(request: web.Request) -> dict[str, Any]:
    """The request body as a JSON object (`parse_json`); 400 `invalid_json` when it is not
    one."""
    data = parse_json(await request.read())
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


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def json_response(
    data: Any, *, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    """JSON as people read it: UTF-8 with Vietnamese letters as themselves ("Đã tiếp nhận", not
    "\\u0110\\u00e3 ti\\u1ebfp nh\\u1eadn"), for every route and connector alike."""
    return web.json_response(data, status=status, headers=headers, dumps=_dumps)


async def read_json(request: web.Request, model: type[M]) -> M:
    """The request body as `model`: 400 `invalid_json` when it is not a UTF-8 JSON object,
    then as `validated`."""
    return validated(model, await read_object(request))
