"""Publishing screens: the list of explanations, the publishing form (a new explanation or a
new version of one of the agency's own) with a preview of the subscribers' message, and an
explanation's page with its versions and each broadcast's delivery report, refreshed while it
is sending. Publishing and sending again go through bot/services/explanations.py, the API's
services, so the agency and country-wide rules are the same (403 `other_agency`, `forbidden`).
Places are chosen by name (bot/web/console/place_pages.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from aiohttp import web
from multidict import MultiDictProxy

from bot.domain.permissions import Action
from bot.errors import Conflict, InvalidInput
from bot.gateway import DB
from bot.services import broadcasts, explanation_views, explanations
from bot.services.agencies import list_agencies
from bot.services.explanations import ExplanationSpec
from bot.web.api_explanations import explanation_spec
from bot.web.console.place_pages import chips
from bot.web.console.render import render
from bot.web.console.session import PREFIX, Staff, require_staff
from bot.web.params import number

FIELDS = ("title", "summary", "body", "source_document", "source_url", "slug", "agency")
# The API's refusal codes, as officers read them in the form.
PROBLEMS = {
    "invalid_body": "Tiêu đề và nội dung không được để trống.",
    "too_long": (
        "Có trường quá dài: tiêu đề tối đa 300 ký tự, tóm tắt 1.000, nội dung 50.000, "
        "văn bản nguồn 300, đường dẫn 500."
    ),
    "invalid_locality": "Địa bàn không hợp lệ; hãy chọn lại bằng ô tìm kiếm.",
    "invalid_publish_at": "Thời điểm đăng không hợp lệ.",
    "invalid_questions": "Câu hỏi thường gặp: mỗi câu một dòng, tối đa 300 ký tự, tối đa 30 câu.",
    "invalid_topic": "Chủ đề không hợp lệ.",
    "agency_required": "Hãy chọn cơ quan đăng bài.",
    "unknown_agency": "Không có cơ quan này.",
    "no_locality": "Hãy chọn ít nhất một địa bàn nhận tin.",
}


def _values(form: MultiDictProxy[Any]) -> dict[str, Any]:
    """What was typed, as the form shows it again."""
    values: dict[str, Any] = {k: str(form.get(k, "")) for k in FIELDS}
    values["topics"] = [str(v) for v in form.getall("topics", [])]
    values["localities"] = [str(v) for v in form.getall("localities", [])]
    values["questions"] = str(form.get("questions", ""))
    values["publish_at"] = str(form.get("publish_at", ""))
    return values


def _spec(values: dict[str, Any]) -> ExplanationSpec:
    """The publication, checked by the API's own body model (one rule for both); its
    refusals in Vietnamese. Places must be chosen: none is not "the whole country" here."""
    if not values["localities"]:
        raise InvalidInput(PROBLEMS["no_locality"], code="no_locality")
    data = {k: values[k] for k in (*FIELDS, "topics", "localities", "publish_at")}
    data["questions"] = [q for q in values["questions"].splitlines() if q.strip()]
    try:
        return explanation_spec(data)
    except InvalidInput as exc:
        raise InvalidInput(PROBLEMS.get(exc.code, exc.message), code=exc.code) from exc


def _blank() -> dict[str, Any]:
    values: dict[str, Any] = dict.fromkeys(FIELDS, "")
    values.update(topics=[], localities=[], questions="", publish_at="")
    return values


async def _form(
    request: web.Request, staff: Staff, values: dict[str, Any], error: str = "", status: int = 200
) -> web.Response:
    db = request.config_dict[DB]
    admin = staff.may(Action.PUBLISH_COUNTRY_WIDE)
    context = {
        "title": "Đăng phiên bản mới" if values["slug"] else "Đăng bài giải trình",
        "v": values,
        "topics": await explanation_views.topic_choices(db),
        "agencies": await list_agencies(db) if admin else [],
        "chosen": chips(values["localities"], staff),
        "country_wide": admin,
        "error": error,
    }
    return render(request, "publish.html", context, status=status)


async def publish_form(request: web.Request) -> web.Response:
    """GET /console/dang-bai[?ma=<slug>][&cau-hoi=<question>]: a new explanation, or a new
    version of one of the agency's own, prefilled from its newest version (another agency's:
    403 page); `cau-hoi` comes from the unanswered questions."""
    staff = await require_staff(request, Action.PUBLISH)
    values = _blank()
    slug = request.query.get("ma", "")
    if slug:
        found = await explanation_views.history(request.config_dict[DB], slug, staff.actor)
        newest = found.versions[0]
        values.update(
            slug=found.slug,
            agency=found.agency_slug,
            title=newest.title,
            summary=newest.summary,
            body=newest.body,
            source_document=newest.source_document,
            source_url=newest.source_url,
            topics=list(newest.topics),
            localities=list(newest.localities),
            questions="\n".join(newest.questions),
        )
    asked = request.query.get("cau-hoi", "").strip()
    if asked:
        values["questions"] = "\n".join(filter(None, [values["questions"], asked]))
    return await _form(request, staff, values)


async def preview(request: web.Request) -> web.Response:
    """POST /console/dang-bai/xem-truoc (htmx): the message subscribers will get, built by the
    broadcast's own function; nothing is stored."""
    await require_staff(request, Action.PUBLISH)
    values = _values(await request.post())
    try:
        shown = await explanation_views.preview(request.config_dict[DB], _spec(values))
    except InvalidInput as exc:
        return render(request, "preview.html", {"error": exc.message, "p": None})
    return render(request, "preview.html", {"error": "", "p": shown})


