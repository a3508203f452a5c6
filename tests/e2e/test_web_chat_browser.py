"""The chat page in headless Chromium under its security headers: it works with no CSP
violation, and a refusal for sending too fast reads plainly and keeps the typed text."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Browser, ConsoleMessage, Page, expect

from bot.web.headers import SECURITY_HEADERS
from tests.conftest import RunningGateway, Tokens, free_port, gateway_settings, running_gateway
from tests.e2e.conftest import send

pytestmark = [
    pytest.mark.browser,
    # What is tested is the page in the browser; storage is tested on both databases elsewhere.
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]

TOO_FAST = re.compile(r"^Anh/chị gửi nhanh quá, vui lòng đợi [1-9][0-9]* giây rồi gửi lại\.$")
TOO_MANY_SESSIONS = re.compile(
    r"^Có quá nhiều phiên trò chuyện mới từ mạng của anh/chị, vui lòng đợi [1-9][0-9]* giây"
)

# Runs before the page's own script; the listener sees every CSP refusal in the document.
RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__violations.push(e.effectiveDirective + " blocked " + (e.blockedURI || "inline"));
});
"""


async def open_chat(browser: Browser, url: str) -> tuple[Page, list[str]]:
    """A fresh visitor (own storage) on the chat page; the console's errors and warnings."""
    context = await browser.new_context()
    page = await context.new_page()
    await page.add_init_script(RECORD_VIOLATIONS)
    console: list[str] = []

    def record(message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            console.append(message.text)

    page.on("console", record)
    response = await page.goto(url)
    assert response is not None and response.ok
    headers = await response.all_headers()
    sent = {name: headers.get(name.lower()) for name in SECURITY_HEADERS}
    assert sent == SECURITY_HEADERS, "the page is served with its security headers"
    return page, console


async def test_chat_page_works_under_its_content_security_policy(
    browser: Browser, gateway: RunningGateway
) -> None:
    page, console = await open_chat(browser, gateway.base_url + "/")
    await send(page, "xin chào")
    bot = page.locator("#messages .msg-out")
    await expect(bot.first).to_contain_text("Xin chào", timeout=20_000)
    await page.locator("button.quick-reply", has_text="Hướng dẫn").first.click()
    await expect(bot.last).to_contain_text("Tôi có thể giúp anh/chị", timeout=20_000)
    await page.fill("#input", "a" * 1700)  # the counter shows, the box grows (style by script)
    await expect(page.locator("#counter")).to_be_visible()

    assert await page.evaluate("window.__violations") == []
    assert console == [], "no CSP report (nor any other error) in the console"

    # The listener is live: inline code, which the policy forbids, is refused and reported.
    await page.evaluate(
        """() => { const s = document.createElement("script");
                   s.textContent = "window.__inline = 1"; document.body.append(s); }"""
    )
    await page.wait_for_function("window.__violations.length > 0")
    assert await page.evaluate("window.__violations") == ["script-src-elem blocked inline"]
    assert await page.evaluate("window.__inline === undefined")


async def test_too_fast_is_shown_in_vietnamese_and_the_text_is_kept(
    browser: Browser, database_url: str, tokens: Tokens
) -> None:
    limits = {
        "web_messages_per_session_burst": 1,
        "web_messages_per_session_per_min": 1.0,
        "web_sessions_per_ip_burst": 1,
        "web_sessions_per_ip_per_min": 1.0,
    }
    engine_down = f"http://127.0.0.1:{free_port()}"  # each message gets the apology
    settings = gateway_settings(database_url, tokens, engine_down, retry_interval=3600, **limits)
    async with running_gateway(settings, free_port()) as gw:
        page, console = await open_chat(browser, gw.base_url + "/")
        await send(page, "câu hỏi thứ nhất")
        await expect(page.locator("#messages .msg-out")).to_have_count(1)

        await send(page, "câu hỏi thứ hai")
        notice = page.locator("#messages .notice")
        await expect(notice).to_have_text(TOO_FAST, timeout=10_000)
        await expect(page.locator("#input")).to_have_value("câu hỏi thứ hai")
        await expect(page.locator("#messages .msg-in")).to_have_text(["câu hỏi thứ nhất"])
        assert await page.evaluate("window.__violations") == []

        # A second visitor from the same address, past the limit on new sessions.
        other, _ = await open_chat(browser, gw.base_url + "/")
        status = other.locator("#status")
        await expect(status).to_have_text(TOO_MANY_SESSIONS)
        await send(other, "xin chào")
        await expect(status).to_have_text(TOO_MANY_SESSIONS)
        await expect(other.locator("#input")).to_have_value("xin chào")
        await expect(other.locator("#messages .msg")).to_have_count(0)
