"""The operators' screens: the queue of conversations handed over by the bot (live, through
server-sent events) and one conversation — its transcript, replies, canned replies, a case
from it, and giving it back to the bot. Every change goes through bot/services/handoff.py,
as the API's does.

A page's live part is an `hx-ext="sse"` element whose stream re-renders it when the database
says something changed (`handoff.fingerprint`, checked every second: several gateways see
the same database, so nothing lives in one process's memory). While a stream is open it also
renews the operator's claims, so a claim lasts as long as the operator's console does.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import aiohttp_jinja2
import structlog
from aiohttp import web
from aiohttp_sse import sse_response

from bot.domain.cases import Kind
from bot.domain.handoff import OPEN, HandoffStatus
from bot.domain.permissions import Action
from bot.errors import InvalidInput
from bot.gateway import CHANNELS, DB, ENGINE, SETTINGS
from bot.services import canned, handoff
from bot.services.cases import CaseDraft
from bot.services.handoff_views import HandoffView, Line, case_draft
from bot.web.console.render import form_fields, render
from bot.web.console.session import CSRF, PREFIX, Staff, require_staff, session_lasts
from bot.web.params import number

log = structlog.get_logger(__name__)

POLL_S = 1.0  # how often a live page asks the database whether anything changed
STREAMS: web.AppKey[set[asyncio.Event]] = web.AppKey("console_streams", set)
SESSION_OVER = "Phiên làm việc đã kết thúc. Tải lại trang để đăng nhập."

# What the bot understood, as staff read it (intent names are the engine's).
INTENT_NAMES = {
    "greet": "chào hỏi",
    "goodbye": "tạm biệt",
    "thank": "cảm ơn",
    "affirm": "đồng ý",
    "deny": "không đồng ý",
    "bot_challenge": "hỏi có phải người thật",
    "help": "xem hướng dẫn",
    "ask_question": "hỏi chính sách, thủ tục",
    "request_explanation": "gửi yêu cầu giải trình",
    "submit_petition": "gửi phản ánh, kiến nghị",
    "check_status": "tra cứu hồ sơ",
    "subscribe": "đăng ký nhận tin",
    "unsubscribe": "hủy nhận tin",
    "request_human": "muốn gặp cán bộ",
    "out_of_scope": "ngoài phạm vi",
    "show_my_data": "xem dữ liệu của mình",
    "erase_my_data": "xóa dữ liệu của mình",
    "rate": "đánh giá",
    "nlu_fallback": "chưa hiểu",
}
CHANNEL_NAMES = {"web": "Web", "telegram": "Telegram", "zalo": "Zalo"}


def _fragment(request: web.Request, template: str, context: dict[str, Any]) -> str:
    values = {"prefix": PREFIX, "csrf_token": request.get(CSRF, ""), **context}
    return aiohttp_jinja2.render_string(template, request, values)


def _id(request: web.Request) -> int:
    return number(request.match_info["id"], 0)


async def _queue_context(request: web.Request, staff: Staff) -> dict[str, Any]:
    rows = await handoff.queue(request.config_dict[DB], staff.actor)
    return {"rows": rows, "me": staff.actor.user_id, "channels": CHANNEL_NAMES}


async def queue(request: web.Request) -> web.Response:
    """GET /console/hang-cho: the open conversations of the operator's agency."""
    staff = await require_staff(request, Action.HANDLE_CONVERSATIONS)
    context = {"title": "Hàng chờ", **await _queue_context(request, staff)}
    return render(request, "queue.html", context)


async def _transcript(request: web.Request, staff: Staff, handoff_id: int) -> dict[str, Any]:
    app = request.config_dict
    view, lines = await handoff.details(app[DB], staff.actor, handoff_id, app[ENGINE])
    return {"h": view, "lines": lines, "intent_names": INTENT_NAMES}


def _timings(view: HandoffView, now: datetime) -> dict[str, str]:
    def minutes(start: datetime | None, end: datetime | None) -> str:
        if start is None:
            return "—"
        seconds = int(((end or now) - start).total_seconds())
        return f"{seconds // 60} phút {seconds % 60:02d} giây"

    return {
        "waited": minutes(view.requested_at, view.claimed_at),
        "first_response": minutes(view.requested_at, view.first_response_at)
        if view.first_response_at
        else "—",
        "handling": minutes(view.claimed_at, view.ended_at) if view.claimed_at else "—",
    }


