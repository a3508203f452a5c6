"""Case routes of the agencies' REST API (/api/v1/cases, notices, satisfaction, gaps)."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, Field

from bot.domain.cases import Kind, Status
from bot.domain.localities import by_code
from bot.domain.permissions import Action
from bot.errors import InvalidInput
from bot.gateway import DB, SETTINGS, json_response, read_json
from bot.services import case_queries, ratings
from bot.services import cases as case_service
from bot.services.case_queries import CaseFilter
from bot.services.gaps import gap_groups
from bot.services.notices import notices_for
from bot.web.params import actor, flag, member, moment, number


class TransitionBody(BaseModel):
    """POST /cases/{code}/transition: the status to move to and the reason or answer."""

    to: str
    note: str = ""


class AssignBody(BaseModel):
    """POST /cases/{code}/assign: the officer who takes the case."""

    username: str = Field(min_length=1, max_length=80)


async def list_cases(request: web.Request) -> web.Response:
    """GET /api/v1/cases?status=&kind=&agency_id=&overdue=&due_before=&q=&limit=&offset="""
    caller = await actor(request, Action.READ_CASES)
    q = request.query
    agency_id = number(q.get("agency_id"), 0) or None
    f = CaseFilter(
        status=member(q.get("status"), Status),
        kind=member(q.get("kind"), Kind),
        agency_id=agency_id,
        overdue=flag(q.get("overdue")),
        due_before=moment(q.get("due_before")),
        text=q.get("q") or None,
        limit=number(q.get("limit"), 50),
        offset=number(q.get("offset"), 0),
    )
    total, rows = await case_queries.list_cases(request.app[DB], f, caller)
    return json_response({"total": total, "cases": [r.as_json() for r in rows]})


async def get_case(request: web.Request) -> web.Response:
    """GET /api/v1/cases/{code}: the case and its audit trail."""
    caller = await actor(request, Action.READ_CASES)
    view = await case_queries.get_case(request.app[DB], request.match_info["code"], caller)
    return json_response(view.as_json())


async def transition(request: web.Request) -> web.Response:
    """POST /api/v1/cases/{code}/transition {"to": status, "note": reason or answer}"""
    caller = await actor(request, Action.CHANGE_CASES)
    body = await read_json(request, TransitionBody)
    view = await case_service.transition_case(
        request.app[DB],
        request.match_info["code"],
        body.to,
        caller,
        body.note,
        petition_days=request.app[SETTINGS].petition_days,
    )
    return json_response(view.as_json())


async def assign(request: web.Request) -> web.Response:
    """POST /api/v1/cases/{code}/assign {"username": officer}"""
    caller = await actor(request, Action.ASSIGN_CASES)
    body = await read_json(request, AssignBody)
    view = await case_service.assign_case(
        request.app[DB], request.match_info["code"], body.username, caller
    )
    return json_response(view.as_json())


async def satisfaction(request: web.Request) -> web.Response:
    """GET /api/v1/satisfaction: the satisfaction index of the caller's agency."""
    caller = await actor(request, Action.READ_SATISFACTION)
    scope = None if caller.sees_every_agency else caller.agency_id
    index = await ratings.satisfaction(request.app[DB], scope)
    return json_response(index.as_json())


async def gaps(request: web.Request) -> web.Response:
    """GET /api/v1/gaps?since=&locality=: the newest unanswered and unhelpful questions the
    caller's agency may see, grouped by similarity, with where they come from (when the
    citizen told us their place); phone and ID numbers hidden."""
    caller = await actor(request, Action.READ_GAPS)
    locality = request.query.get("locality") or None
    if locality is not None and by_code(locality) is None:
        raise InvalidInput(f"Unknown locality {locality!r}.", code="invalid_locality")
    groups = await gap_groups(
        request.app[DB], caller, since=moment(request.query.get("since")), locality=locality
    )
    return json_response({"groups": [g.as_json() for g in groups]})


async def notices(request: web.Request) -> web.Response:
    """GET /api/v1/notices: the caller's deadline notices (due soon, overdue), newest first."""
    caller = await actor(request, Action.READ_NOTICES)
    rows = await notices_for(request.app[DB], caller.user_id)
    return json_response({"notices": [n.as_json() for n in rows]})


def setup(app: web.Application) -> None:
    """Mount the case routes."""
    app.router.add_get("/api/v1/cases", list_cases)
    app.router.add_get("/api/v1/cases/{code}", get_case)
    app.router.add_post("/api/v1/cases/{code}/transition", transition)
    app.router.add_post("/api/v1/cases/{code}/assign", assign)
    app.router.add_get("/api/v1/satisfaction", satisfaction)
    app.router.add_get("/api/v1/gaps", gaps)
    app.router.add_get("/api/v1/notices", notices)
