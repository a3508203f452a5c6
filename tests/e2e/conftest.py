"""Fixtures of the browser tests: Debian's Chromium driven by Playwright."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, Page, async_playwright

CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """Debian's Chromium, headless (no browser download)."""
    executable = shutil.which("chromium")
    assert executable, "chromium is not installed (make test installs it: scripts/system-deps.sh)"
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        await browser.close()


async def send(page: Page, text: str) -> None:
    """Type `text` in the chat page and press Gửi, as a citizen does."""
    await page.fill("#input", text)
    await page.click("#send")
