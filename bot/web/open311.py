"""Open data as Open311 GeoReport v2 (/open311/v2): the services, the public cases, and
filing a petition with an API key. Errors in the spec's shape: [{"code", "description"}].

Only JSON is served (a .xml path is 404); jurisdiction_id is ignored (one jurisdiction).
"""

from __future__ import annotations

import functools
import hashlib
import math
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qsl

from aiohttp import web

from bot.domain import open311
from bot.domain.throttle import MemoryThrottle, Rule, Throttle, client_address, limit_key
from bot.errors import Forbidden, GiaitrinhError, InvalidInput, NotFound, RateLimited
from bot.gateway import DB, SETTINGS, json_response, read_object, same_secret
from bot.services import open311 as service

PREFIX = "/open311/v2"
THROTTLE: web.AppKey[Throttle] = web.AppKey("open311_throttle")
POSTS_PER_KEY = "open311_post_per_key"
READS_PER_IP = "open311_read_per_ip"
BAD_KEY = "api_key thiếu hoặc không đúng / missing or invalid api_key."
NOT_FORM = "Dữ liệu gửi lên không hợp lệ / the body is not valid form data (UTF-8)."
NOT_FIELDS = "Mỗi trường là một giá trị / each field must be a single value."
TOO_FAST = "Gửi nhanh quá, đợi {seconds} giây / too many requests, retry in {seconds} s."

# Form-encoded as the spec says; a client that sets no Content-Type gets aiohttp's default.
FORM_TYPES = ("application/x-www-form-urlencoded", "application/octet-stream")

Handler = Callable[[web.Request], Awaitable[web.Response]]


def error(status: int, description: str, headers: dict[str, str] | None = None) -> web.Response:
    """The spec's error document."""
    body = [{"code": status, "description": description}]
    return json_response(body, status=status, headers=headers)


def open311_errors(handler: Handler) -> Handler:
    """Render our errors (and aiohttp's: a body too large) as the spec's error array."""

    @functools.wraps(handler)
    async def wrapped(request: web.Request) -> web.Response:
        try:
            response = await handler(request)
        except RateLimited as exc:
            response = error(429, exc.message, {"Retry-After": str(exc.retry_after)})
        except GiaitrinhError as exc:
            response = error(exc.http_status, exc.message)
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            response = error(exc.status, exc.reason)
        if request.method == "GET":  # open data: any web page may read it (no credentials)
            response.headers["Access-Control-Allow-Origin"] = "*"
        return response

    return wrapped


def memory_throttle(request_app: web.Application) -> MemoryThrottle:
    """Open311's limits, kept in this process."""
    s = request_app[SETTINGS]
    return MemoryThrottle(
        {
            POSTS_PER_KEY: Rule(s.open311_posts_per_key_per_min, s.open311_posts_per_key_burst),
            READS_PER_IP: Rule(s.open311_reads_per_ip_per_min, s.open311_reads_per_ip_burst),
        },
        max_keys=s.web_limit_max_keys,
    )


async def _limit(request: web.Request, rule: str, who: str) -> None:
    wait = await request.app[THROTTLE].take([(rule, who)])
    if wait > 0:
        seconds = max(1, math.ceil(wait))
        raise RateLimited(TOO_FAST.format(seconds=seconds), retry_after=seconds)


async def _limit_reads(request: web.Request) -> None:
    settings = request.app[SETTINGS]
    forwarded = request.headers.get("X-Forwarded-For")
    who = limit_key(client_address(request.remote, forwarded, settings.trusted_proxies))
    await _limit(request, READS_PER_IP, who)


@open311_errors
async def services(request: web.Request) -> web.Response:
    """GET services.json: the services (kinds of case) the public may see and file."""
    await _limit_reads(request)
    return json_response([s.as_json() for s in open311.SERVICES.values()])


