"""What the API's route modules share: the caller from the bearer token, and query
parameters parsed with clear errors."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TypeVar

from aiohttp import web

from bot.domain.actors import Actor
from bot.domain.deadlines import vietnam_time
from bot.domain.permissions import Action, require
from bot.errors import InvalidInput
from bot.gateway import DB
from bot.services.users import actor_for_token
from bot.web.audit import CALLER

E = TypeVar("E", bound=StrEnum)


async def actor(request: web.Request, action: Action) -> Actor:
    """The authenticated caller (401 without a valid token), when the role table lets them
    do `action` (403 `forbidden` otherwise); the audit middleware records who it was."""
    header = request.headers.get("Authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else ""
    caller = await actor_for_token(request.app[DB], token)
    request[CALLER] = caller
    require(caller, action)
    return caller


def flag(value: str | None) -> bool | None:
    """A yes/no query value; None when absent."""
    if value is None or value == "":
        return None
    if value.lower() in {"1", "true", "yes"}:
        return True
    if value.lower() in {"0", "false", "no"}:
        return False
    raise InvalidInput(f"Not a boolean: {value}", code="invalid_filter")


def member(value: str | None, enum: type[E]) -> E | None:
    """One of an enum's values (a status, a kind); None when absent."""
    if not value:
        return None
    try:
        return enum(value)
    except ValueError as exc:
        name = enum.__name__.lower()
        raise InvalidInput(f"Unknown {name}: {value}", code="invalid_filter") from exc


# Ids, limits, offsets and versions: never negative, and within the database's INTEGER
# (a larger one would fail in the driver, not here).
MAX_NUMBER = 2**31 - 1


def number(value: str | None, default: int) -> int:
    """An integer query or path value from 0 to MAX_NUMBER, or the default when absent;
    400 `invalid_filter` otherwise."""
    try:
        parsed = int(value) if value else default
    except ValueError as exc:
        raise InvalidInput(f"Not a number: {value}", code="invalid_filter") from exc
    if not 0 <= parsed <= MAX_NUMBER:
        raise InvalidInput(f"Out of range: {value}", code="invalid_filter")
    return parsed


def moment(value: str | None) -> datetime | None:
    """An ISO date or time (Vietnam time when no zone is given); None when absent."""
    if not value:
        return None
    try:
        return vietnam_time(datetime.fromisoformat(value))
    except ValueError as exc:  # not ISO, or outside the calendar once in UTC
        raise InvalidInput(f"Not an ISO date: {value}", code="invalid_filter") from exc
