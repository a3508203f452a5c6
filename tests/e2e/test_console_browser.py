"""The console in headless Chromium under the strict CSP: a requester's name that is a script
shows as text (no dialog), and an officer works a case from the list to the answer entirely in
the console while the citizen receives the answer in the web chat."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, ConsoleMessage, Dialog, Page, expect

from bot.gateway import DB
from tests.chat import wait_for
from tests.conftest import RunningGateway
from tests.console import PASSWORD, STAFF, citizen_case, staff_world
from tests.e2e.test_handoff_browser import shoot
from tests.e2e.test_web_chat_browser import RECORD_VIOLATIONS

pytestmark = pytest.mark.browser

SCRIPT = "<script>alert(1)</script>"


@pytest.fixture
async def world(offline_gateway: RunningGateway) -> AsyncIterator[RunningGateway]:
    """Staff of every role with passwords."""
    await staff_world(offline_gateway.app[DB])
    yield offline_gateway


async def staff_page(browser: Browser, base_url: str) -> tuple[Page, list[str], list[str]]:
    """A fresh browser context logged in as the officer; its console errors and dialogs."""
    context = await browser.new_context()
    page = await context.new_page()
    await page.add_init_script(RECORD_VIOLATIONS)
    errors: list[str] = []
    dialogs: list[str] = []

    def record(message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            errors.append(message.text)

    async def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        await dialog.dismiss()

    page.on("console", record)
    page.on("dialog", on_dialog)
    await page.goto(base_url + "/console/")
    await expect(page.locator("#username")).to_be_visible()
    await page.fill("#username", STAFF["officer"])
    await page.fill("#password", PASSWORD)
    await page.click("#login")
    await expect(page.locator("#staff-name")).to_have_text("Cán Bộ Một")
    return page, errors, dialogs


async def test_a_script_in_a_requesters_name_is_shown_as_text(
    browser: Browser, world: RunningGateway
) -> None:
    code = await citizen_case(world, requester_name=SCRIPT, subject=f"Tiêu đề {SCRIPT}")
    page, errors, dialogs = await staff_page(browser, world.base_url)
    await page.goto(f"{world.base_url}/console/ho-so/{code}")
    await expect(page.locator("#requester")).to_contain_text(SCRIPT)
    await expect(page.locator("#case-subject")).to_have_text(f"Tiêu đề {SCRIPT}")
    assert await page.locator("main script").count() == 0
    assert dialogs == [], "no script ran"
    assert await page.evaluate("window.__violations") == []
    assert errors == [], errors


async def test_an_officer_answers_a_case_and_the_citizen_receives_it(
    browser: Browser, world: RunningGateway
) -> None:
    chat = await world.chat()
    code = await citizen_case(world, chat)
    await citizen_case(world, content="Một hồ sơ khác, không phải hồ sơ này")
    page, errors, _ = await staff_page(browser, world.base_url)
    await expect(page.locator("#case-list .case-link")).to_have_count(2)
    await shoot(page, "cases")

    # htmx: choosing a filter updates the list (with the CSRF header) without a reload
    await page.fill("#filter-text", "thu hồi đất")
    await page.click("#filter")
    await expect(page.locator("#case-list .case-link")).to_have_count(1)
    await expect(page).to_have_url(re.compile(r"/console/ho-so\?.*q=thu(%20|\+)h"))  # pushed
    await page.click(f"text={code}")
    await expect(page.locator("#case-code")).to_have_text(code)
    await expect(page.locator("#case-status")).to_have_text("Mới nhận")

    await page.click("#step-accepted button")
    await expect(page.locator("#case-status")).to_have_text("Đã tiếp nhận")
    await page.select_option("#assign select", STAFF["officer"])
    await page.click("#assign button")
    await expect(page.locator("#case-assignee")).to_have_text(STAFF["officer"])
    await page.click("#step-in_progress button")
    await expect(page.locator("#case-status")).to_have_text("Đang xử lý")
    answer = "Việc thu hồi đất theo Quyết định 12/QĐ-UBND căn cứ Luật Đất đai 2024, điều 79."
    await page.fill("#step-answered textarea", answer)
    await page.click("#step-answered button")
    await expect(page.locator("#case-status")).to_have_text("Đã trả lời")
    await expect(page.locator("#case-answer")).to_have_text(answer)
    await expect(page.locator("#events li")).to_have_count(5)  # filed, 3 changes, assignment
    await shoot(page, "case")

    message = await wait_for(chat, answer)
    assert code in message["text"], message
    assert await page.evaluate("window.__violations") == []
    assert errors == [], errors
