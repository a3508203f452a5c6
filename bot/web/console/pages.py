"""The questions the bot could not answer, grouped, with filters (since a day, from a place
chosen by name), each group a link to the publishing form with its question."""

from __future__ import annotations

from datetime import date, datetime, time

from aiohttp import web

from bot.domain.deadlines import VN_TZ
from bot.domain.permissions import Action
from bot.errors import InvalidInput
from bot.gateway import DB
from bot.services.gaps import gap_groups
from bot.web.console.place_pages import ONE, chips
from bot.web.console.render import render
from bot.web.console.session import require_staff


def _since(text: str) -> datetime | None:
    """A day typed in the filter (YYYY-MM-DD), from its midnight in Vietnam."""
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError as exc:
        raise InvalidInput(
            "Ngày không hợp lệ (dạng năm-tháng-ngày).", code="invalid_filter"
        ) from exc
    if day.year < 2000:
        raise InvalidInput("Ngày không hợp lệ (dạng năm-tháng-ngày).", code="invalid_filter")
    return datetime.combine(day, time(0), VN_TZ)


async def gaps(request: web.Request) -> web.Response:
    """GET /console/cau-hoi-chua-tra-loi[?tu-ngay=2026-11-01][&dia-ban=w:70]: questions to
    write explanations for (phone and ID numbers hidden by the service)."""
    staff = await require_staff(request, Action.READ_GAPS)
    since_text = request.query.get("tu-ngay", "").strip()
    place = chips([request.query.get(ONE, "")], staff)[:1]
    groups = await gap_groups(
        request.config_dict[DB],
        staff.actor,
        since=_since(since_text),
        locality=place[0].code if place else None,
    )
    context = {
        "title": "Câu hỏi chưa trả lời",
        "groups": groups,
        "since": since_text,
        "chosen": place,
        "may_publish": staff.may(Action.PUBLISH),
    }
    return render(request, "gaps.html", context)


def setup(console: web.Application) -> None:
    """Mount the screen."""
    console.router.add_get("/cau-hoi-chua-tra-loi", gaps)
