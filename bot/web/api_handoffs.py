"""Routes of the handoff queue (/api/v1/handoffs): what operators do with conversations the
bot handed over — the console uses the same services."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, Field

from bot.domain.cases import Kind
from bot.domain.handoff import HandoffStatus
from bot.domain.permissions import Action
from bot.gateway import CHANNELS, DB, ENGINE, SETTINGS, json_response, read_json
from bot.services import canned, handoff
from bot.services.cases import CaseDraft
from bot.services.handoff_views import case_draft
from bot.web.params import actor, number


class ReplyBody(BaseModel):
    """POST /handoffs/{id}/messages: what the operator says."""

    text: str = Field(max_length=20_000)  # longer than a reply may be: refused with a reason


class CaseBody(BaseModel):
    """POST /handoffs/{id}/case: the case filed for the citizen, from the conversation.

    `consent`: the citizen agreed in the conversation that their name and contact be kept
    with the case (needed when either is given).
    """

    kind: Kind
    subject: str = Field(default="", max_length=2000)
    content: str = Field(max_length=20_000)
    requester_name: str = Field(default="", max_length=200)
    requester_contact: str = Field(default="", max_length=300)
    location: str = Field(default="", max_length=300)
    anonymous: bool = False
    consent: bool = False
    # Where and what it is about, for reports: a commune's or province's code (an unknown one
    # is 400 `invalid_locality`) and a topic's slug.
    locality: str = Field(default="", max_length=20)
    topic: str = Field(default="", max_length=80)
    # What the citizen attached in the conversation goes with the case by itself (the
    # `attachments` of `case_draft` are for showing; any sent back here are ignored).


class CannedBody(BaseModel):
    """POST /canned-replies: a prepared answer for the caller's agency."""

    title: str = Field(min_length=1, max_length=120)
    text: str = Field(min_length=1, max_length=2000)


def _id(request: web.Request) -> int:
    return number(request.match_info["id"], 0)


async def queue(request: web.Request) -> web.Response:
    """GET /api/v1/handoffs: the open handoffs of the caller's agency, waiting ones first."""
    caller = await actor(request, Action.HANDLE_CONVERSATIONS)
    rows = await handoff.queue(request.app[DB], caller)
    return json_response({"handoffs": [row.as_json() for row in rows]})


async def get_handoff(request: web.Request) -> web.Response:
    """GET /api/v1/handoffs/{id}: the handoff and its conversation's transcript, bot turns
    with the intent the bot understood."""
    caller = await actor(request, Action.HANDLE_CONVERSATIONS)
    app = request.app
    view, lines = await handoff.details(app[DB], caller, _id(request), app[ENGINE])
    body = {
        **view.as_json(),
        "transcript": [line.as_json() for line in lines],
        "case_draft": case_draft(lines, view.asked_in_id),
    }
    return json_response(body)


async def claim(request: web.Request) -> web.Response:
    """POST /api/v1/handoffs/{id}/claim: take it (409 `already_claimed` if another has it)."""
    caller = await actor(request, Action.HANDLE_CONVERSATIONS)
    view = await handoff.claim(
        request.app[DB], request.app[CHANNELS], caller, _id(request), request.app[SETTINGS].handoff
    )
    return json_response(view.as_json())


async def renew(request: web.Request) -> web.Response:
    """POST /api/v1/handoffs/renew: keep the caller's claims (the console calls it while open)."""
    caller = await actor(request, Action.HANDLE_CONVERSATIONS)
    count = await handoff.renew(request.app[DB], caller, request.app[SETTINGS].handoff)
    return json_response({"renewed": count})


async def send(request: web.Request) -> web.Response:
    """POST /api/v1/handoffs/{id}/messages {"text"}: reply on the citizen's channel."""
    caller = await actor(request, Action.HANDLE_CONVERSATIONS)
    body = await read_json(request, ReplyBody)
    line = await handoff.reply(
        request.app[DB],
        request.app[CHANNELS],
        caller,
        _id(request),
        body.text,
        request.app[SETTINGS].handoff,
    )
    return json_response(line.as_json(), status=201)


async def _finish(request: web.Request, status: HandoffStatus) -> web.Response:
    caller = await actor(request, Action.HANDLE_CONVERSATIONS)
    app = request.app
    view = await handoff.finish(
        app[DB], app[CHANNELS], caller, _id(request), status, app[SETTINGS].handoff
    )
    return json_response(view.as_json())


async def give_back(request: web.Request) -> web.Response:
    """POST /api/v1/handoffs/{id}/return: the bot answers again."""
    return await _finish(request, HandoffStatus.RETURNED)


async def close(request: web.Request) -> web.Response:
    """POST /api/v1/handoffs/{id}/close: the conversation with the operator is over."""
    return await _finish(request, HandoffStatus.CLOSED)


async def open_case(request: web.Request) -> web.Response:
    """POST /api/v1/handoffs/{id}/case: file a case for the citizen from the conversation."""
    caller = await actor(request, Action.HANDLE_CONVERSATIONS)
    body = await read_json(request, CaseBody)
    draft = CaseDraft(**body.model_dump())
    filed = await handoff.open_case(
        request.app[DB],
        request.app[CHANNELS],
        caller,
        _id(request),
        draft,
        request.app[SETTINGS].handoff,
        request.app[SETTINGS].petition_days,
    )
    due = filed.due_at.isoformat() if filed.due_at else None
    body_out = {"code": filed.display_code, "kind": filed.kind.value, "due_at": due}
    return json_response(body_out, status=201)


async def list_canned(request: web.Request) -> web.Response:
    """GET /api/v1/canned-replies: the prepared answers the caller may use."""
    caller = await actor(request, Action.HANDLE_CONVERSATIONS)
    rows = await canned.for_actor(request.app[DB], caller)
    return json_response({"canned_replies": [row.as_json() for row in rows]})


async def add_canned(request: web.Request) -> web.Response:
    """POST /api/v1/canned-replies {"title", "text"}: a new one for the caller's agency."""
    caller = await actor(request, Action.MANAGE_CANNED_REPLIES)
    body = await read_json(request, CannedBody)
    row = await canned.add(request.app[DB], caller, body.title, body.text)
    return json_response(row.as_json(), status=201)


async def delete_canned(request: web.Request) -> web.Response:
    """DELETE /api/v1/canned-replies/{id}"""
    caller = await actor(request, Action.MANAGE_CANNED_REPLIES)
    await canned.remove(request.app[DB], caller, _id(request))
    return web.Response(status=204)


def setup(app: web.Application) -> None:
    """Mount the handoff routes."""
    app.router.add_get("/api/v1/handoffs", queue)
    app.router.add_post("/api/v1/handoffs/renew", renew)
    app.router.add_get("/api/v1/handoffs/{id}", get_handoff)
    app.router.add_post("/api/v1/handoffs/{id}/claim", claim)
    app.router.add_post("/api/v1/handoffs/{id}/messages", send)
    app.router.add_post("/api/v1/handoffs/{id}/return", give_back)
    app.router.add_post("/api/v1/handoffs/{id}/close", close)
    app.router.add_post("/api/v1/handoffs/{id}/case", open_case)
    app.router.add_get("/api/v1/canned-replies", list_canned)
    app.router.add_post("/api/v1/canned-replies", add_canned)
    app.router.add_delete("/api/v1/canned-replies/{id}", delete_canned)