@open311_errors
async def service_definition(request: web.Request) -> web.Response:
    """GET services/{code}.json: the attributes of a service (the consent to publish)."""
    await _limit_reads(request)
    svc = open311.SERVICES.get(request.match_info["code"])
    if svc is None:
        raise NotFound("Không có dịch vụ này / unknown service_code.", code="unknown_service")
    return json_response(open311.definition(svc))


@open311_errors
async def requests_list(request: web.Request) -> web.Response:
    """GET requests.json?service_request_id=&service_code=&start_date=&end_date=&status="""
    await _limit_reads(request)
    return json_response(await service.find_requests(request.app[DB], dict(request.query)))


@open311_errors
async def request_one(request: web.Request) -> web.Response:
    """GET requests/{id}.json: an array with the one public request."""
    await _limit_reads(request)
    doc = await service.public_request(request.app[DB], request.match_info["id"])
    return json_response([doc])


async def _fields(request: web.Request) -> dict[str, str]:
    """A POST's fields: form-encoded as the spec says, or a JSON object of strings."""
    if request.content_type == "application/json":
        data = await read_object(request)
        nested = data.pop("attribute", None)  # {"attribute": {"public": "yes"}} as well
        if isinstance(nested, dict):
            data.update({f"attribute[{k}]": v for k, v in nested.items()})
        if any(isinstance(v, dict | list) for v in data.values()):
            raise InvalidInput(NOT_FIELDS, code="invalid_body")
        return {k: v if isinstance(v, str) else str(v) for k, v in data.items() if v is not None}
    if request.content_type not in FORM_TYPES:
        raise InvalidInput(NOT_FORM, code="invalid_body")
    raw = await request.read()
    try:
        pairs = parse_qsl(raw.decode("utf-8"), keep_blank_values=True, errors="strict")
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidInput(NOT_FORM, code="invalid_body") from exc
    fields = dict(pairs)
    if any("\x00" in k or "\x00" in v for k, v in fields.items()):
        raise InvalidInput(NOT_FORM, code="invalid_body")
    return fields


def _known_key(given: str, configured: str) -> bool:
    """`given` is one of the configured keys (each compared in constant time, all of them)."""
    keys = [k.strip() for k in configured.split(",") if k.strip()]
    return bool(given) and sum(same_secret(given, k) for k in keys) > 0


@open311_errors
async def post_request(request: web.Request) -> web.Response:
    """POST requests.json: file a petition (api_key required); 201 with its id."""
    fields = await _fields(request)
    settings = request.app[SETTINGS]
    given = fields.get("api_key", "")
    if not _known_key(given, settings.open311_api_keys.get_secret_value()):
        raise Forbidden(BAD_KEY, code="invalid_api_key")
    digest = hashlib.sha256(given.encode()).hexdigest()
    await _limit(request, POSTS_PER_KEY, digest[:32])
    filed = await service.file_request(
        request.app[DB], fields, settings.petition_days, client=digest[:8]
    )
    notice = open311.filed_notice(filed.due_at)
    body = [{"service_request_id": filed.display_code, "service_notice": notice}]
    return json_response(body, status=201)


@open311_errors
async def unknown(request: web.Request) -> web.Response:
    """Anything else under the prefix (XML among it): the spec's 404."""
    raise NotFound("Không có tài nguyên này; chỉ phục vụ .json / not found (JSON only).")


def setup(app: web.Application) -> None:
    """Mount the Open311 routes."""
    app[THROTTLE] = memory_throttle(app)
    app.router.add_get(f"{PREFIX}/services.json", services)
    app.router.add_get(f"{PREFIX}/services/{{code}}.json", service_definition)
    app.router.add_get(f"{PREFIX}/requests.json", requests_list)
    app.router.add_post(f"{PREFIX}/requests.json", post_request)
    app.router.add_get(f"{PREFIX}/requests/{{id}}.json", request_one)
    app.router.add_route("*", f"{PREFIX}/{{tail:.*}}", unknown)
