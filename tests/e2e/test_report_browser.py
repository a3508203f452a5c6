"""The report screen in headless Chromium under the strict CSP: an officer chooses their
province by name and sees its two communes side by side, in the tables and in Chart.js charts
drawn by the page's own script file (no console error, no CSP violation)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, expect

from bot.gateway import DB
from tests.conftest import RunningGateway
from tests.console import REPORT_FROM, REPORT_TO, report_cases, staff_world
from tests.e2e.test_console_browser import staff_page
from tests.e2e.test_handoff_browser import shoot

pytestmark = pytest.mark.browser


@pytest.fixture
async def world(offline_gateway: RunningGateway) -> AsyncIterator[RunningGateway]:
    """Staff of every role, and November's cases in two communes of Hà Nội (and elsewhere)."""
    await staff_world(offline_gateway.app[DB])
    await report_cases(offline_gateway.app[DB])
    yield offline_gateway


async def test_an_officer_sees_the_communes_of_a_province_side_by_side(
    browser: Browser, world: RunningGateway
) -> None:
    page, errors, dialogs = await staff_page(browser, world.base_url)
    await page.set_viewport_size({"width": 1280, "height": 900})
    await page.get_by_role("link", name="Báo cáo").click()
    await expect(page.locator("h1")).to_have_text("Báo cáo")

    await page.fill("#from", REPORT_FROM)
    await page.fill("#to", REPORT_TO)
    await page.fill("#place-q", "hà nội")
    results = page.locator("#place-results")
    await results.get_by_role("button", name="Thành phố Hà Nội", exact=True).click()
    await expect(page.locator("#chosen .chip-label")).to_have_text("Thành phố Hà Nội")
    await page.click("#show-report")

    rows = page.locator("#on-time-table tbody tr")
    await expect(rows).to_have_count(2)
    await expect(rows.locator("th")).to_have_text(["Phường Cửa Nam", "Phường Hoàn Kiếm"])
    await expect(rows.locator("td.on-time")).to_have_text(["50,0 %", "66,7 %"])
    received = page.locator("#received-table tbody tr td.received")
    await expect(received).to_have_text(["2", "3"])
    await expect(page.locator("#received-total")).to_have_text("5 hồ sơ")
    await expect(page.locator("#report-csv")).to_have_text("Tải CSV")

    for canvas_id in ("chart-on-time", "chart-received"):
        drawn = await page.evaluate(
            """(id) => {
                const chart = window.Chart.getChart(document.getElementById(id));
                return chart === undefined ? null : chart.data.labels;
            }""",
            canvas_id,
        )
        assert drawn == ["Phường Cửa Nam", "Phường Hoàn Kiếm"], f"#{canvas_id}: {drawn}"
    on_time = await page.evaluate(
        "() => window.Chart.getChart(document.getElementById('chart-on-time')).data"
        ".datasets[0].data"
    )
    assert on_time == [50, 66.7]
    await shoot(page, "bao-cao")
    assert await page.evaluate("window.__violations") == []
    assert errors == [], errors
    assert dialogs == []
