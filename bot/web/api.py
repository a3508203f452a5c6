"""REST API for agencies under /api/v1/ (bearer-token auth, scoped to the caller's agency)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from aiohttp import web
from sqlalchemy import select

from bot.domain.codes import display
from bot.domain.deadlines import VN_TZ
from bot.domain.localities import by_code
from bot.errors import Forbidden, InvalidInput
from bot.services import cases as case_service
from bot.services import explanations
from bot.services.cases import Actor, CaseFilter
from bot.services.gaps import gap_groups
from bot.services.users import actor_for_token
from bot.store.models import Case, OfficerNotice
from bot.web.keys import DB, SETTINGS


async def _actor(request: web.Request) -> Actor:
    header = request.headers.get("Authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else ""
    return await actor_for_token(request.app[DB], token)


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        body = json.loads((await request.read()).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput("Body must be JSON.", code="invalid_json") from exc
    if not isinstance(body, dict):
        raise InvalidInput("Body must be a JSON object.", code="invalid_json")
    return body


def _bool(value: str | None) -> bool | None:
    if value is None or value == "":
        return None
    if value.lower() in {"1", "true", "yes"}:
        return True
    if value.lower() in {"0", "false", "no"}:
        return False
    raise InvalidInput(f"Not a boolean: {value}", code="invalid_filter")


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value else default
    except ValueError as exc:
        raise InvalidInput(f"Not a number: {value}", code="invalid_filter") from exc


def _datetime(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise InvalidInput(f"Not an ISO date: {value}", code="invalid_filter") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=VN_TZ)
    return parsed


async def list_cases(request: web.Request) -> web.Response:
    """GET /api/v1/cases?status=&kind=&agency_id=&overdue=&due_before=&q=&limit=&offset="""
    actor = await _actor(request)
    q = request.query
    agency_id = _int(q.get("agency_id"), 0) or None
    f = CaseFilter(
        status=q.get("status") or None,
        kind=q.get("kind") or None,
        agency_id=agency_id,
        overdue=_bool(q.get("overdue")),
        due_before=_datetime(q.get("due_before")),
        text=q.get("q") or None,
        limit=_int(q.get("limit"), 50),
        offset=_int(q.get("offset"), 0),
    )
    total, rows = await case_service.list_cases(request.app[DB], f, actor)
    return web.json_response({"total": total, "cases": [r.as_json() for r in rows]})


async def get_case(request: web.Request) -> web.Response:
    """GET /api/v1/cases/{code}: the case and its audit trail."""
    actor = await _actor(request)
    view = await case_service.get_case(request.app[DB], request.match_info["code"], actor)
    return web.json_response(view.as_json())


async def transition(request: web.Request) -> web.Response:
    """POST /api/v1/cases/{code}/transition {"to": status, "note": reason or answer}"""
    actor = await _actor(request)
    body = await _body(request)
    to, note = body.get("to"), body.get("note", "")
    if not isinstance(to, str) or not isinstance(note, str):
        raise InvalidInput("'to' (string) is required; 'note' is a string.", code="invalid_body")
    view = await case_service.transition_case(
        request.app[DB],
        request.match_info["code"],
        to,
        actor,
        note,
        petition_days=request.app[SETTINGS].petition_days,
    )
    return web.json_response(view.as_json())


async def assign(request: web.Request) -> web.Response:
    """POST /api/v1/cases/{code}/assign {"username": officer}"""
    actor = await _actor(request)
    body = await _body(request)
    username = body.get("username")
    if not isinstance(username, str) or not username:
        raise InvalidInput("'username' is required.", code="invalid_body")
    view = await case_service.assign_case(
        request.app[DB], request.match_info["code"], username, actor
    )
    return web.json_response(view.as_json())


async def satisfaction(request: web.Request) -> web.Response:
    """GET /api/v1/satisfaction: the satisfaction index of the caller's agency."""
    actor = await _actor(request)
    scope = None if actor.role == "admin" else actor.agency_id
    return web.json_response(await case_service.satisfaction(request.app[DB], scope))


