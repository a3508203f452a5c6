"""Report routes of the agencies' REST API: /api/v1/reports/summary as JSON, or as CSV with
`format=csv` (one route, so the filters and their errors are the same for both)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from aiohttp import web

from bot.domain.permissions import Action
from bot.domain.reports import ReportPeriod
from bot.errors import InvalidInput
from bot.gateway import DB, json_response
from bot.services.reports import ReportFilter, report
from bot.web.params import actor


def day(value: str | None, name: str) -> date:
    """A required YYYY-MM-DD query value (a Vietnam date); 400 `invalid_date` otherwise."""
    if not value:
        raise InvalidInput(f"'{name}' is required (YYYY-MM-DD).", code="invalid_date")
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise InvalidInput(f"Not a date (YYYY-MM-DD): {value}", code="invalid_date") from exc


def report_filter(q: Mapping[str, str]) -> ReportFilter:
    """The report a query asks for (keys from, to, agency, locality, topic), for the API and
    the console's report screen alike: the same dates and the same errors."""
    return ReportFilter(
        period=ReportPeriod(day(q.get("from"), "from"), day(q.get("to"), "to")),
        agency=q.get("agency") or None,
        locality=q.get("locality") or None,
        topic=q.get("topic") or None,
    )


async def summary(request: web.Request) -> web.Response:
    """GET /api/v1/reports/summary?from=&to=&agency=&locality=&topic=&format=json|csv"""
    caller = await actor(request, Action.READ_REPORTS)
    q = request.query
    fmt = q.get("format") or "json"
    if fmt not in ("json", "csv"):
        raise InvalidInput(f"Unknown format: {fmt}", code="invalid_filter")
    wanted = report_filter(q)
    result = await report(request.app[DB], caller, wanted)
    if fmt == "csv":
        name = f"bao-cao-{wanted.period.first}-{wanted.period.last}.csv"
        return web.Response(
            text=result.as_csv(),
            content_type="text/csv",
            charset="utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    return json_response(result.as_json())


def setup(app: web.Application) -> None:
    """Mount the report routes."""
    app.router.add_get("/api/v1/reports/summary", summary)
