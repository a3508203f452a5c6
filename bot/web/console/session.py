"""Who is logged in to the console, and what they may do: the one helper every page handler
calls first.

    staff = await require_staff(request, Action.READ_CASES)   # 403 page when not allowed

The session is an encrypted cookie (aiohttp-session + cryptography's Fernet): the user's id,
when the session started, when it was last used, and its CSRF token. Nothing in it is
trusted on its own: every request also checks the account on the server (disabled, or
sessions ended after this one started: password changed, account disabled), and the idle and
absolute limits of the settings.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import time
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

import structlog
from aiohttp import web
from aiohttp_session import Session, get_session, new_session
from aiohttp_session.cookie_storage import EncryptedCookieStorage

from bot.domain.actors import Actor
from bot.domain.permissions import Action, allows, require
from bot.domain.roles import Role
from bot.gateway import DB, SETTINGS
from bot.services.passwords import StaffLogin, session_user
from bot.settings import Settings

log = structlog.get_logger(__name__)

COOKIE = "giaitrinh_console"
PREFIX = "/console"
LOGIN = f"{PREFIX}/dang-nhap"
# Request keys: the logged-in staff member and the session's CSRF token, for templates.
STAFF: web.RequestKey[Staff] = web.RequestKey("console_staff")
CSRF: web.RequestKey[str] = web.RequestKey("console_csrf")
EXPIRED_NOW: web.RequestKey[bool] = web.RequestKey("console_expired")

ROLE_NAMES = {Role.ADMIN: "Quản trị", Role.OFFICER: "Cán bộ", Role.OPERATOR: "Tổng đài viên"}
EXPIRED = "Phiên làm việc đã hết hạn hoặc đã kết thúc. Vui lòng đăng nhập lại."


@dataclass(frozen=True, slots=True)
class Staff:
    """The logged-in staff member: the `Actor` the services take, and their display name."""

    actor: Actor
    name: str

    @property
    def role_name(self) -> str:
        """The role as the navigation bar shows it."""
        return ROLE_NAMES[self.actor.role] if self.actor.role else ""

    def may(self, action: Action) -> bool:
        """Whether the role table lets them do `action` (for showing a link or a form)."""
        return allows(self.actor.role, action)


def session_key(settings: Settings) -> bytes:
    """The cookie key from the settings (32 bytes, base64); without one, a key for this
    process only, and a warning that sessions will not survive a restart."""
    text = settings.console_session_key.get_secret_value().strip()
    if not text:
        log.warning(
            "console_session_key_unset",
            effect="a random key for this process: console sessions end at each restart",
            setting="GIAITRINH_CONSOLE_SESSION_KEY",
        )
        return secrets.token_bytes(32)
    try:
        key = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=False)
    except binascii.Error as exc:
        raise ValueError("GIAITRINH_CONSOLE_SESSION_KEY is not base64") from exc
    if len(key) != 32:
        raise ValueError("GIAITRINH_CONSOLE_SESSION_KEY must be 32 bytes (base64 of them)")
    return key


def cookie_storage(settings: Settings) -> EncryptedCookieStorage:
    """HttpOnly, SameSite=Strict, only under /console; Secure when the site is https (on a
    plain http://127.0.0.1 a Secure cookie would never come back)."""
    return EncryptedCookieStorage(
        session_key(settings),
        cookie_name=COOKIE,
        path=PREFIX,
        httponly=True,
        secure=settings.public_url.startswith("https://"),
        samesite="Strict",
        max_age=int(settings.console_session_hours * 3600),
    )


def csrf_token(session: Session) -> str:
    """The session's CSRF token (made on first use)."""
    token = session.get("csrf")
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


def login_url(request: web.Request, expired: bool = False) -> str:
    """The log-in page, coming back here afterwards."""
    back = request.path_qs if request.method == "GET" else f"{PREFIX}/"
    return f"{LOGIN}?next={quote(back, safe='/')}" + ("&het-han=1" if expired else "")


def _to_login(request: web.Request, expired: bool) -> web.HTTPException:
    url = login_url(request, expired)
    if request.headers.get("HX-Request"):  # htmx: the whole page goes to the log-in form
        return web.HTTPUnauthorized(headers={"HX-Redirect": url})
    return web.HTTPSeeOther(url)


async def current_staff(request: web.Request) -> Staff | None:
    """The logged-in staff member, or None (no session, or it has ended: idle, too old,
    password changed, account disabled)."""
    if STAFF in request:
        staff: Staff = request[STAFF]
        return staff
    session = await get_session(request)
    if not isinstance(session.get("uid"), int) or not isinstance(session.get("started"), str):
        return None
    now = time.time()
    found = await _account(request, session, now, idle_ends=True)
    if found is None:
        _end(session)
        request[EXPIRED_NOW] = True
        return None
    session["seen"] = now
    request[STAFF] = Staff(*found)
    return request[STAFF]


async def _account(
    request: web.Request, session: Session, now: float, idle_ends: bool
) -> tuple[Actor, str] | None:
    """The session's account while the session lasts: not idle too long (when idle time
    counts), not older than the absolute limit, and still valid on the server."""
    user_id, started, seen = session.get("uid"), session.get("started"), session.get("seen")
    if not isinstance(user_id, int) or not isinstance(started, str):
        return None
    settings = request.config_dict[SETTINGS]
    began = datetime.fromisoformat(started)
    idle = not isinstance(seen, float | int) or now - seen > settings.console_idle_minutes * 60
    if (idle_ends and idle) or now - began.timestamp() > settings.console_session_hours * 3600:
        return None
    return await session_user(request.config_dict[DB], user_id, began)


async def session_lasts(request: web.Request) -> bool:
    """For a live page's stream: whether its session may still work. Watching counts as
    activity, so idle time does not end it; the account's state and the session's age do."""
    session = await get_session(request)
    return await _account(request, session, time.time(), idle_ends=False) is not None


async def require_staff(request: web.Request, action: Action | None = None) -> Staff:
    """The logged-in staff member when the role table lets them do `action` (any staff when
    None): not logged in → the log-in page; not allowed → the 403 page."""
    staff = await current_staff(request)
    if staff is None:
        raise _to_login(request, expired=bool(request.get(EXPIRED_NOW)))
    if action is not None:
        require(staff.actor, action)
    return staff


def _end(session: Session) -> None:
    """Forget who was logged in; a new CSRF token for what comes next."""
    session.clear()
    csrf_token(session)


async def start_session(request: web.Request, login: StaffLogin) -> None:
    """A fresh session for who just logged in (a new cookie and a new CSRF token, so nothing
    set before the log-in carries over)."""
    session = await new_session(request)
    session["uid"] = login.actor.user_id
    session["started"] = login.started_at.isoformat()
    session["seen"] = time.time()
    request[CSRF] = csrf_token(session)
    request[STAFF] = Staff(login.actor, login.display_name)


async def restart_session(request: web.Request, started_at: datetime) -> None:
    """Keep this session after a password change that ended every other one."""
    session = await get_session(request)
    session["started"] = started_at.isoformat()


async def end_session(request: web.Request) -> None:
    """Log out: the cookie no longer names anyone."""
    session = await get_session(request)
    _end(session)
    request[CSRF] = session["csrf"]
    request.pop(STAFF, None)
