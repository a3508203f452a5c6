"""Publishing from the console over real HTTP on both databases: places found by name and
stored by code, the same version and broadcast plan as the API, scheduled publishing, the
agency and country-wide rules, the preview against what a subscriber receives, escaping, and
the question gaps' filters leading to the form."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from bench.seed import add_subscribers
from bot.domain.actors import Actor
from bot.domain.deadlines import VN_TZ
from bot.domain.localities import search
from bot.domain.roles import Role
from bot.gateway import DB
from bot.services.broadcasts import broadcast_report
from bot.services.explanations import current_explanations, get_version, release_scheduled
from bot.services.gaps import log_gap
from bot.services.subscriptions import subscribe
from bot.services.users import issue_token
from bot.services.webchat import contact_for
from bot.store.models import utcnow
from tests.chat import wait_for
from tests.conftest import RunningGateway
from tests.console import DEMO, STAFF, Browser, staff_world
from tests.integration.test_case_api import call

ADMIN = Actor("test", Role.ADMIN)
FORM = {
    "title": "Cấp sổ đỏ lần đầu tại xã từ tháng 12/2026",
    "summary": "Hồ sơ cấp giấy chứng nhận lần đầu nộp tại bộ phận một cửa của xã.",
    "body": "Hồ sơ cần có:\n* **Đơn** đề nghị\n* Bản sao *giấy tờ* về đất\n\nNộp tại xã.",
    "source_document": "Quyết định minh họa 1/QĐ-UBND",
    "source_url": "https://example.invalid/qd-1",
    "topics": "datdai",
    "questions": "Cấp sổ đỏ cần giấy tờ gì?\nNộp hồ sơ sổ đỏ ở đâu?",
}


def tan_an() -> list[tuple[str, str]]:
    """The communes called Tân An, as (code, province) — there are several."""
    return [(loc.code, loc.province_title) for loc in search("tân an") if loc.name == "Xã Tân An"]


@pytest.fixture
async def world(offline_gateway: RunningGateway) -> AsyncIterator[RunningGateway]:
    """Staff of every role (and of another agency)."""
    await staff_world(offline_gateway.app[DB])
    yield offline_gateway


async def officer(gw: RunningGateway, username: str = STAFF["officer"]) -> Browser:
    """A staff member's browser, logged in, on the publishing form (its CSRF token read)."""
    browser = Browser(gw.base_url)
    await browser.log_in(username)
    await browser.get("/console/dang-bai")
    return browser


async def post_form(browser: Browser, path: str, fields: dict[str, Any]) -> Any:
    """POST a form whose fields may repeat (a list value: one field per item)."""
    pairs = [(k, v) for k, vs in fields.items() for v in (vs if isinstance(vs, list) else [vs])]
    pairs.append(("csrf", browser.csrf))
    async with browser.http.post(browser.base_url + path, data=pairs) as resp:
        return await browser._page(resp)


async def test_places_are_found_by_name_with_their_province_and_stored_by_code(
    world: RunningGateway,
) -> None:
    communes = tan_an()
    assert len({province for _, province in communes}) >= 2, communes
    browser = await officer(world)
    try:
        found = await browser.get("/console/dia-ban?q=tân an")
        for code, province in communes:
            assert f"Xã Tân An — {province}" in found.html, province
            assert f'"them": "{code}"' in html.unescape(found.html)
        (first, _), (second, second_province) = communes[0], communes[1]
        chosen = await browser.get(f"/console/dia-ban/chon?localities={first}&them={second}")
        assert re.findall(r'name="localities" value="([^"]+)"', chosen.html) == [first, second]
        assert f"Xã Tân An — {second_province}" in chosen.html
        removed = await browser.get(
            f"/console/dia-ban/chon?localities={first}&localities={second}&bo={first}"
        )
        assert re.findall(r'name="localities" value="([^"]+)"', removed.html) == [second]
        country = await browser.get(f"/console/dia-ban/chon?localities={second}&them=country")
        assert 'value="country"' not in country.html, "an officer cannot choose the country"
        page = await post_form(
            browser, "/console/dang-bai", {**FORM, "localities": [second, "p:1"]}
        )
        assert page.status == 200 and "/console/bai-giai-trinh/" in page.path, page.html[:800]
        slug = page.path.split("/console/bai-giai-trinh/")[1].split("?")[0]
        assert "Đã đăng phiên bản 1" in page.html and f"Xã Tân An, {second_province}" in page.html
    finally:
        await browser.close()
    stored = await get_version(world.app[DB], slug)
    assert stored["localities"] == [second, "p:1"]


