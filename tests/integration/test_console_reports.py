"""The console's report screen over real HTTP on both databases: the figures on the page are
the service's for the same filter (an officer's own agency, an admin's choice), the places
side by side, the CSV, and refusals shown as messages or error pages, never a 500."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import date

import pytest

from bot.domain.actors import Actor
from bot.domain.reports import ReportPeriod
from bot.gateway import DB
from bot.services.reports import Report, ReportFilter, report
from bot.services.users import actor_for_token, issue_token
from bot.web.console.report_pages import MESSAGES
from bot.web.console.views import number, percent
from tests.conftest import RunningGateway
from tests.console import (
    DEMO,
    REPORT_FROM,
    REPORT_TO,
    STAFF,
    Browser,
    Page,
    report_cases,
    staff_world,
)

PERIOD = ReportPeriod(date.fromisoformat(REPORT_FROM), date.fromisoformat(REPORT_TO))
DATES = f"tu-ngay={REPORT_FROM}&den-ngay={REPORT_TO}"


@pytest.fixture
async def world(offline_gateway: RunningGateway) -> AsyncIterator[RunningGateway]:
    """Staff of every role, and November's cases in two communes of Hà Nội (and elsewhere)."""
    await staff_world(offline_gateway.app[DB])
    await report_cases(offline_gateway.app[DB])
    yield offline_gateway


async def staff_actor(gw: RunningGateway, username: str) -> Actor:
    """The actor the console finds for this account (through an API token)."""
    db = gw.app[DB]
    return await actor_for_token(db, await issue_token(db, username))


async def logged_in(gw: RunningGateway, role: str) -> Browser:
    """A browser logged in to the console as the staff member of `role`."""
    browser = Browser(gw.base_url)
    page = await browser.log_in(STAFF[role])
    assert page.status == 200, page.html[:500]
    return browser


def table(page: Page, table_id: str) -> dict[str, list[str]]:
    """A table's body rows: the row header's text → its cells' texts (tags dropped)."""
    found = re.search(rf'<table id="{table_id}">(.*?)</table>', page.html, re.S)
    assert found, f"no #{table_id}:\n{page.html[:3000]}"
    rows = {}
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", found.group(1).split("<tbody>")[1], re.S):
        cells = [
            re.sub(r"<[^>]+>", "", c).strip()
            for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        ]
        rows[cells[0]] = cells[1:]
    return rows


def text(page: Page, element_id: str) -> str:
    """An element's text, nested tags dropped, spaces collapsed."""
    found = re.search(rf'id="{element_id}"[^>]*>(.*?)</(dd|p|span)>', page.html, re.S)
    assert found, f"no #{element_id} in {page.url}"
    return " ".join(re.sub(r"<[^>]+>", "", found.group(1)).split())


def assert_totals(page: Page, expected: Report) -> None:
    """The page's headline figures are the service's."""
    c = expected.cases
    assert text(page, "received-total") == f"{number(c['received'])} hồ sơ"
    answer = c["answer"]
    assert text(page, "answer-on-time") == (
        f"{percent(answer['on_time_share'])} ({answer['on_time']}/{answer['due']} hồ sơ)"
    )
    assert text(page, "answered") == f"{answer['answered']} hồ sơ"
    assert text(page, "overdue-now") == f"{c['overdue_now']} hồ sơ"
    assert text(page, "median-days") == f"{answer['median_working_days']} ngày làm việc"
    assert text(page, "rating-mean") == "—", "no rating: no base for a mean"
    assert text(page, "satisfied") == "—"
    assert text(page, "acceptance-on-time") == "— (0/0 hồ sơ)", "petitions have no acceptance"
    assert text(page, "handoffs-requested") == str(expected.handoffs["requested"])
    assert text(page, "recipients") == str(expected.broadcasts["recipients"])


async def test_an_officer_sees_their_provinces_communes_side_by_side(
    world: RunningGateway,
) -> None:
    browser = await logged_in(world, "officer")
    try:
        page = await browser.get(f"/console/bao-cao?{DATES}&dia-ban=p:1")
        assert page.status == 200, page.html[:2000]
        assert '<a href="/console/bao-cao" aria-current="page">Báo cáo</a>' in page.html
        officer = await staff_actor(world, STAFF["officer"])
        expected = await report(world.app[DB], officer, ReportFilter(PERIOD, locality="p:1"))
        assert expected.cases["received"] == 5, "the demo agency's five in Hà Nội"
        assert_totals(page, expected)
        figures = expected.by_locality
        assert set(figures) == {"w:70", "w:73"}
        on_time = table(page, "on-time-table")
        assert on_time == {
            "Phường Cửa Nam": [percent(figures["w:73"]["answer"]["on_time_share"]), "1/2"],
            "Phường Hoàn Kiếm": [percent(figures["w:70"]["answer"]["on_time_share"]), "2/3"],
        }
        assert on_time["Phường Hoàn Kiếm"][0] == "66,7 %"
        assert table(page, "received-table") == {"Phường Cửa Nam": ["2"], "Phường Hoàn Kiếm": ["3"]}
        assert 'id="chart-on-time"' in page.html and 'id="chart-received"' in page.html
        assert "Tỉnh Cao Bằng" not in page.html and "Phường Thục Phán" not in page.html

        link = re.search(r'id="report-csv" href="([^"]+)"', page.html)
        assert link, "a Tải CSV link"
        async with browser.http.get(world.base_url + link.group(1).replace("&amp;", "&")) as resp:
            assert resp.status == 200
            assert resp.content_type == "text/csv" and resp.charset == "utf-8"
            assert "attachment" in resp.headers["Content-Disposition"]
            body = await resp.read()
        assert body.startswith(b"\xef\xbb\xbf"), "a UTF-8 byte order mark, for Excel"
        assert body[3:].decode("utf-8") == expected.as_csv()
    finally:
        await browser.close()


