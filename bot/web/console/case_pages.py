"""Case screens: the filtered, paged list; one case with the citizen's words, the audit trail,
the rating, and the changes the status machine allows as forms. Changes go through the same
services as the API (bot/services/cases.py), so the citizen is notified exactly the same way."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

from aiohttp import web

from bot.domain.cases import Kind, Status
from bot.domain.permissions import Action
from bot.domain.roles import Role
from bot.errors import InvalidInput, InvalidTransition
from bot.gateway import DB, SETTINGS
from bot.services import case_queries
from bot.services import cases as case_service
from bot.services.case_queries import CaseFilter, CaseView
from bot.services.users import list_users
from bot.web.console.render import render
from bot.web.console.session import PREFIX, Staff, require_staff
from bot.web.console.views import KIND_NAMES, STAFF_STATUS, steps_for
from bot.web.params import member, number

PAGE_SIZE = 20
DEADLINES = {"sap-han": "Sắp đến hạn", "qua-han": "Quá hạn"}


def _filter(request: web.Request) -> tuple[CaseFilter, dict[str, str], int]:
    """The list's filters from the query (bad values: 400 page), and the page number."""
    q = request.query
    due = q.get("han", "")
    if due and due not in DEADLINES:
        raise InvalidInput("Bộ lọc hạn xử lý không hợp lệ.", code="invalid_filter")
    page = max(1, number(q.get("trang"), 1))
    soon = request.config_dict[SETTINGS].due_soon_hours
    f = CaseFilter(
        status=member(q.get("trang-thai"), Status),
        kind=member(q.get("loai"), Kind),
        overdue=True if due == "qua-han" else None,
        due_before=datetime.now(UTC) + timedelta(hours=soon) if due == "sap-han" else None,
        text=q.get("q", "").strip() or None,
        limit=PAGE_SIZE,
        offset=(page - 1) * PAGE_SIZE,
    )
    shown = {k: q.get(k, "") for k in ("trang-thai", "loai", "han", "q")}
    return f, shown, page


async def case_list(request: web.Request) -> web.Response:
    """GET /console/ho-so?trang-thai=&loai=&han=sap-han|qua-han&q=&trang="""
    staff = await require_staff(request, Action.READ_CASES)
    f, shown, page = _filter(request)
    total, rows = await case_queries.list_cases(request.config_dict[DB], f, staff.actor)
    pages = max(1, -(-total // PAGE_SIZE))
    kept = {k: v for k, v in shown.items() if v}

    def page_url(n: int) -> str:
        return f"{PREFIX}/ho-so?" + urlencode({**kept, "trang": n})

    context = {
        "title": "Hồ sơ",
        "cases": rows,
        "total": total,
        "page": page,
        "pages": pages,
        "prev_url": page_url(page - 1) if page > 1 else "",
        "next_url": page_url(page + 1) if page < pages else "",
        "shown": shown,
        "statuses": STAFF_STATUS,
        "kinds": KIND_NAMES,
        "deadlines": DEADLINES,
        "now": datetime.now(UTC),
    }
    return render(request, "cases.html", context)


async def _officers(request: web.Request, view: CaseView) -> list[str]:
    """Who a case may be given to: the officers (and admins) of its agency still active."""
    accounts = await list_users(request.config_dict[DB])
    return [
        a.username
        for a in accounts
        if a.agency == view.agency and a.role is not Role.OPERATOR and not a.disabled
    ]


async def _case_page(
    request: web.Request,
    staff: Staff,
    view: CaseView,
    *,
    error: str = "",
    note: str = "",
    status: int = 200,
) -> web.Response:
    change = staff.may(Action.CHANGE_CASES)
    context: dict[str, Any] = {
        "title": f"Hồ sơ {view.as_json()['code']}",
        "case": view,
        "steps": steps_for(staff.actor, view.kind, view.status, view.extensions) if change else [],
        "officers": await _officers(request, view) if staff.may(Action.ASSIGN_CASES) else [],
        "links": [_link(a) for a in view.attachments],
        "error": error,
        "note": note,
        "done": request.query.get("xong", ""),
        "now": datetime.now(UTC),
    }
    return render(request, "case.html", context, status=status)


def _link(attachment: Any) -> dict[str, str]:
    """An attachment as stored (a reference, never a file): a link only for http(s) URLs,
    so a stored `javascript:` reference is shown as text."""
    if isinstance(attachment, dict):
        url = str(attachment.get("url") or "")
        text = ", ".join(f"{k}: {v}" for k, v in attachment.items() if k != "url")
    else:
        url, text = "", str(attachment)
    safe = url if url.startswith(("https://", "http://")) else ""
    return {"url": safe, "text": text or url, "raw_url": "" if safe else url}


async def case_page(request: web.Request) -> web.Response:
    """GET /console/ho-so/{code}: another agency's case is 404, like an unknown code (as
    the API answers: its existence is not revealed)."""
    staff = await require_staff(request, Action.READ_CASES)
    view = await case_queries.get_case(
        request.config_dict[DB], request.match_info["code"], staff.actor
    )
    return await _case_page(request, staff, view)


def _back(code: str, done: str) -> web.HTTPSeeOther:
    return web.HTTPSeeOther(f"{PREFIX}/ho-so/{quote(code)}?xong={quote(done)}")


async def transition(request: web.Request) -> web.Response:
    """POST /console/ho-so/{code}/chuyen (to, note): a refusal by the status machine shows
    the case again with the reason and the typed note kept."""
    staff = await require_staff(request, Action.CHANGE_CASES)
    form = await request.post()
    to, note = str(form.get("to", "")), str(form.get("note", ""))
    db, code = request.config_dict[DB], request.match_info["code"]
    days = request.config_dict[SETTINGS].petition_days
    try:
        view = await case_service.transition_case(
            db, code, to, staff.actor, note, petition_days=days
        )
    except (InvalidTransition, InvalidInput) as exc:
        view = await case_queries.get_case(db, code, staff.actor)
        status = 409 if isinstance(exc, InvalidTransition) else 400
        return await _case_page(request, staff, view, error=exc.message, note=note, status=status)
    raise _back(view.as_json()["code"], view.status.value)


async def assign(request: web.Request) -> web.Response:
    """POST /console/ho-so/{code}/giao (username)"""
    staff = await require_staff(request, Action.ASSIGN_CASES)
    form = await request.post()
    db, code = request.config_dict[DB], request.match_info["code"]
    try:
        view = await case_service.assign_case(db, code, str(form.get("username", "")), staff.actor)
    except InvalidInput as exc:
        view = await case_queries.get_case(db, code, staff.actor)
        return await _case_page(request, staff, view, error=exc.message, status=400)
    raise _back(view.as_json()["code"], "giao")


def setup(console: web.Application) -> None:
    """Mount the case screens."""
    console.router.add_get("/ho-so", case_list)
    console.router.add_get("/ho-so/{code}", case_page)
    console.router.add_post("/ho-so/{code}/chuyen", transition)
    console.router.add_post("/ho-so/{code}/giao", assign)
