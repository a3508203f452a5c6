"""The public scoreboard in headless Chromium, as a citizen on a phone opens it: no login, an
agency's figures in the table, its trend drawn by Chart.js under the page's CSP, and an agency
with fewer than 5 cases showing no figure at all."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.async_api import Browser, ConsoleMessage, ViewportSize, expect
from sqlalchemy import select

from bot.domain.actors import Actor
from bot.domain.cases import Kind, Status
from bot.domain.roles import Role
from bot.gateway import DB
from bot.services.cases import CaseDraft, file_case, transition_case
from bot.services.demo import load_demo
from bot.services.ratings import rate_case
from bot.store.db import Database
from bot.store.models import Agency, Contact
from tests.conftest import RunningGateway
from tests.e2e.test_handoff_browser import shoot
from tests.e2e.test_web_chat_browser import RECORD_VIOLATIONS

pytestmark = pytest.mark.browser

ADMIN = Actor(name="scoreboard-browser", role=Role.ADMIN)
NAME = "Lê Văn Kín"


async def _cases(db: Database, slug: str, n: int, contact: int) -> None:
    """`n` petitions received in the last days, each answered an hour later and rated 5."""
    async with db.session() as session:
        agency = (await session.execute(select(Agency.id).where(Agency.slug == slug))).scalar_one()
    now = datetime.now(UTC)
    for i in range(n):
        received = now - timedelta(hours=3 + i)
        draft = CaseDraft(
            kind=Kind.PETITION, content="Đèn đường hỏng", requester_name=NAME, consent=True
        )
        code = (await file_case(db, draft, contact, now=received, agency_id=agency)).code
        answered = received + timedelta(hours=1)
        await transition_case(db, code, Status.ANSWERED, ADMIN, "Đã sửa.", now=answered)
        assert await rate_case(db, code, contact, 5)


async def test_a_citizen_sees_agencies_scores_and_trends_and_no_figure_from_few_cases(
    browser: Browser, offline_gateway: RunningGateway
) -> None:
    gw = offline_gateway
    db = gw.app[DB]
    await load_demo(db)
    async with db.session() as session:
        session.add(Agency(slug="ubnd-xa-nho", name="UBND xã Nhỏ"))
        contact = Contact(channel="web", channel_user_id="scoreboard-browser")
        session.add(contact)
        await session.flush()
        contact_id = contact.id
    await _cases(db, "ubnd-phuong-demo", 6, contact_id)
    await _cases(db, "ubnd-xa-nho", 2, contact_id)

    context = await browser.new_context(viewport=ViewportSize(width=360, height=740))
    page = await context.new_page()
    await page.add_init_script(RECORD_VIOLATIONS)
    problems: list[str] = []

    def record(message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            problems.append(message.text)

    page.on("console", record)
    response = await page.goto(f"{gw.base_url}/cong-khai")
    assert response is not None and response.ok, "no login asked"
    await expect(page.locator("h1")).to_have_text("Công khai kết quả giải trình")

    demo = page.locator('#scoreboard tr[data-agency="ubnd-phuong-demo"]')
    await expect(demo.locator('[data-figure="received"]')).to_have_text("6")
    await expect(demo.locator('[data-figure="answer_on_time"]')).to_have_text("100,0%")
    await expect(demo.locator('[data-figure="satisfaction"]')).to_have_text("5,00")
    small = page.locator('#scoreboard tr[data-agency="ubnd-xa-nho"]')
    for figure in ("received", "answer_on_time", "median_days", "satisfaction", "satisfied"):
        await expect(small.locator(f'[data-figure="{figure}"]')).to_have_text("—")

    # each agency's trend is a chart Chart.js drew on its canvas
    canvases = page.locator("canvas[data-trend]")
    await expect(canvases).to_have_count(2)
    drawn = await page.evaluate(
        "() => [...document.querySelectorAll('canvas[data-trend]')]"
        ".map(c => Chart.getChart(c) !== undefined)"
    )
    assert drawn == [True, True]
    assert await page.evaluate("window.__violations") == []
    assert problems == []
    assert NAME not in await page.content()
    fits = await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert fits, "the page fits a phone's width (the wide table scrolls inside its box)"
    await shoot(page, "scoreboard")
    await context.close()
