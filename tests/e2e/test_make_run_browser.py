"""`make run` as a new user types it, then a citizen in headless Chromium uses the web chat."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from bot.settings import PROJECT_ROOT
from tests.conftest import free_port
from tests.e2e.conftest import send

pytestmark = pytest.mark.browser


async def _read_until(
    stream: asyncio.StreamReader, pattern: str, limit_s: float
) -> tuple[str, str]:
    seen: list[str] = []
    async with asyncio.timeout(limit_s):
        while True:
            line = (await stream.readline()).decode(errors="replace")
            if not line:
                raise AssertionError("make run exited early:\n" + "".join(seen[-40:]))
            seen.append(line)
            match = re.search(pattern, line)
            if match:
                return match.group(1), "".join(seen)


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


async def test_make_run_gives_a_working_web_chat(
    browser: Browser, model_path: Path, tmp_path: Path
) -> None:
    port, rasa_port = free_port(), free_port()
    env = {
        **os.environ,
        "GIAITRINH_PORT": str(port),
        "GIAITRINH_RASA_URL": f"http://127.0.0.1:{rasa_port}",
        "GIAITRINH_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'run.db'}",
    }
    proc = await asyncio.create_subprocess_exec(
        "make",
        "run",
        cwd=PROJECT_ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,
    )
    assert proc.stdout is not None
    try:
        url, _ = await _read_until(proc.stdout, r"Web chat:\s+(http://\S+)", limit_s=300)
        assert url == f"http://127.0.0.1:{port}/"
        page = await browser.new_page()
        await page.goto(url)
        await expect(page.locator("html")).to_have_attribute("lang", "vi")

        await send(page, "xin chào")
        bot = page.locator("#messages .msg-out")
        await expect(bot.first).to_contain_text("Xin chào", timeout=20_000)

        await page.locator("button.quick-reply", has_text="Hướng dẫn").first.click()
        await expect(bot.last).to_contain_text("Tôi có thể giúp anh/chị", timeout=20_000)
        await expect(page.locator("#messages .msg-in").last).to_contain_text("Hướng dẫn")
        count = await page.locator("#messages .msg").count()
        assert count >= 4

        await page.reload()
        await expect(page.locator("#messages .msg")).to_have_count(count, timeout=10_000)
        await expect(page.locator("#messages .msg-in").first).to_have_text("xin chào")

        await send(page, "<b>Nguyễn</b> hỏi")
        await expect(page.locator("#messages .msg-in").last).to_have_text("<b>Nguyễn</b> hỏi")
        assert await page.locator("#messages b").count() == 0, "HTML must not be interpreted"
    finally:
        if proc.returncode is None:
            os.killpg(proc.pid, signal.SIGINT)
            try:
                rest = await asyncio.wait_for(proc.stdout.read(), timeout=60)
            except TimeoutError:
                os.killpg(proc.pid, signal.SIGKILL)
                raise
            await proc.wait()
        else:
            rest = b""
    assert "stopped gateway and engine" in rest.decode(errors="replace")
    assert not _port_open(port) and not _port_open(rasa_port), "Ctrl-C must stop both processes"
