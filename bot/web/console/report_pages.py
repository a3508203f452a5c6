"""The report screen (issue 16): the figures of `bot.services.reports.report` for a period, an
agency (admins), a place chosen by name and a topic, with the places side by side as bar charts
(Chart.js, drawn by static/report.js from a `data-chart` attribute: no inline script) over
plain tables of the same numbers, and the same report as CSV for spreadsheets."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from bot.domain.localities import by_code
from bot.domain.permissions import Action
from bot.domain.reports import local_day
from bot.errors import InvalidInput
from bot.gateway import DB
from bot.services import agencies
from bot.services.explanation_views import topic_choices
from bot.services.reports import Report, ReportFilter, report
from bot.web.api_reports import report_filter
from bot.web.console.place_pages import ONE, chips
from bot.web.console.render import render
from bot.web.console.session import Staff, require_staff
from bot.web.console.views import KIND_NAMES

# The API's filter names (report_filter's keys) → the form's fields.
FIELDS = {
    "from": "tu-ngay",
    "to": "den-ngay",
    "agency": "co-quan",
    "locality": ONE,
    "topic": "chu-de",
}
# The API's English refusals that staff may meet here, in Vietnamese (the others already are).
MESSAGES = {"invalid_date": "Ngày không hợp lệ (dạng năm-tháng-ngày, ví dụ 2026-11-01)."}
CHANNEL_NAMES = {
    "telegram": "Qua Telegram",
    "zalo": "Qua Zalo",
    "web": "Qua trò chuyện trên trang web",
    "none": "Không qua trò chuyện (nộp tại cơ quan, qua API)",
}
NO_PLACE = "Chưa ghi địa bàn"


@dataclass(frozen=True, slots=True)
class PlaceRow:
    """One place of the side-by-side comparison (a commune of the province, or a province)."""

    code: str
    name: str
    received: int
    answer_due: int
    answer_on_time: int
    on_time_share: float | None


def typed_filter(query: Mapping[str, str], today: date) -> dict[str, str]:
    """The form's values by the API's names; dates left empty are the current month so far."""
    typed = {name: query.get(field, "").strip() for name, field in FIELDS.items()}
    typed["from"] = typed["from"] or today.replace(day=1).isoformat()
    typed["to"] = typed["to"] or today.isoformat()
    return typed


def place_name(code: str, within: str | None) -> str:
    """How a row of `by_locality` is named: a commune by its name, a province by its title;
    a province's own code under that province is the cases filed without a commune."""
    found = by_code(code)
    if found is None:
        return NO_PLACE
    if found.level == 2:
        return found.name
    if code == within:
        return f"{found.province_title} (không ghi xã, phường)"
    return found.province_title


def place_rows(result: Report) -> list[PlaceRow]:
    """`by_locality` as rows, by name (places without a code last)."""
    rows = []
    for code, figures in result.by_locality.items():
        answer = figures["answer"]
        name = place_name(code, result.filter.locality)
        rows.append(
            PlaceRow(
                code,
                name,
                figures["received"],
                answer["due"],
                answer["on_time"],
                answer["on_time_share"],
            )
        )
    return sorted(rows, key=lambda r: (r.name == NO_PLACE, r.name.casefold(), r.code))


def chart(rows: list[PlaceRow], label: str, values: list[float | None]) -> dict[str, Any]:
    """What static/report.js draws: one bar per place (null: no bar, nothing to count on)."""
    return {"label": label, "labels": [r.name for r in rows], "values": values}


def _today() -> date:
    return local_day(datetime.now(UTC))


def wanted_filter(typed: Mapping[str, str]) -> ReportFilter:
    """The API's parsing of the typed filter, its refusals in Vietnamese."""
    try:
        return report_filter(typed)
    except InvalidInput as exc:
        raise InvalidInput(MESSAGES.get(exc.code, exc.message), code=exc.code) from exc


async def _report(request: web.Request, staff: Staff) -> tuple[dict[str, str], Report | None, str]:
    """The typed filter, and its report or the reason there is none (Forbidden propagates:
    another agency's report is the console's error page)."""
    typed = typed_filter(request.query, _today())
    try:
        wanted = wanted_filter(typed)
        return typed, await report(request.config_dict[DB], staff.actor, wanted), ""
    except InvalidInput as exc:
        return typed, None, exc.message


async def report_page(request: web.Request) -> web.Response:
    """GET /console/bao-cao[?tu-ngay=&den-ngay=&co-quan=&dia-ban=&chu-de=]: the report."""
    staff = await require_staff(request, Action.READ_REPORTS)
    db = request.config_dict[DB]
    typed, result, error = await _report(request, staff)
    rows = place_rows(result) if result else []
    chosen = by_code(typed["locality"]) if typed["locality"] else None
    context: dict[str, Any] = {
        "title": "Báo cáo",
        "typed": typed,
        "error": error,
        "r": result,
        "rows": rows,
        "charts": {
            "on_time": chart(
                rows,
                "Trả lời đúng hạn (%)",
                [
                    None if r.on_time_share is None else round(r.on_time_share * 100, 1)
                    for r in rows
                ],
            ),
            "received": chart(rows, "Hồ sơ nhận được", [r.received for r in rows]),
        },
        "commune": chosen is not None and chosen.level == 2,
        "chosen": chips([typed["locality"]], staff),
        "may_choose_agency": staff.actor.sees_every_agency,
        "agencies": await agencies.list_agencies(db) if staff.actor.sees_every_agency else [],
        "topics": await topic_choices(db),
        "kind_names": KIND_NAMES,
        "channel_names": CHANNEL_NAMES,
        "csv_query": urlencode({FIELDS[k]: v for k, v in typed.items() if v}),
    }
    return render(request, "reports.html", context, status=400 if error else 200)


async def report_csv(request: web.Request) -> web.Response:
    """GET /console/bao-cao/csv?…: the same report as `Report.as_csv()`, behind a UTF-8 byte
    order mark so that Excel reads the Vietnamese text as UTF-8."""
    staff = await require_staff(request, Action.READ_REPORTS)
    typed = typed_filter(request.query, _today())
    wanted = wanted_filter(typed)  # a bad filter: the 400 page, in Vietnamese
    result = await report(request.config_dict[DB], staff.actor, wanted)
    name = f"bao-cao-{wanted.period.first}-{wanted.period.last}.csv"
    return web.Response(
        body=("\ufeff" + result.as_csv()).encode("utf-8"),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def setup(console: web.Application) -> None:
    """Mount the report screen and its CSV."""
    console.router.add_get("/bao-cao", report_page)
    console.router.add_get("/bao-cao/csv", report_csv)