async def conversation(request: web.Request) -> web.Response:
    """GET /console/hoi-thoai/{id}: the transcript, and what the operator may do now."""
    staff = await require_staff(request, Action.HANDLE_CONVERSATIONS)
    context = await _transcript(request, staff, _id(request))
    view: HandoffView = context["h"]
    lines: list[Line] = context["lines"]
    mine = view.status is HandoffStatus.CLAIMED and view.claimed_by_id == staff.actor.user_id
    context.update(
        title=f"Trò chuyện với {view.citizen or 'người dân'}",
        channels=CHANNEL_NAMES,
        mine=mine,
        open=view.status in OPEN,
        replies=await canned.for_actor(request.config_dict[DB], staff.actor) if mine else [],
        draft=case_draft(lines, view.asked_in_id),
        kinds={Kind.PETITION: "Phản ánh, kiến nghị", Kind.EXPLANATION: "Yêu cầu giải trình"},
        timings=_timings(view, datetime.now(view.requested_at.tzinfo)),
        filed=request.query.get("ho-so", ""),
    )
    return render(request, "conversation.html", context)


def _to_conversation(handoff_id: int, query: str = "") -> web.HTTPSeeOther:
    return web.HTTPSeeOther(f"{PREFIX}/hoi-thoai/{handoff_id}{query}")


async def claim(request: web.Request) -> web.Response:
    """POST /console/hoi-thoai/{id}/nhan: take it (a 409 page when another operator has it)."""
    staff = await require_staff(request, Action.HANDLE_CONVERSATIONS)
    app = request.config_dict
    await handoff.claim(app[DB], app[CHANNELS], staff.actor, _id(request), app[SETTINGS].handoff)
    raise _to_conversation(_id(request))


async def send_reply(request: web.Request) -> web.Response:
    """POST /console/hoi-thoai/{id}/tra-loi: the operator's message to the citizen."""
    staff = await require_staff(request, Action.HANDLE_CONVERSATIONS)
    app = request.config_dict
    text = (await form_fields(request)).get("text", "")
    await handoff.reply(
        app[DB], app[CHANNELS], staff.actor, _id(request), text, app[SETTINGS].handoff
    )
    raise _to_conversation(_id(request))


async def _finish(request: web.Request, status: HandoffStatus) -> web.Response:
    staff = await require_staff(request, Action.HANDLE_CONVERSATIONS)
    app = request.config_dict
    await handoff.finish(
        app[DB], app[CHANNELS], staff.actor, _id(request), status, app[SETTINGS].handoff
    )
    raise web.HTTPSeeOther(f"{PREFIX}/hang-cho")


async def give_back(request: web.Request) -> web.Response:
    """POST /console/hoi-thoai/{id}/tra-lai: the bot answers again."""
    return await _finish(request, HandoffStatus.RETURNED)


async def close(request: web.Request) -> web.Response:
    """POST /console/hoi-thoai/{id}/ket-thuc: the conversation with the operator is over."""
    return await _finish(request, HandoffStatus.CLOSED)


async def open_case(request: web.Request) -> web.Response:
    """POST /console/hoi-thoai/{id}/ho-so: file a case for the citizen from the conversation
    (the service adds what they attached in it)."""
    staff = await require_staff(request, Action.HANDLE_CONVERSATIONS)
    app = request.config_dict
    form = await form_fields(request)
    try:
        kind = Kind(form.get("kind", ""))
    except ValueError as exc:
        raise InvalidInput("Chọn loại hồ sơ.", code="invalid_kind") from exc
    draft = CaseDraft(
        kind=kind,
        subject=form.get("subject", "")[:2000],
        content=form.get("content", "")[:20_000],
        requester_name=form.get("requester_name", "")[:200],
        requester_contact=form.get("requester_contact", "")[:300],
        location=form.get("location", "")[:300],
        consent=form.get("consent") == "yes",
    )
    filed = await handoff.open_case(
        app[DB],
        app[CHANNELS],
        staff.actor,
        _id(request),
        draft,
        app[SETTINGS].handoff,
        app[SETTINGS].petition_days,
    )
    raise _to_conversation(_id(request), f"?ho-so={filed.display_code}")


