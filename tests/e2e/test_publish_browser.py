"""Publishing in headless Chromium under the strict CSP: an officer finds a commune by name
among its namesakes, previews the message, publishes, watches the delivery report fill in,
and a subscriber of that commune receives exactly the previewed message."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, expect

from bot.domain.localities import search
from bot.gateway import DB
from bot.services.subscriptions import subscribe
from bot.services.webchat import contact_for
from tests.chat import wait_for
from tests.conftest import RunningGateway
from tests.console import staff_world
from tests.e2e.test_console_browser import staff_page
from tests.e2e.test_handoff_browser import shoot

pytestmark = pytest.mark.browser

TITLE = "Cấp sổ đỏ lần đầu tại xã Tân An"


@pytest.fixture
async def world(offline_gateway: RunningGateway) -> AsyncIterator[RunningGateway]:
    """Staff of every role with passwords."""
    await staff_world(offline_gateway.app[DB])
    yield offline_gateway


async def test_an_officer_publishes_for_a_commune_chosen_by_name(
    browser: Browser, world: RunningGateway
) -> None:
    communes = [loc for loc in search("tân an") if loc.name == "Xã Tân An"]
    chosen = communes[1]  # not the first namesake: the province tells them apart
    chat = await world.chat()
    contact = await contact_for(world.app[DB], chat.session_id)
    assert contact is not None
    await subscribe(world.app[DB], contact.id, "datdai", chosen.code)

    page, errors, dialogs = await staff_page(browser, world.base_url)
    await page.goto(f"{world.base_url}/console/dang-bai")
    await page.fill("#title", TITLE)
    await page.fill("#summary", "Hồ sơ nộp tại bộ phận một cửa của xã, không lên tỉnh.")
    await page.fill("#body", "Hồ sơ cần có:\n* **Đơn** đề nghị\n* Giấy tờ về đất")
    await page.check("input[name=topics][value=datdai]")
    await page.fill("#place-q", "tân an")
    label = f"Xã Tân An — {chosen.province_title}"
    await page.locator("#place-results button", has_text=label).click()
    await expect(page.locator("#chosen .chip")).to_have_count(1)
    await expect(page.locator("#chosen .chip-label")).to_have_text(label)
    await expect(page.locator("#place-results button")).to_have_count(0)
    await page.fill("#questions", "Cấp sổ đỏ cần giấy tờ gì?")

    await page.click("#preview-button")
    preview = page.locator("#preview-text")
    await expect(preview).to_contain_text(TITLE)
    previewed = await preview.inner_text()
    await expect(page.locator("#preview-excerpt")).to_contain_text("- Đơn đề nghị")
    await shoot(page, "publish")

    await page.click("#publish-button")
    await expect(page.locator("#explanation-title")).to_have_text(TITLE)
    await expect(page.locator(".report .recipients")).to_have_text("1")
    await expect(page.locator(".report .sent")).to_have_text("1")  # polled until sent
    await expect(page.locator(".report .pending")).to_have_text("0")
    await shoot(page, "report")

    message = await wait_for(chat, TITLE)
    assert message["text"] == previewed
    assert await page.evaluate("window.__violations") == []
    assert errors == [] and dialogs == [], errors
