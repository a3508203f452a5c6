"""A citizen asks for a person in the web chat and an operator answers from the console, both
in headless Chromium under the strict CSP, with the real engine: the request appears in the
operator's queue without a reload, the operator claims it, reads the transcript (with what the
bot understood), replies, and gives it back to the bot, which answers the next message."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from bot.gateway import DB
from tests.conftest import RunningGateway
from tests.console import PASSWORD, STAFF, staff_world
from tests.e2e.conftest import send
from tests.e2e.test_web_chat_browser import RECORD_VIOLATIONS, open_chat
from tests.integration.test_handoff import always_open

pytestmark = pytest.mark.browser
LIVE = 20_000  # ms: a turn of the real engine, or the next round of a live page
# `make screenshots` sets this to docs/console: the README's pictures come from this test.
SHOTS = os.environ.get("GIAITRINH_SCREENSHOTS", "")


async def shoot(page: Page, name: str) -> None:
    """Save a screenshot of the page when asked to (never in an ordinary run)."""
    if SHOTS:
        await page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


async def operator_page(browser: Browser, base_url: str, username: str) -> tuple[Page, list[str]]:
    """An operator's own browser, logged in (operators land on the queue)."""
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    await page.add_init_script(RECORD_VIOLATIONS)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    await page.goto(base_url + "/console/")
    await page.fill("#username", username)
    await page.fill("#password", PASSWORD)
    await page.click("#login")
    await expect(page.locator("h1")).to_have_text("Hàng chờ")
    return page, errors


async def test_an_operator_answers_a_citizen_live_and_gives_the_conversation_back(
    browser: Browser, gateway: RunningGateway
) -> None:
    gw = gateway
    always_open(gw)  # the real clock: the times shown are plausible
    await staff_world(gw.app[DB])
    operator, errors = await operator_page(browser, gw.base_url, STAFF["operator"])
    await expect(operator.locator("#queue-empty")).to_be_visible()

    citizen, _ = await open_chat(browser, gw.base_url + "/")
    bot = citizen.locator("#messages .msg-out")
    await send(citizen, "cho tôi gặp cán bộ")
    await expect(bot.last).to_contain_text("trò chuyện trực tiếp với cán bộ", timeout=LIVE)
    await citizen.locator("button.quick-reply", has_text="Gặp cán bộ").last.click()
    await expect(bot.last).to_contain_text("đã chuyển cuộc trò chuyện cho cán bộ", timeout=LIVE)
    await send(citizen, "Nhà tôi ở ngõ 5, đèn đường hỏng cả tháng nay")

    # The queue updates itself: no reload.
    row = operator.locator("table.queue tbody tr").first
    await expect(row).to_contain_text("đèn đường hỏng", timeout=LIVE)
    await expect(row).to_contain_text("Đang chờ")
    await shoot(operator, "queue")
    await row.locator("button.claim").click()

    await expect(operator.locator("h1")).to_contain_text("Trò chuyện với")
    transcript = operator.locator("#transcript")
    await expect(transcript).to_contain_text("cho tôi gặp cán bộ")
    await expect(transcript).to_contain_text("Trợ lý hiểu: muốn gặp cán bộ")
    await expect(transcript).to_contain_text("đèn đường hỏng cả tháng nay")
    await expect(bot.last).to_contain_text("đang hỗ trợ anh/chị", timeout=LIVE)

    # A message the citizen sends now appears in the transcript by itself.
    await send(citizen, "Anh chị cho hỏi bao giờ sửa được ạ?")
    await expect(transcript).to_contain_text("bao giờ sửa được", timeout=LIVE)

    answer = "Chào anh/chị, phường đã báo công ty chiếu sáng, dự kiến sửa trong tuần này."
    await operator.fill("#reply-text", answer)
    await operator.click("#send-reply")
    await expect(transcript).to_contain_text(answer)
    await expect(bot.last).to_contain_text(answer, timeout=LIVE)
    await shoot(operator, "conversation")

    await operator.click("#return-to-bot")
    await expect(operator.locator("h1")).to_have_text("Hàng chờ")
    await expect(operator.locator("#queue-empty")).to_be_visible()
    await expect(bot.last).to_contain_text("Trợ lý tự động tiếp tục", timeout=LIVE)

    await send(citizen, "Cơ quan phải trả lời yêu cầu giải trình trong bao lâu?")
    await expect(bot.last).to_contain_text("5 ngày làm việc", timeout=LIVE)

    assert await operator.evaluate("window.__violations") == []
    assert await citizen.evaluate("window.__violations") == []
    assert errors == [], errors
