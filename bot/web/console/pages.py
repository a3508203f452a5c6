"""The console's other screens: the published explanations, the questions the bot could not
answer, and the accounts (the queue is bot/web/console/handoff_pages.py)."""

from __future__ import annotations

from aiohttp import web

from bot.domain.permissions import Action
from bot.gateway import DB
from bot.services.explanations import current_explanations
from bot.services.gaps import gap_groups
from bot.services.users import list_users
from bot.web.console.render import render
from bot.web.console.session import ROLE_NAMES as STAFF_ROLE_NAMES
from bot.web.console.session import require_staff


async def explanations(request: web.Request) -> web.Response:
    """GET /console/bai-giai-trinh: what the bot answers from, newest first."""
    await require_staff(request, Action.READ_EXPLANATIONS)
    items = await current_explanations(request.config_dict[DB])
    context = {"title": "Bài giải trình", "items": items}
    return render(request, "explanations.html", context)


async def gaps(request: web.Request) -> web.Response:
    """GET /console/cau-hoi-chua-tra-loi: questions to write explanations for (phone and ID
    numbers hidden by the service)."""
    staff = await require_staff(request, Action.READ_GAPS)
    groups = await gap_groups(request.config_dict[DB], staff.actor)
    context = {"title": "Câu hỏi chưa trả lời", "groups": groups}
    return render(request, "gaps.html", context)


async def accounts(request: web.Request) -> web.Response:
    """GET /console/tai-khoan: the staff accounts (created with `giaitrinh user create`)."""
    await require_staff(request, Action.MANAGE_USERS)
    users = await list_users(request.config_dict[DB])
    context = {"title": "Tài khoản", "users": users, "roles": STAFF_ROLE_NAMES}
    return render(request, "accounts.html", context)


def setup(console: web.Application) -> None:
    """Mount the screens."""
    console.router.add_get("/bai-giai-trinh", explanations)
    console.router.add_get("/cau-hoi-chua-tra-loi", gaps)
    console.router.add_get("/tai-khoan", accounts)