async def publish(request: web.Request) -> web.Response:
    """POST /console/dang-bai: store the version and plan its broadcast as the API does; a
    refused value shows the form again with what was typed."""
    staff = await require_staff(request, Action.PUBLISH)
    values = _values(await request.post())
    try:
        done = await explanations.publish(request.config_dict[DB], _spec(values), staff.actor)
    except (InvalidInput, Conflict) as exc:
        status = 409 if isinstance(exc, Conflict) else 400
        return await _form(request, staff, values, exc.message, status)
    raise web.HTTPSeeOther(f"{PREFIX}/bai-giai-trinh/{quote(done.slug)}?da-dang={done.version}")


async def explanation_list(request: web.Request) -> web.Response:
    """GET /console/bai-giai-trinh: what the bot answers from, newest first."""
    staff = await require_staff(request, Action.READ_EXPLANATIONS)
    items = await explanations.current_explanations(request.config_dict[DB])
    context = {"title": "Bài giải trình", "items": items, "may_publish": staff.may(Action.PUBLISH)}
    return render(request, "explanations.html", context)


def _report_context(report: broadcasts.BroadcastReport) -> dict[str, Any]:
    """A report as the page shows it; `live` while deliveries are being planned or sent."""
    now = datetime.now(UTC)
    numbers = report.as_json()
    waiting = report.send_at is not None and report.send_at > now and not report.planned
    live = (not report.planned and not waiting) or numbers["pending"] > 0
    return {"r": numbers, "live": live, "waiting": waiting, "send_at": report.send_at}


async def explanation_page(request: web.Request) -> web.Response:
    """GET /console/bai-giai-trinh/{slug}: versions and broadcasts with their reports; another
    agency's explanation is the 403 page, as in the API."""
    staff = await require_staff(request, Action.READ_EXPLANATIONS)
    db = request.config_dict[DB]
    found = await explanation_views.history(db, request.match_info["slug"], staff.actor)
    reports = {}
    if staff.may(Action.READ_BROADCAST_REPORTS):
        for sending in found.broadcasts[:20]:
            report = await broadcasts.broadcast_report(db, sending.id, staff.actor)
            reports[sending.id] = _report_context(report)
    context = {
        "title": found.versions[0].title,
        "e": found,
        "reports": reports,
        "published": request.query.get("da-dang", ""),
        "sent_again": request.query.get("gui-lai", ""),
        "may_publish": staff.may(Action.PUBLISH),
        "may_send": staff.may(Action.BROADCAST_AGAIN),
        "now": datetime.now(UTC),
    }
    return render(request, "explanation.html", context)


async def report(request: web.Request) -> web.Response:
    """GET /console/dot-gui/{id} (htmx, every 2 s while sending): one delivery report."""
    staff = await require_staff(request, Action.READ_BROADCAST_REPORTS)
    broadcast_id = number(request.match_info["id"], 0)
    found = await broadcasts.broadcast_report(request.config_dict[DB], broadcast_id, staff.actor)
    return render(request, "report.html", {"id": broadcast_id, **_report_context(found)})


async def send_again(request: web.Request) -> web.Response:
    """POST /console/bai-giai-trinh/{slug}/gui-lai: the current version to subscribers who
    have not had it (the API's `send_again`)."""
    staff = await require_staff(request, Action.BROADCAST_AGAIN)
    done = await explanations.send_again(
        request.config_dict[DB], request.match_info["slug"], staff.actor
    )
    raise web.HTTPSeeOther(f"{PREFIX}/bai-giai-trinh/{quote(done.slug)}?gui-lai={done.recipients}")


def setup(console: web.Application) -> None:
    """Mount the publishing screens."""
    console.router.add_get("/bai-giai-trinh", explanation_list)
    console.router.add_get("/bai-giai-trinh/{slug}", explanation_page)
    console.router.add_post("/bai-giai-trinh/{slug}/gui-lai", send_again)
    console.router.add_get("/dang-bai", publish_form)
    console.router.add_post("/dang-bai", publish)
    console.router.add_post("/dang-bai/xem-truoc", preview)
    console.router.add_get("/dot-gui/{id}", report)