async def test_an_admin_chooses_an_agency_and_sees_provinces(world: RunningGateway) -> None:
    browser = await logged_in(world, "admin")
    try:
        admin = await staff_actor(world, STAFF["admin"])
        page = await browser.get(f"/console/bao-cao?{DATES}&co-quan={DEMO}")
        assert page.status == 200, page.html[:2000]
        assert f'<option value="{DEMO}" selected>' in page.html
        expected = await report(world.app[DB], admin, ReportFilter(PERIOD, agency=DEMO))
        assert expected.cases["received"] == 6
        assert_totals(page, expected)
        assert table(page, "received-table") == {"Thành phố Hà Nội": ["5"], "Tỉnh Cao Bằng": ["1"]}

        everyone = await browser.get(f"/console/bao-cao?{DATES}")
        expected = await report(world.app[DB], admin, ReportFilter(PERIOD))
        assert expected.cases["received"] == 7, "every agency's"
        assert_totals(everyone, expected)
        assert table(everyone, "received-table") == {
            "Thành phố Hà Nội": ["6"],
            "Tỉnh Cao Bằng": ["1"],
        }
    finally:
        await browser.close()


async def test_the_form_defaults_to_this_month_so_far(world: RunningGateway) -> None:
    browser = await logged_in(world, "officer")
    try:
        page = await browser.get("/console/bao-cao")
        assert page.status == 200
        first = re.search(r'id="from" value="([^"]*)"', page.html)
        last = re.search(r'id="to" value="([^"]*)"', page.html)
        assert first and last
        assert first.group(1).endswith("-01") and first.group(1)[:7] == last.group(1)[:7]
        assert 'id="agency"' not in page.html, "an officer has no agency to choose"
    finally:
        await browser.close()


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("tu-ngay=2026-13-01", "Ngày không hợp lệ (dạng năm-tháng-ngày, ví dụ 2026-11-01)."),
        ("tu-ngay=2026-11-20&den-ngay=2026-11-01", "Ngày bắt đầu sau ngày kết thúc."),
        (f"{DATES}&dia-ban=w:99999999", "Không có địa bàn w:99999999."),
    ],
)
async def test_a_bad_filter_is_a_message_on_the_page(
    world: RunningGateway, query: str, message: str
) -> None:
    browser = await logged_in(world, "officer")
    try:
        page = await browser.get(f"/console/bao-cao?{query}")
        assert page.status == 400
        assert page.text_of("form-error") == message
        assert 'id="report-filters"' in page.html, "the form stays, to correct it"
        assert 'id="report"' not in page.html
    finally:
        await browser.close()


async def test_another_agencys_report_and_an_operator_are_refused(world: RunningGateway) -> None:
    browser = await logged_in(world, "officer")
    try:
        for path in (
            f"/console/bao-cao?{DATES}&co-quan=so-khac",
            f"/console/bao-cao/csv?{DATES}&co-quan=so-khac",
        ):
            page = await browser.get(path)
            assert page.status == 403, path
            assert page.text_of("error-message") == "Báo cáo của cơ quan khác."
    finally:
        await browser.close()
    browser = await logged_in(world, "officer")
    try:
        page = await browser.get("/console/bao-cao/csv?tu-ngay=hom-qua")
        assert (page.status, page.text_of("error-message")) == (400, MESSAGES["invalid_date"])
    finally:
        await browser.close()
    browser = await logged_in(world, "operator")
    try:
        home = await browser.get("/console/")
        assert "/console/bao-cao" not in home.html, "no link for an operator"
        for path in ("/console/bao-cao", f"/console/bao-cao/csv?{DATES}"):
            page = await browser.get(path)
            assert page.status == 403, path
            assert (
                page.text_of("error-message") == "Tài khoản tổng đài viên không được xem báo cáo."
            )
    finally:
        await browser.close()
