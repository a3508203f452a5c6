"""The chat page in headless Chromium under its security headers: it works with no CSP
violation, greets a first visit with the menu (once), refuses a too-long paste plainly while
keeping it, fits a 360-px phone, and a refusal for sending too fast reads plainly and keeps
the typed text."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Browser, ConsoleMessage, Locator, Page, ViewportSize, expect

from bot.web.headers import SECURITY_HEADERS
from tests.conftest import RunningGateway, Tokens, free_port, gateway_settings, running_gateway
from tests.e2e.conftest import send

pytestmark = pytest.mark.browser

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


PHONE = ViewportSize(width=360, height=640)
TOO_LONG = re.compile(
    r"^Tin nhắn dài 5\.000 ký tự, quá giới hạn 2\.000 ký tự của một tin nhắn\. "
    r"Anh/chị vui lòng chia thành nhiều tin nhắn ngắn hơn; .*“gửi phản ánh”.*hồ sơ\.$"
)
MENU = ["Hỏi về chính sách, thủ tục", "Gửi yêu cầu giải trình", "Gửi phản ánh, kiến nghị"]


async def open_chat(
    browser: Browser, url: str, viewport: ViewportSize | None = None
) -> tuple[Page, list[str]]:
    """A fresh visitor (own storage) on the chat page; the console's errors and warnings."""
    context = await browser.new_context(viewport=viewport)
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
        await expect(page.locator("#messages .msg-out")).to_have_count(1)  # the greeting
        await send(page, "câu hỏi thứ nhất")
        await expect(page.locator("#messages .msg-out")).to_have_count(2)  # and the apology

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


async def box(locator: Locator) -> tuple[float, float, float, float]:
    """Left, top, right, bottom of an element on the page, in CSS pixels."""
    found = await locator.bounding_box()
    assert found is not None, f"{locator} is not displayed"
    return found["x"], found["y"], found["x"] + found["width"], found["y"] + found["height"]


async def assert_inside(inner: Locator, outer: Locator) -> None:
    """`inner` is drawn entirely within `outer`."""
    a, b = await box(inner), await box(outer)
    assert b[0] <= a[0] and b[1] <= a[1] and a[2] <= b[2] and a[3] <= b[3], (
        f"{inner} at {a} overflows {outer} at {b}"
    )


async def assert_no_horizontal_scroll(page: Page) -> None:
    """Nothing is wider than the phone's screen."""
    widths = await page.evaluate(
        "[document.documentElement.scrollWidth, window.innerWidth, document.body.scrollWidth]"
    )
    assert widths[0] <= widths[1] and widths[2] <= widths[1], f"scroll/inner widths: {widths}"


async def test_first_open_greets_with_the_menu_and_a_reload_does_not_greet_again(
    browser: Browser, gateway: RunningGateway
) -> None:
    page, console = await open_chat(browser, gateway.base_url + "/")
    bot = page.locator("#messages .msg-out")
    await expect(bot).to_have_count(1)
    await expect(bot).to_contain_text("Xin chào anh/chị!")
    for title in [*MENU, "Hướng dẫn"]:
        await expect(bot.locator("button.quick-reply", has_text=title)).to_be_visible()

    placeholder = await page.get_attribute("#input", "placeholder") or ""
    shown = await page.inner_text("body") + placeholder
    assert "anh/chị" in shown and not re.search(r"\bbạn\b", shown, re.IGNORECASE), (
        "the page addresses the citizen politely, as anh/chị"
    )

    await page.reload()
    await expect(bot).to_have_count(1)  # the history, greeted once
    await expect(bot.first).to_contain_text("Xin chào anh/chị!")
    await bot.locator("button.quick-reply", has_text="Hướng dẫn").click()
    await expect(bot.last).to_contain_text("Tôi có thể giúp anh/chị", timeout=20_000)
    await expect(page.locator("#messages .msg-in")).to_have_text(["Hướng dẫn"])
    await expect(bot).to_have_count(2)
    assert console == [] and await page.evaluate("window.__violations") == []


async def test_a_too_long_paste_is_kept_and_refused_plainly_on_a_phone(
    browser: Browser, offline_gateway: RunningGateway
) -> None:
    page, console = await open_chat(browser, offline_gateway.base_url + "/", PHONE)
    await expect(page.locator("#messages .msg-out")).to_have_count(1)  # the greeting
    pasted = "Nội dung phản ánh rất dài. " * 185 + "Xong."  # 5,000 characters
    assert len(pasted) == 5000
    await page.fill("#input", pasted)

    kept = await page.input_value("#input")
    assert len(kept) == 5000 and kept == pasted, "the paste is kept whole, never cut"
    await expect(page.locator("#too-long")).to_have_text(TOO_LONG)
    await expect(page.locator("#send")).to_be_disabled()
    await expect(page.locator("#counter")).to_have_text("5.000/2.000 ký tự")
    await assert_inside(page.locator("#counter"), page.locator("#composer"))
    await assert_no_horizontal_scroll(page)
    await page.press("#input", "Enter")  # refused: nothing sent, nothing lost
    await expect(page.locator("#messages .msg-in")).to_have_count(0)
    assert await page.input_value("#input") == pasted, "a refused text stays in the box"

    await page.fill("#input", pasted[:2000])  # fits: the warning goes, sending works
    await expect(page.locator("#too-long")).to_be_hidden()
    await expect(page.locator("#counter")).to_have_text("2.000/2.000 ký tự")
    await assert_inside(page.locator("#counter"), page.locator("#composer"))
    await page.click("#send")
    await expect(page.locator("#messages .msg-in")).to_have_text([pasted[:2000].strip()])
    await expect(page.locator("#input")).to_have_value("")
    assert console == [] and await page.evaluate("window.__violations") == []


async def test_the_chat_fits_a_360_px_phone_with_its_buttons_wrapped(
    browser: Browser, offline_gateway: RunningGateway
) -> None:
    page, _ = await open_chat(browser, offline_gateway.base_url + "/", PHONE)
    greeting = page.locator("#messages .msg-out").first
    await expect(greeting.locator("button.quick-reply")).to_have_count(4)
    row = greeting.locator(".buttons")
    tops = {(await box(b))[1] for b in await row.locator("button").all()}
    assert len(tops) > 1, "the menu wraps onto several lines"
    for button in await row.locator("button").all():
        await assert_inside(button, page.locator("#chat"))
    await send(page, "https://dichvucong.gov.vn/" + "a" * 300)  # one unbreakable word
    await expect(page.locator("#messages .msg-in")).to_have_count(1)
    await assert_no_horizontal_scroll(page)
    for part in ("#composer", "#send", "header.top", "footer.privacy"):
        await assert_inside(page.locator(part), page.locator("body"))


async def test_the_page_counts_against_the_servers_own_limit(
    browser: Browser, database_url: str, tokens: Tokens
) -> None:
    engine_down = f"http://127.0.0.1:{free_port()}"
    settings = gateway_settings(database_url, tokens, engine_down, web_max_chars=50)
    async with running_gateway(settings, free_port()) as gw:
        page, _ = await open_chat(browser, gw.base_url + "/", PHONE)
        await expect(page.locator("#messages .msg-out")).to_have_count(1)  # the greeting
        await page.fill("#input", "x" * 51)
        await expect(page.locator("#counter")).to_have_text("51/50 ký tự")
        await expect(page.locator("#too-long")).to_contain_text("quá giới hạn 50 ký tự")
        await expect(page.locator("#send")).to_be_disabled()
        await page.fill("#input", "x" * 50)
        await expect(page.locator("#send")).to_be_enabled()
        await expect(page.locator("#too-long")).to_be_hidden()
