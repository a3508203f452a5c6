"""Reports against a generated data set (tests/report_data.py): the right figures are
computed here, in plain Python, from the generated records and an own reading of the legal
deadlines on the `holidays` calendar, and compared with the API (JSON and CSV) and the CLI,
on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import math
import os
import sys
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import holidays

from bot.domain.cases import Kind, Status
from bot.domain.delivery import DeliveryStatus
from bot.gateway import DB
from bot.services.demo import load_demo
from bot.services.users import create_user
from bot.store.models import Agency
from tests.conftest import RunningGateway
from tests.integration.test_case_api import call
from tests.report_data import DEMO, OTHER, DataSet, GenCase, generate

VN = ZoneInfo("Asia/Ho_Chi_Minh")
DAYS_OFF = holidays.country_holidays("VN", years=range(2025, 2029))
OPEN = {Status.RECEIVED, Status.ACCEPTED, Status.IN_PROGRESS, Status.EXTENDED}


# --- the right answers, from the records ------------------------------------------------------


def _off(day: date) -> bool:
    return day.weekday() >= 5 or day in DAYS_OFF


def _vn(moment: datetime) -> date:
    return moment.astimezone(VN).date()


def _working_days_after(day: date, n: int) -> date:
    while n:
        day += timedelta(days=1)
        n -= 0 if _off(day) else 1
    return day


def _days_after(day: date, n: int) -> date:
    day += timedelta(days=n)
    while _off(day):  # a last day off moves to the next working day
        day += timedelta(days=1)
    return day


def _end(day: date) -> datetime:
    return datetime.combine(day, time(23, 59, 59), tzinfo=VN)


def _first(case: GenCase, *statuses: Status) -> datetime | None:
    return next((at for s, at in case.events if s in statuses), None)


def _deadlines(case: GenCase) -> tuple[datetime | None, datetime | None]:
    """(acceptance deadline, answer deadline in force after the case's events): Nghị định
    90/2013 for explanation requests (5 working days; 15 days; +15 days once), 10 working
    days (+10) for petitions."""
    accept = answer = None
    if case.kind is Kind.EXPLANATION:
        accept = _end(_working_days_after(_vn(case.received_at), 5))
    else:
        answer = _end(_working_days_after(_vn(case.received_at), 10))
    for status, at in case.events:
        if status is Status.ACCEPTED:
            answer = _end(_days_after(_vn(at), 15))
        elif status is Status.EXTENDED:
            assert answer is not None
            if case.kind is Kind.EXPLANATION:
                answer = _end(_days_after(_vn(answer), 15))
            else:
                answer = _end(_working_days_after(_vn(answer), 10))
    return accept, answer


def _rank(values: list[int], p: float) -> int | None:
    return sorted(values)[math.ceil(p * len(values)) - 1] if values else None


def _share(a: int, b: int) -> float | None:
    return round(a / b, 3) if b else None


def expected_figures(cases: list[GenCase], as_of: datetime) -> dict[str, Any]:
    """The case figures of a report, as its JSON says them."""
    acc_due = acc_on = ans_due = ans_on = overdue = 0
    days: list[int] = []
    for c in cases:
        accept, answer = _deadlines(c)
        decided = _first(c, Status.ACCEPTED, Status.REFUSED)
        answered = _first(c, Status.ANSWERED)
        if c.status in OPEN:
            current = accept if c.kind is Kind.EXPLANATION and decided is None else answer
            overdue += current is not None and current < as_of
        if c.status is Status.WITHDRAWN:
            continue
        if accept is not None and (decided is not None or accept < as_of):
            acc_due += 1
            acc_on += decided is not None and decided <= accept
        if answer is not None and _first(c, Status.REFUSED) is None:
            if answered is not None or answer < as_of:
                ans_due += 1
                ans_on += answered is not None and answered <= answer
        if answered is not None:
            start, end = _vn(c.received_at), _vn(answered)
            days.append(
                sum(
                    1
                    for n in range(1, (end - start).days + 1)
                    if not _off(start + timedelta(days=n))
                )
            )
    rated = [c.rating for c in cases if c.rating is not None]
    scores = [score for score, _ in rated]
    return {
        "received": len(cases),
        "received_by_kind": dict(sorted(Counter(c.kind.value for c in cases).items())),
        "received_by_channel": dict(sorted(Counter(c.channel or "none" for c in cases).items())),
        "withdrawn": sum(c.status is Status.WITHDRAWN for c in cases),
        "acceptance": {"due": acc_due, "on_time": acc_on, "on_time_share": _share(acc_on, acc_due)},
        "answer": {
            "due": ans_due,
            "on_time": ans_on,
            "on_time_share": _share(ans_on, ans_due),
            "answered": len(days),
            "median_working_days": _rank(days, 0.5),
            "p90_working_days": _rank(days, 0.9),
        },
        "extended_cases": sum(any(s is Status.EXTENDED for s, _ in c.events) for c in cases),
        "extensions": sum(any(s is Status.EXTENDED for s, _ in c.events) for c in cases),
        "overdue_now": overdue,
        "satisfaction": {
            "ratings": len(scores),
            "mean": round(sum(scores) / len(scores), 2) if scores else None,
            "satisfied_share": _share(sum(s >= 4 for s in scores), len(scores)),
            "comments": sum(1 for _, comment in rated if comment),
        },
    }


def _within(first: date, last: date, moment: datetime) -> bool:
    return first <= _vn(moment) <= last


def expected_report(
    data: DataSet,
    first: date,
    last: date,
    as_of: datetime,
    agency: str | None = None,
    keep: Callable[[GenCase], bool] = lambda c: True,
    by: Callable[[GenCase], str] | None = None,
) -> dict[str, Any]:
    """A report's cases, places, handoffs and broadcasts (gaps are checked on their own)."""
    cases = [
        c
        for c in data.cases
        if _within(first, last, c.received_at) and agency in (None, c.agency) and keep(c)
    ]
    places: dict[str, list[GenCase]] = {}
    for c in cases:
        if by is not None:
            places.setdefault(by(c) or "none", []).append(c)
    handoffs = [
        h
        for h in data.handoffs
        if _within(first, last, h.requested_at) and agency in (None, h.agency)
    ]
    firsts = [
        (h.first_response_at - h.requested_at).total_seconds()
        for h in handoffs
        if h.first_response_at
    ]
    ends = [(h.ended_at - h.requested_at).total_seconds() for h in handoffs if h.ended_at]
    rows = [
        row
        for b in data.broadcasts
        if _within(first, last, b.created_at) and agency in (None, b.agency)
        for row in b.deliveries
    ]
    statuses = Counter(status for status, _, _ in rows)
    return {
        "cases": expected_figures(cases, as_of),
        "by_locality": {key: expected_figures(group, as_of) for key, group in places.items()},
        "handoffs": {
            "requested": len(handoffs),
            "responded": len(firsts),
            "mean_first_response_s": round(sum(firsts) / len(firsts)) if firsts else None,
            "ended": len(ends),
            "mean_handling_s": round(sum(ends) / len(ends)) if ends else None,
        },
        "broadcasts": {
            "broadcasts": sum(
                1
                for b in data.broadcasts
                if _within(first, last, b.created_at) and agency in (None, b.agency)
            ),
            "recipients": len(rows),
            "sent": statuses[DeliveryStatus.SENT],
            "received": sum(got for _, got, _ in rows),
            "seen": sum(seen for _, _, seen in rows),
            "deferred": statuses[DeliveryStatus.DEFERRED],
            "failed": statuses[DeliveryStatus.FAILED]
            + statuses[DeliveryStatus.BLOCKED]
            + statuses[DeliveryStatus.UNKNOWN],
            "pending": statuses[DeliveryStatus.PENDING] + statuses[DeliveryStatus.SENDING],
        },
    }


def assert_report(got: dict[str, Any], want: dict[str, Any]) -> None:
    """Equal figures (mean handoff seconds within a second: SQLite's julianday is a float)."""
    for name in ("mean_first_response_s", "mean_handling_s"):
        g, w = got["handoffs"][name], want["handoffs"][name]
        assert (g is None and w is None) or abs(g - w) <= 1, (name, g, w)
        got["handoffs"][name] = w
    assert got["cases"] == want["cases"]
    assert got["by_locality"] == want["by_locality"]
    assert got["handoffs"] == want["handoffs"]
    assert got["broadcasts"] == want["broadcasts"]


# --- the tests ----------------------------------------------------------------------------------


async def _world(gw: RunningGateway) -> tuple[DataSet, str, str]:
    db = gw.app[DB]
    await load_demo(db)
    data = await generate(db)
    admin = await create_user(db, "admin-bc", "admin", None)
    officer = await create_user(db, "canbo-bc", "officer", DEMO)
    return data, admin, officer


async def _report(gw: RunningGateway, token: str, query: str) -> dict[str, Any]:
    status, body = await call(gw, token, "GET", f"/reports/summary?{query}")
    assert status == 200, body
    return dict(body)


async def test_reports_match_figures_computed_from_the_generated_cases(
    offline_gateway: RunningGateway,
) -> None:
    gw = offline_gateway
    data, admin, officer = await _world(gw)
    today = datetime.now(VN).date()
    assert len(data.cases) == 330

    # Everything so far, the provinces side by side.
    body = await _report(gw, admin, f"from=2026-01-01&to={today}")
    as_of = datetime.fromisoformat(body["as_of"])
    want = expected_report(data, date(2026, 1, 1), today, as_of, by=lambda c: c.province)
    assert want["cases"]["acceptance"]["due"] > 100 and want["cases"]["withdrawn"] > 5
    assert want["cases"]["received"] > want["cases"]["acceptance"]["due"] + 10  # some pending
    assert_report(body, want)

    # February (Tết; cases received around its first and last Vietnam midnight), one agency.
    body = await _report(gw, admin, f"from=2026-02-01&to=2026-02-28&agency={OTHER}")
    assert_report(
        body,
        expected_report(
            data, date(2026, 2, 1), date(2026, 2, 28), as_of, OTHER, by=lambda c: c.province
        ),
    )

    # January in one province and one topic: its communes side by side.
    body = await _report(gw, admin, "from=2026-01-01&to=2026-01-31&locality=p:1&topic=dat-dai")
    assert_report(
        body,
        expected_report(
            data,
            date(2026, 1, 1),
            date(2026, 1, 31),
            as_of,
            keep=lambda c: c.province == "p:1" and c.topic == "dat-dai",
            by=lambda c: c.locality,
        ),
    )

    # One commune over the quarter: no breakdown.
    body = await _report(gw, admin, "from=2026-01-01&to=2026-03-31&locality=w:1273")
    want = expected_report(
        data, date(2026, 1, 1), date(2026, 3, 31), as_of, keep=lambda c: c.locality == "w:1273"
    )
    assert body["by_locality"] == {}
    assert body["cases"] == want["cases"]

    # An officer's report is their agency's.
    mine = await _report(gw, officer, "from=2026-01-01&to=2026-03-31")
    demo = await _report(gw, admin, f"from=2026-01-01&to=2026-03-31&agency={DEMO}")
    assert mine["cases"] == demo["cases"] and mine["handoffs"] == demo["handoffs"]
    assert mine["cases"] != (await _report(gw, admin, "from=2026-01-01&to=2026-03-31"))["cases"]


async def test_top_gaps_count_the_same_question_in_any_case(
    offline_gateway: RunningGateway,
) -> None:
    data, admin, _ = await _world(offline_gateway)
    body = await _report(offline_gateway, admin, "from=2026-02-01&to=2026-03-31&locality=p:4")
    places = {"w:1273", "w:1279", "w:1288", "p:4"}  # the province and its communes in the data
    counts = Counter(
        g.text.strip().casefold()
        for g in data.gaps
        if _within(date(2026, 2, 1), date(2026, 3, 31), g.created_at) and g.locality in places
    )
    got = [(g["text"].casefold(), g["count"]) for g in body["top_gaps"]]
    assert got == sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    assert all(g["text"] == g["text"].strip() for g in body["top_gaps"])


async def test_report_as_csv_and_from_the_command_line(
    offline_gateway: RunningGateway, database_url: str
) -> None:
    gw = offline_gateway
    _, admin, _ = await _world(gw)
    query = f"from=2026-02-01&to=2026-02-28&agency={DEMO}"
    as_json = await _report(gw, admin, query)
    async with gw.http.get(
        f"{gw.base_url}/api/v1/reports/summary?{query}&format=csv",
        headers={"Authorization": f"Bearer {admin}"},
    ) as resp:
        assert resp.status == 200 and resp.content_type == "text/csv"
        as_csv = await resp.text()
    rows = {(s, m): v for s, m, v in list(csv.reader(io.StringIO(as_csv)))[1:]}
    assert rows[("total", "received")] == str(as_json["cases"]["received"])
    share = as_json["cases"]["answer"]["on_time_share"]
    assert rows[("total", "answer.on_time_share")] == ("" if share is None else str(share))
    assert rows[("broadcasts", "recipients")] == str(as_json["broadcasts"]["recipients"])

    env = {**os.environ, "GIAITRINH_DATABASE_URL": database_url}
    args = ["report", "--agency", DEMO, "--from", "2026-02-01", "--to", "2026-02-28"]
    out = await _cli(env, *args)
    from_cli = json.loads(out)
    assert {**from_cli, "as_of": None} == {**as_json, "as_of": None}
    assert await _cli(env, *args, "--csv") == as_csv
    wrong = ["report", "--from", "2026-02-01", "--to", "2026-01-31"]
    assert "invalid_period" in await _cli(env, *wrong, status=2)
    unknown = ["report", "--agency", "khong-co", "--from", "2026-02-01", "--to", "2026-02-28"]
    assert "unknown_agency" in await _cli(env, *unknown, status=2)


async def _cli(env: dict[str, str], *args: str, status: int = 0) -> str:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    assert proc.returncode == status, err.decode()
    return (out if status == 0 else err).decode()


async def test_bad_filters_are_400_with_a_code(offline_gateway: RunningGateway) -> None:
    gw = offline_gateway
    db = gw.app[DB]
    await load_demo(db)
    admin = await create_user(db, "admin-bc", "admin", None)
    officer = await create_user(db, "canbo-bc", "officer", DEMO)
    ok = "from=2026-01-01&to=2026-01-31"
    for query, code in [
        ("to=2026-01-31", "invalid_date"),
        ("from=2026-13-01&to=2026-12-31", "invalid_date"),
        ("from=2026-02-01&to=2026-01-31", "invalid_period"),
        (f"{ok}&agency=khong-co", "unknown_agency"),
        (f"{ok}&locality=w:99999999", "invalid_locality"),
        (f"{ok}&format=xml", "invalid_filter"),
    ]:
        status, body = await call(gw, admin, "GET", f"/reports/summary?{query}")
        assert (status, body["error"]["code"]) == (400, code), query
    async with db.session() as session:
        session.add(Agency(slug=OTHER, name="UBND xã Báo Cáo"))
    status, body = await call(gw, officer, "GET", f"/reports/summary?{ok}&agency={OTHER}")
    assert (status, body["error"]["code"]) == (403, "other_agency")
    status, body = await call(gw, officer, "GET", f"/reports/summary?{ok}")
    assert status == 200 and body["cases"]["received"] == 0
    assert body["cases"]["answer"]["median_working_days"] is None