async def test_the_console_stores_and_plans_exactly_what_the_api_does(
    world: RunningGateway,
) -> None:
    db = world.app[DB]
    (here, _), (there, _) = tan_an()[:2]
    await add_subscribers(db, [("datdai", here)], [("datdai", there)], [("thutuc", here)])
    browser = await officer(world)
    try:
        page = await post_form(browser, "/console/dang-bai", {**FORM, "localities": here})
        assert page.status == 200, page.html[:800]
        slug = page.path.split("/console/bai-giai-trinh/")[1].split("?")[0]
    finally:
        await browser.close()
    token = await issue_token(db, STAFF["officer"])
    body = {
        **{k: v for k, v in FORM.items() if k not in ("topics", "questions")},
        "topics": ["datdai"],
        "questions": FORM["questions"].splitlines(),
        "localities": [here],
        "slug": "ban-cua-api",
    }
    status, api = await call(world, token, "POST", "/explanations", body)
    assert status == 201, api
    console, by_api = await get_version(db, slug), await get_version(db, "ban-cua-api")
    for key in ("slug", "published_at"):
        console.pop(key), by_api.pop(key)
    assert console == by_api, "the same version, field by field"
    history = (await browser_history(world, slug))[0]
    report = await broadcast_report(db, history, ADMIN)
    assert report.recipients == api["broadcast"]["recipients"] == 1, "one subscriber of here"


async def browser_history(gw: RunningGateway, slug: str) -> list[int]:
    """The broadcast ids an admin's explanation page shows for a slug."""
    browser = Browser(gw.base_url)
    try:
        await browser.log_in(STAFF["admin"])
        page = await browser.get(f"/console/bai-giai-trinh/{slug}")
        assert page.status == 200
        return [int(i) for i in re.findall(r'id="broadcast-(\d+)"', page.html)]
    finally:
        await browser.close()


async def test_a_scheduled_publication_waits_for_its_time(world: RunningGateway) -> None:
    db = world.app[DB]
    later = (utcnow() + timedelta(days=2)).astimezone(VN_TZ).strftime("%Y-%m-%dT%H:%M")
    browser = await officer(world)
    try:
        page = await post_form(
            browser, "/console/dang-bai", {**FORM, "localities": "p:1", "publish_at": later}
        )
        assert page.status == 200 and "hẹn đăng" in page.html and "Đã hẹn gửi lúc" in page.html
        slug = page.path.split("/console/bai-giai-trinh/")[1].split("?")[0]
    finally:
        await browser.close()
    assert slug not in [e.slug for e in await current_explanations(db)], "not searchable yet"
    (broadcast,) = await browser_history(world, slug)
    assert not (await broadcast_report(db, broadcast)).planned
    assert await release_scheduled(db, utcnow() + timedelta(days=1)) == 0, "not yet"
    assert await release_scheduled(db, utcnow() + timedelta(days=3)) == 1
    assert (await broadcast_report(db, broadcast)).planned
    assert slug in [e.slug for e in await current_explanations(db)]


async def test_another_agencys_explanation_is_refused_by_url_as_by_the_api(
    world: RunningGateway,
) -> None:
    db = world.app[DB]
    browser = await officer(world)
    try:
        page = await post_form(browser, "/console/dang-bai", {**FORM, "localities": "p:1"})
        slug = page.path.split("/console/bai-giai-trinh/")[1].split("?")[0]
    finally:
        await browser.close()
    (broadcast,) = await browser_history(world, slug)
    other = await officer(world, "khac")
    try:
        for path in (f"/console/bai-giai-trinh/{slug}", f"/console/dang-bai?ma={slug}"):
            page = await other.get(path)
            assert page.status == 403, path
            assert page.text_of("error-message") == "Bài giải trình này thuộc cơ quan khác."
            assert FORM["summary"] not in page.html
        page = await other.get(f"/console/dot-gui/{broadcast}")
        assert page.status == 403
        over = {**FORM, "title": "Bài ghi đè", "slug": slug, "localities": "p:1"}
        page = await post_form(other, "/console/dang-bai", over)
        assert page.status == 403 and "cơ quan khác" in page.text_of("error-message")
        page = await post_form(other, f"/console/bai-giai-trinh/{slug}/gui-lai", {})
        assert page.status == 403
    finally:
        await other.close()
    assert (await get_version(db, slug))["version"] == 1, "nothing published over it"
    assert await browser_history(world, slug) == [broadcast], "nothing sent again"
    token = await issue_token(db, "khac")
    status, body = await call(world, token, "GET", f"/explanations/{slug}")
    assert (status, body["error"]["code"]) == (403, "other_agency"), "the API answers the same"


