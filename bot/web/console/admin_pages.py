"""Administration screens (admins: `manage_users`, which also covers agencies): staff
accounts — create one, disable one, issue a set-password link, shown once and never stored
(bot/services/passwords.py) — and agencies with their contact and office hours, which the
handoff offer tells citizens (bot/services/agencies.py)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from aiohttp import web

from bot.domain.permissions import Action
from bot.domain.roles import Role
from bot.errors import InvalidInput
from bot.gateway import DB, SETTINGS
from bot.services import agencies
from bot.services.agencies import AgencyEdit
from bot.services.passwords import create_account, disable_user, issue_password_link
from bot.services.users import list_users
from bot.web.console.render import render
from bot.web.console.session import PREFIX, ROLE_NAMES, Staff, require_staff


def _link(request: web.Request, token: str) -> str:
    """The set-password address, as `giaitrinh user password-link` prints it."""
    settings = request.config_dict[SETTINGS]
    base = settings.public_url.rstrip("/") or f"{request.scheme}://{request.host}"
    return f"{base}{PREFIX}/dat-mat-khau/{token}"


async def _accounts(
    request: web.Request,
    staff: Staff,
    *,
    link: tuple[str, str] | None = None,
    error: str = "",
    typed: dict[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    db = request.config_dict[DB]
    context: dict[str, Any] = {
        "title": "Tài khoản",
        "users": await list_users(db),
        "roles": ROLE_NAMES,
        "agencies": await agencies.list_agencies(db),
        "link": link,
        "error": error,
        "typed": typed or {},
        "done": request.query.get("xong", ""),
        "me": staff.actor.name,
    }
    response = render(request, "accounts.html", context, status=status)
    if link is not None:  # shown once: not kept by the browser's cache either
        response.headers["Cache-Control"] = "no-store"
    return response


async def accounts(request: web.Request) -> web.Response:
    """GET /console/tai-khoan: the staff accounts and the form to add one."""
    staff = await require_staff(request, Action.MANAGE_USERS)
    return await _accounts(request, staff)


async def create(request: web.Request) -> web.Response:
    """POST /console/tai-khoan (username, display_name, role, agency): the new account's
    set-password link is shown once; nobody types or sees a password for someone else."""
    staff = await require_staff(request, Action.MANAGE_USERS)
    form = await request.post()
    typed = {k: str(form.get(k, "")) for k in ("username", "display_name", "role", "agency")}
    role = typed["role"] if typed["role"] in {r.value for r in Role} else ""
    try:
        if not role:
            raise InvalidInput("Hãy chọn vai trò.", code="invalid_role")
        token = await create_account(
            request.config_dict[DB],
            typed["username"],
            role,
            typed["agency"],
            typed["display_name"],
        )
    except InvalidInput as exc:
        return await _accounts(request, staff, error=exc.message, typed=typed, status=400)
    username = typed["username"].strip()
    return await _accounts(request, staff, link=(username, _link(request, token)))


async def new_link(request: web.Request) -> web.Response:
    """POST /console/tai-khoan/{username}/lien-ket: a fresh set-password link (the previous
    one stops working), shown once."""
    staff = await require_staff(request, Action.MANAGE_USERS)
    username = request.match_info["username"]
    token = await issue_password_link(request.config_dict[DB], username)
    return await _accounts(request, staff, link=(username, _link(request, token)))


async def disable(request: web.Request) -> web.Response:
    """POST /console/tai-khoan/{username}/khoa: no log-in, session or token from now on."""
    staff = await require_staff(request, Action.MANAGE_USERS)
    username = request.match_info["username"]
    if username == staff.actor.name:
        return await _accounts(
            request, staff, error="Không thể tự khóa tài khoản của mình.", status=400
        )
    await disable_user(request.config_dict[DB], username)
    raise web.HTTPSeeOther(f"{PREFIX}/tai-khoan?xong={quote(username)}")


async def agency_list(request: web.Request) -> web.Response:
    """GET /console/co-quan: the agencies and the form to add one."""
    await require_staff(request, Action.MANAGE_USERS)
    return await _agencies(request)


async def _agencies(
    request: web.Request, error: str = "", typed: dict[str, str] | None = None, status: int = 200
) -> web.Response:
    context = {
        "title": "Cơ quan",
        "agencies": await agencies.list_agencies(request.config_dict[DB]),
        "error": error,
        "typed": typed or {},
    }
    return render(request, "agencies.html", context, status=status)


def _edit(form: Any) -> tuple[dict[str, str], AgencyEdit]:
    typed = {k: str(form.get(k, "")) for k in ("slug", "name", "contact", "office_hours")}
    return typed, AgencyEdit(typed["name"], typed["contact"], typed["office_hours"])


async def create_agency(request: web.Request) -> web.Response:
    """POST /console/co-quan (slug, name, contact, office_hours)."""
    await require_staff(request, Action.MANAGE_USERS)
    typed, edit = _edit(await request.post())
    try:
        made = await agencies.create_agency(request.config_dict[DB], typed["slug"], edit)
    except InvalidInput as exc:
        return await _agencies(request, exc.message, typed, status=400)
    raise web.HTTPSeeOther(f"{PREFIX}/co-quan/{quote(made.slug)}?xong=1")


async def agency_page(request: web.Request) -> web.Response:
    """GET /console/co-quan/{slug}: the agency's name, contact and office hours, editable."""
    await require_staff(request, Action.MANAGE_USERS)
    found = await agencies.get_agency(request.config_dict[DB], request.match_info["slug"])
    typed = {"name": found.name, "contact": found.contact, "office_hours": found.office_hours}
    return _agency(request, found.slug, typed, done=bool(request.query.get("xong")))


def _agency(
    request: web.Request,
    slug: str,
    typed: dict[str, str],
    *,
    error: str = "",
    done: bool = False,
    status: int = 200,
) -> web.Response:
    context: dict[str, Any] = {"title": f"Cơ quan {typed['name']}", "slug": slug, "typed": typed}
    context.update(error=error, done=done)
    return render(request, "agency.html", context, status=status)


async def update_agency(request: web.Request) -> web.Response:
    """POST /console/co-quan/{slug}: a wrong value shows the form again, nothing stored."""
    await require_staff(request, Action.MANAGE_USERS)
    slug = request.match_info["slug"]
    typed, edit = _edit(await request.post())
    try:
        await agencies.update_agency(request.config_dict[DB], slug, edit)
    except InvalidInput as exc:
        return _agency(request, slug, typed, error=exc.message, status=400)
    raise web.HTTPSeeOther(f"{PREFIX}/co-quan/{quote(slug)}?xong=1")


def setup(console: web.Application) -> None:
    """Mount the administration screens."""
    console.router.add_get("/tai-khoan", accounts)
    console.router.add_post("/tai-khoan", create)
    console.router.add_post("/tai-khoan/{username}/lien-ket", new_link)
    console.router.add_post("/tai-khoan/{username}/khoa", disable)
    console.router.add_get("/co-quan", agency_list)
    console.router.add_post("/co-quan", create_agency)
    console.router.add_get("/co-quan/{slug}", agency_page)
    console.router.add_post("/co-quan/{slug}", update_agency)
