"""The console's middlewares and log-in limits: a CSRF token checked on every state-changing
request, errors shown as Vietnamese pages (not the API's JSON), and token buckets on log-in
attempts per username and per client address (bot/domain/throttle.py)."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import math
from collections.abc import Awaitable, Callable

import structlog
from aiohttp import web
from aiohttp_session import get_session

from bot.domain.throttle import MemoryThrottle, Rule, Throttle, client_address, limit_key
from bot.errors import Forbidden, GiaitrinhError, RateLimited
from bot.gateway import SETTINGS
from bot.settings import Settings
from bot.web.console.render import render
from bot.web.console.session import CSRF, PREFIX, csrf_token, current_staff

log = structlog.get_logger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

LOGIN_THROTTLE: web.AppKey[Throttle] = web.AppKey("console_login_throttle")
LOGINS_PER_USER = "console_login_per_user"
LOGINS_PER_IP = "console_login_per_ip"
TOO_MANY_LOGINS = "Đăng nhập sai quá nhiều lần. Vui lòng đợi {seconds} giây rồi thử lại."

CSRF_FIELD = "csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_REFUSED = (
    "Biểu mẫu này không còn hợp lệ (thiếu hoặc sai mã chống giả mạo). "
    "Vui lòng tải lại trang rồi thử lại."
)

TITLES = {
    400: "Yêu cầu không hợp lệ",
    401: "Chưa đăng nhập",
    403: "Không được phép",
    404: "Không tìm thấy",
    405: "Không được phép",
    409: "Không thực hiện được",
    429: "Quá nhiều lần thử",
    500: "Lỗi hệ thống",
}
NOT_FOUND = "Không tìm thấy trang này."
INTERNAL = "Lỗi hệ thống, vui lòng thử lại sau."


def login_throttle(settings: Settings) -> MemoryThrottle:
    """Log-in attempts, kept in this process (several gateways: a shared store behind the
    same port)."""
    rules = {
        LOGINS_PER_USER: Rule(
            settings.console_logins_per_user_per_min, settings.console_logins_per_user_burst
        ),
        LOGINS_PER_IP: Rule(
            settings.console_logins_per_ip_per_min, settings.console_logins_per_ip_burst
        ),
    }
    return MemoryThrottle(rules, max_keys=settings.web_limit_max_keys)


async def limit_login(request: web.Request, username: str) -> None:
    """Raise RateLimited when this username, or this address, tries too often: a guess
    spends from both, so spreading guesses over addresses or usernames does not help."""
    settings = request.config_dict[SETTINGS]
    address = client_address(
        request.remote, request.headers.get("X-Forwarded-For"), settings.trusted_proxies
    )
    # A digest: the store's keys are never what someone typed.
    user_key = hashlib.sha256(username.strip().casefold().encode()).hexdigest()[:32]
    keys = [(LOGINS_PER_USER, user_key), (LOGINS_PER_IP, limit_key(address))]
    wait = await request.app[LOGIN_THROTTLE].take(keys)
    if wait > 0:
        seconds = max(1, math.ceil(wait))
        raise RateLimited(TOO_MANY_LOGINS.format(seconds=seconds), retry_after=seconds)


async def error_page(request: web.Request, status: int, message: str) -> web.Response:
    """A console error as a page in the console's layout (with the navigation bar when
    someone is logged in)."""
    if status != 500:
        with contextlib.suppress(GiaitrinhError):
            await current_staff(request)
    context = {"title": TITLES.get(status, "Lỗi"), "message": message, "status": status}
    return render(request, "error.html", context, status=status)


@web.middleware
async def error_pages(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Domain errors and HTTP errors as pages; redirects pass through."""
    try:
        return await handler(request)
    except GiaitrinhError as exc:
        response = await error_page(request, exc.http_status, exc.message)
        if isinstance(exc, RateLimited):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response
    except web.HTTPException as exc:
        if exc.status < 400 or "HX-Redirect" in exc.headers:
            raise
        message = NOT_FOUND if exc.status == 404 else exc.reason
        return await error_page(request, exc.status, message)
    except Exception:
        log.exception("console_error", path=request.path)
        return await error_page(request, 500, INTERNAL)


@web.middleware
async def csrf_check(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every state-changing request carries the session's CSRF token: a form's hidden
    field, or htmx's header (set on <body> with hx-headers). 403 page otherwise."""
    if request.path.startswith(f"{PREFIX}/static/"):
        return await handler(request)
    session = await get_session(request)
    expected = csrf_token(session)
    request[CSRF] = expected
    if request.method not in SAFE_METHODS:
        given = request.headers.get(CSRF_HEADER)
        if given is None and request.content_type in (
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        ):
            field = (await request.post()).get(CSRF_FIELD)
            given = field if isinstance(field, str) else None
        if given is None or not hmac.compare_digest(
            given.encode("utf-8", "surrogateescape"), expected.encode()
        ):
            log.info("console_csrf_refused", path=request.path, method=request.method)
            raise Forbidden(CSRF_REFUSED, code="csrf_failed")
    return await handler(request)