async def canned_text(request: web.Request) -> web.Response:
    """GET /console/hoi-thoai/{id}/mau/{reply}: the reply box holding a canned reply (htmx
    swaps it in; the operator adapts it before sending)."""
    staff = await require_staff(request, Action.HANDLE_CONVERSATIONS)
    wanted = number(request.match_info["reply"], 0)
    found = await canned.for_actor(request.config_dict[DB], staff.actor)
    text = next((r.text for r in found if r.id == wanted), "")
    html = _fragment(request, "reply_box.html", {"text": text})
    return web.Response(text=html, content_type="text/html")


# -- live parts -------------------------------------------------------------------------------


async def _stream(
    request: web.Request, event: str, render_part: Callable[[Staff], Awaitable[str]]
) -> web.StreamResponse:
    """Send `event` with the part's HTML now and whenever the queue or its conversations
    change; renew the operator's claims meanwhile; stop when the session ends, the client
    leaves or the gateway shuts down."""
    staff = await require_staff(request, Action.HANDLE_CONVERSATIONS)
    db, policy = request.config_dict[DB], request.config_dict[SETTINGS].handoff
    stop = asyncio.Event()
    streams = request.app[STREAMS]
    streams.add(stop)
    last: tuple[Any, ...] | None = None
    renewed: float | None = None  # when the claims were last renewed (monotonic clock)
    try:
        async with sse_response(request) as events:
            while not stop.is_set() and events.is_connected():
                if renewed is None or time.monotonic() - renewed > policy.lease_seconds / 3:
                    if not await session_lasts(request):
                        await events.send(SESSION_OVER, event="ended")
                        break
                    await handoff.renew(db, staff.actor, policy)
                    renewed = time.monotonic()
                mark = await handoff.fingerprint(db, staff.actor)
                if mark != last:
                    await events.send(await render_part(staff), event=event)
                    last = mark
                try:
                    await asyncio.wait_for(stop.wait(), POLL_S)
                except TimeoutError:
                    pass
            return events
    except ConnectionResetError:  # the page was closed
        return web.StreamResponse()
    finally:
        streams.discard(stop)


async def queue_events(request: web.Request) -> web.StreamResponse:
    """GET /console/hang-cho/su-kien: the queue's rows, live."""

    async def part(staff: Staff) -> str:
        return _fragment(request, "queue_rows.html", await _queue_context(request, staff))

    return await _stream(request, "queue", part)


async def conversation_events(request: web.Request) -> web.StreamResponse:
    """GET /console/hoi-thoai/{id}/su-kien: the transcript, live."""
    handoff_id = _id(request)

    async def part(staff: Staff) -> str:
        context = await _transcript(request, staff, handoff_id)
        return _fragment(request, "transcript.html", context)

    return await _stream(request, "transcript", part)


async def _stop_streams(app: web.Application) -> None:
    """On shutdown, end the live streams (they would otherwise hold the server open)."""
    streams = app[STREAMS]
    for stop in tuple(streams):
        stop.set()


def setup(console: web.Application) -> None:
    """Mount the queue and conversation pages."""
    streams: set[asyncio.Event] = set()
    console[STREAMS] = streams
    console.on_shutdown.append(_stop_streams)
    console.router.add_get("/hang-cho", queue)
    console.router.add_get("/hang-cho/su-kien", queue_events)
    console.router.add_get("/hoi-thoai/{id}", conversation)
    console.router.add_get("/hoi-thoai/{id}/su-kien", conversation_events)
    console.router.add_get("/hoi-thoai/{id}/mau/{reply}", canned_text)
    console.router.add_post("/hoi-thoai/{id}/nhan", claim)
    console.router.add_post("/hoi-thoai/{id}/tra-loi", send_reply)
    console.router.add_post("/hoi-thoai/{id}/tra-lai", give_back)
    console.router.add_post("/hoi-thoai/{id}/ket-thuc", close)
    console.router.add_post("/hoi-thoai/{id}/ho-so", open_case)