async def gaps(request: web.Request) -> web.Response:
    """GET /api/v1/gaps?since=&locality=: unanswered and unhelpful questions, grouped by
    similarity, with where they come from (when the citizen told us their place)."""
    await _actor(request)
    locality = request.query.get("locality") or None
    if locality is not None and by_code(locality) is None:
        raise InvalidInput(f"Unknown locality {locality!r}.", code="invalid_locality")
    groups = await gap_groups(
        request.app[DB], since=_datetime(request.query.get("since")), locality=locality
    )
    return web.json_response({"groups": [g.as_json() for g in groups]})


async def notices(request: web.Request) -> web.Response:
    """GET /api/v1/notices: the caller's deadline notices (due soon, overdue), newest first."""
    actor = await _actor(request)
    async with request.app[DB].session() as session:
        rows = (
            (
                await session.execute(
                    select(OfficerNotice, Case.code)
                    .outerjoin(Case, Case.id == OfficerNotice.case_id)
                    .where(OfficerNotice.user_id == actor.user_id)
                    .order_by(OfficerNotice.id.desc())
                    .limit(200)
                )
            )
            .tuples()
            .all()
        )
    return web.json_response(
        {
            "notices": [
                {
                    "kind": n.kind,
                    "text": n.text,
                    "case": display(code) if code else None,
                    "created_at": n.created_at.isoformat(),
                }
                for n, code in rows
            ]
        }
    )


async def publish_explanation(request: web.Request) -> web.Response:
    """POST /api/v1/explanations: publish (or publish a new version) and plan the broadcast."""
    actor = await _actor(request)
    if actor.role not in {"admin", "officer"}:
        raise Forbidden("Chỉ cán bộ mới đăng bài giải trình.", code="officer_only")
    spec = explanations.spec_from_json(await _body(request))
    published = await explanations.publish(request.app[DB], spec, actor.name)
    return web.json_response(published.as_json(), status=201)


async def send_broadcast(request: web.Request) -> web.Response:
    """POST /api/v1/explanations/{slug}/broadcasts: send the current version again, to the
    matching subscribers who have not received it (e.g. after new subscriptions)."""
    actor = await _actor(request)
    if actor.role not in {"admin", "officer"}:
        raise Forbidden("Chỉ cán bộ mới gửi tin.", code="officer_only")
    published = await explanations.send_again(
        request.app[DB], request.match_info["slug"], actor.name
    )
    return web.json_response(published.as_json(), status=201)


async def get_explanation(request: web.Request) -> web.Response:
    """GET /api/v1/explanations/{slug}[/versions/{version}]"""
    await _actor(request)
    version = request.match_info.get("version")
    body = await explanations.get_version(
        request.app[DB], request.match_info["slug"], _int(version, 0) if version else None
    )
    return web.json_response(body)


async def broadcast_report(request: web.Request) -> web.Response:
    """GET /api/v1/broadcasts/{id}: pending, sent, failed by reason, blocked, timestamps."""
    await _actor(request)
    report = await explanations.broadcast_report(request.app[DB], _int(request.match_info["id"], 0))
    return web.json_response(report.as_json())


def setup(app: web.Application) -> None:
    """Mount the API routes."""
    app.router.add_get("/api/v1/cases", list_cases)
    app.router.add_get("/api/v1/cases/{code}", get_case)
    app.router.add_post("/api/v1/cases/{code}/transition", transition)
    app.router.add_post("/api/v1/cases/{code}/assign", assign)
    app.router.add_get("/api/v1/satisfaction", satisfaction)
    app.router.add_get("/api/v1/gaps", gaps)
    app.router.add_get("/api/v1/notices", notices)
    app.router.add_post("/api/v1/explanations", publish_explanation)
    app.router.add_post("/api/v1/explanations/{slug}/broadcasts", send_broadcast)
    app.router.add_get("/api/v1/explanations/{slug}", get_explanation)
    app.router.add_get("/api/v1/explanations/{slug}/versions/{version}", get_explanation)
    app.router.add_get("/api/v1/broadcasts/{id}", broadcast_report)