async def test_an_officer_cannot_send_to_the_whole_country(world: RunningGateway) -> None:
    db = world.app[DB]
    browser = await officer(world)
    try:
        form = await browser.get("/console/dang-bai")
        assert 'id="choose-country"' not in form.html
        page = await post_form(browser, "/console/dang-bai", {**FORM, "localities": "country"})
        assert page.status == 403
        assert page.text_of("error-message") == "Tài khoản cán bộ không được gửi tin cho cả nước."
        page = await post_form(browser, "/console/dang-bai", {**FORM})
        assert page.status == 400 and "Hãy chọn ít nhất một địa bàn" in page.html
        assert FORM["title"] in page.html, "what was typed is kept"
    finally:
        await browser.close()
    assert not await current_explanations(db) or all(
        e.title != FORM["title"] for e in await current_explanations(db)
    )
    admin = await officer(world, STAFF["admin"])
    try:
        form = await admin.get("/console/dang-bai")
        assert 'id="choose-country"' in form.html
        page = await post_form(
            admin, "/console/dang-bai", {**FORM, "localities": "country", "agency": DEMO}
        )
        assert page.status == 200 and "Toàn quốc" in page.html
    finally:
        await admin.close()


async def test_the_preview_is_the_message_a_subscriber_receives(world: RunningGateway) -> None:
    db = world.app[DB]
    chat = await world.chat()
    contact = await contact_for(db, chat.session_id)
    assert contact is not None
    await subscribe(db, contact.id, "datdai", "p:1")
    browser = await officer(world)
    try:
        form = {**FORM, "localities": "p:1"}
        preview = await post_form(browser, "/console/dang-bai/xem-truoc", form)
        text = html.unescape(preview.text_of("preview-text"))
        excerpt = html.unescape(preview.text_of("preview-excerpt"))
        assert "- Đơn đề nghị" in excerpt and "*" not in excerpt, "Markdown read as text"
        page = await post_form(browser, "/console/dang-bai", form)
        assert page.status == 200
    finally:
        await browser.close()
    received = await wait_for(chat, FORM["title"])
    assert received["text"] == text


async def test_a_script_in_a_title_is_shown_as_text(world: RunningGateway) -> None:
    script = "<script>alert(1)</script>"
    browser = await officer(world)
    try:
        form = {**FORM, "title": f"Lịch tiếp dân {script}", "localities": "p:1"}
        preview = await post_form(browser, "/console/dang-bai/xem-truoc", form)
        assert script not in preview.html and "&lt;script&gt;" in preview.html
        page = await post_form(browser, "/console/dang-bai", form)
        assert page.status == 200 and script not in page.html and "&lt;script&gt;" in page.html
    finally:
        await browser.close()


async def test_question_gaps_filter_by_day_and_place_and_lead_to_the_form(
    world: RunningGateway,
) -> None:
    db = world.app[DB]
    (here, _), (there, _) = tan_an()[:2]
    await log_gap(db, "Xin giấy phép xây dựng nhà ở cần gì?", "unanswered", locality=here)
    await log_gap(db, "Đường làng bị ngập khi nào sửa?", "unanswered", locality=there)
    browser = await officer(world)
    try:
        every = await browser.get("/console/cau-hoi-chua-tra-loi")
        assert "giấy phép xây dựng" in every.html and "Đường làng" in every.html
        only = await browser.get(f"/console/cau-hoi-chua-tra-loi?dia-ban={here}")
        assert "giấy phép xây dựng" in only.html and "Đường làng" not in only.html
        assert f'name="dia-ban" value="{here}"' in only.html, "the chosen place is kept"
        tomorrow = (utcnow() + timedelta(days=1)).astimezone(VN_TZ).date().isoformat()
        later = await browser.get(f"/console/cau-hoi-chua-tra-loi?tu-ngay={tomorrow}")
        assert "giấy phép xây dựng" not in later.html and "Chưa có câu hỏi nào" in later.html
        bad = await browser.get("/console/cau-hoi-chua-tra-loi?tu-ngay=hôm-qua")
        assert bad.status == 400 and "Ngày không hợp lệ" in bad.html
        link = re.search(r'class="write" href="([^"]+)"', only.html)
        assert link, only.html[:2000]
        form = await browser.get(html.unescape(link.group(1)))
        assert form.status == 200
        assert form.text_of("questions") == "Xin giấy phép xây dựng nhà ở cần gì?"
    finally:
        await browser.close()
