"""Log-in, log-out, setting a password through a link, and changing one's own password."""

from __future__ import annotations

from aiohttp import web

from bot.domain.roles import Role
from bot.errors import InvalidInput, NotFound, Unauthorized
from bot.gateway import DB
from bot.services import passwords
from bot.web.console.guard import limit_login
from bot.web.console.render import form_fields, render
from bot.web.console.session import (
    LOGIN,
    PREFIX,
    current_staff,
    end_session,
    require_staff,
    restart_session,
    start_session,
)

EXPIRED = "Phiên làm việc đã hết hạn hoặc đã kết thúc. Vui lòng đăng nhập lại."
LOGGED_OUT = "Anh/chị đã đăng xuất."
PASSWORD_SET = "Đã đặt mật khẩu. Anh/chị đăng nhập bằng mật khẩu mới."  # noqa: S105
PASSWORD_CHANGED = "Đã đổi mật khẩu. Các phiên đăng nhập khác đã kết thúc."  # noqa: S105
DIFFERENT = "Hai lần nhập mật khẩu mới không giống nhau."


def home_of(role: Role | None) -> str:
    """Where a staff member lands: operators on the queue, the others on the cases."""
    return f"{PREFIX}/hang-cho" if role is Role.OPERATOR else f"{PREFIX}/ho-so"


def _next(request: web.Request, fallback: str) -> str:
    """Where to go after logging in: only a console page of this site (no open redirect)."""
    target = request.query.get("next", "")
    if target.startswith(f"{PREFIX}/") and not target.startswith("//") and "\\" not in target:
        return target
    return fallback


async def index(request: web.Request) -> web.Response:
    """/console/: the staff member's home page."""
    staff = await require_staff(request)
    raise web.HTTPSeeOther(home_of(staff.actor.role))


async def login_page(request: web.Request) -> web.Response:
    """GET /console/dang-nhap"""
    staff = await current_staff(request)
    if staff is not None:
        raise web.HTTPSeeOther(_next(request, home_of(staff.actor.role)))
    notice = ""
    if request.query.get("het-han"):
        notice = EXPIRED
    elif request.query.get("da-dang-xuat"):
        notice = LOGGED_OUT
    elif request.query.get("da-dat-mat-khau"):
        notice = PASSWORD_SET
    context = {"notice": notice, "error": "", "username": "", "title": "Đăng nhập"}
    return render(request, "login.html", context)


async def login(request: web.Request) -> web.Response:
    """POST /console/dang-nhap: every attempt spends from the username's and the address's
    allowance; a wrong name, password or disabled account all read the same."""
    form = await form_fields(request)
    username = form.get("username", "").strip()
    await limit_login(request, username)
    try:
        signed_in = await passwords.log_in(
            request.config_dict[DB], username, form.get("password", "")
        )
    except Unauthorized as exc:
        context = {"notice": "", "error": exc.message, "username": username, "title": "Đăng nhập"}
        return render(request, "login.html", context, status=401)
    await start_session(request, signed_in)
    raise web.HTTPSeeOther(_next(request, home_of(signed_in.actor.role)))


async def logout(request: web.Request) -> web.Response:
    """POST /console/dang-xuat"""
    await end_session(request)
    raise web.HTTPSeeOther(f"{LOGIN}?da-dang-xuat=1")


async def set_password_page(request: web.Request) -> web.Response:
    """GET /console/dat-mat-khau/{token}: the form, while the link is valid."""
    username = await passwords.link_owner(request.config_dict[DB], request.match_info["token"])
    context = {"username": username, "error": "", "title": "Đặt mật khẩu"}
    return render(request, "set_password.html", context)


async def set_password(request: web.Request) -> web.Response:
    """POST /console/dat-mat-khau/{token}: the link is used up; every session of the account
    ends; the staff member logs in with the new password."""
    db = request.config_dict[DB]
    token = request.match_info["token"]
    form = await form_fields(request)
    username = await passwords.link_owner(db, token)
    try:
        if form.get("password", "") != form.get("again", ""):
            raise InvalidInput(DIFFERENT, code="passwords_differ")
        await passwords.use_password_link(db, token, form.get("password", ""))
    except InvalidInput as exc:
        context = {"username": username, "error": exc.message, "title": "Đặt mật khẩu"}
        return render(request, "set_password.html", context, status=400)
    await end_session(request)
    raise web.HTTPSeeOther(f"{LOGIN}?da-dat-mat-khau=1")


async def password_page(request: web.Request) -> web.Response:
    """GET /console/mat-khau: change one's own password."""
    await require_staff(request)
    done = PASSWORD_CHANGED if request.query.get("xong") else ""
    context = {"error": "", "notice": done, "title": "Đổi mật khẩu"}
    return render(request, "password.html", context)


async def change_password(request: web.Request) -> web.Response:
    """POST /console/mat-khau: the current password again, the new one twice; the other
    sessions of the account end, this one goes on."""
    staff = await require_staff(request)
    form = await form_fields(request)
    user_id = staff.actor.user_id
    try:
        if form.get("password", "") != form.get("again", ""):
            raise InvalidInput(DIFFERENT, code="passwords_differ")
        if user_id is None:  # staff always have an id; a citizen never reaches here
            raise NotFound("Không có tài khoản.", code="user_not_found")
        started = await passwords.change_password(
            request.config_dict[DB], user_id, form.get("current", ""), form.get("password", "")
        )
    except InvalidInput as exc:
        context = {"error": exc.message, "notice": "", "title": "Đổi mật khẩu"}
        return render(request, "password.html", context, status=400)
    await restart_session(request, started)
    raise web.HTTPSeeOther(f"{PREFIX}/mat-khau?xong=1")


def setup(console: web.Application) -> None:
    """Mount the log-in pages."""
    console.router.add_get("/", index)
    console.router.add_get("/dang-nhap", login_page)
    console.router.add_post("/dang-nhap", login)
    console.router.add_post("/dang-xuat", logout)
    console.router.add_get("/dat-mat-khau/{token}", set_password_page)
    console.router.add_post("/dat-mat-khau/{token}", set_password)
    console.router.add_get("/mat-khau", password_page)
    console.router.add_post("/mat-khau", change_password)
