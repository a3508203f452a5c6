"""Administration in the console over real HTTP on both databases: an account created by an
admin is reached through its set-password link, shown once; disabling ends log-ins; others
get 403; an agency's office hours are checked and change what the handoff offer says."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from bot.domain.handoff import HandoffPolicy
from bot.domain.office_hours import OfficeHours
from bot.gateway import DB
from bot.services import handoff
from bot.store import contacts
from bot.store.models import Agency, User
from tests.conftest import RunningGateway
from tests.console import DEMO, PASSWORD, STAFF, WORKING_HOUR, Browser, staff_world


@pytest.fixture
async def world(offline_gateway: RunningGateway) -> AsyncIterator[RunningGateway]:
    """Staff of every role (and of another agency)."""
    await staff_world(offline_gateway.app[DB])
    yield offline_gateway


async def logged_in(gw: RunningGateway, username: str, page: str) -> Browser:
    """A staff member's browser on `page` (its CSRF token read)."""
    browser = Browser(gw.base_url)
    await browser.log_in(username)
    await browser.get(page)
    return browser


async def test_a_new_account_sets_its_password_through_the_link_shown_once(
    world: RunningGateway,
) -> None:
    admin = await logged_in(world, STAFF["admin"], "/console/tai-khoan")
    try:
        made = await admin.post(
            "/console/tai-khoan",
            {"username": "canbo2", "display_name": "Cán Bộ Hai", "role": "officer", "agency": DEMO},
        )
        assert made.status == 200 and made.headers["Cache-Control"] == "no-store"
        link = html.unescape(made.text_of("password-link"))
        assert link.startswith(world.base_url + "/console/dat-mat-khau/")
        again = await admin.get("/console/tai-khoan")
        assert link not in again.html and "Chưa đặt mật khẩu" in again.html, "shown once"
        same = await admin.post(
            "/console/tai-khoan", {"username": "canbo2", "role": "officer", "agency": DEMO}
        )
        assert same.status == 400 and same.text_of("form-error") == "Tên đăng nhập này đã có."
        lost = await admin.post(
            "/console/tai-khoan", {"username": "tongdai2", "role": "operator", "agency": ""}
        )
        assert lost.text_of("form-error") == "Cán bộ và tổng đài viên phải thuộc một cơ quan."
    finally:
        await admin.close()
    async with world.app[DB].session() as session:
        user = (await session.execute(select(User).where(User.username == "canbo2"))).scalar_one()
        assert user.password_hash is None and user.api_token_hash is None
        assert user.password_token_hash is not None and user.password_token_hash not in link
    newcomer = Browser(world.base_url)
    try:
        form = await newcomer.get(link.removeprefix(world.base_url))
        assert form.status == 200
        done = await newcomer.post(
            link.removeprefix(world.base_url), {"password": PASSWORD, "again": PASSWORD}
        )
        assert done.status == 200, done.html[:1000]
        page = await newcomer.log_in("canbo2")
        assert page.text_of("staff-name") == "Cán Bộ Hai"
        used = await newcomer.get(link.removeprefix(world.base_url))
        assert used.status == 404, "a link is used once"
    finally:
        await newcomer.close()


async def test_a_disabled_account_cannot_log_in_and_a_new_link_replaces_the_old(
    world: RunningGateway,
) -> None:
    admin = await logged_in(world, STAFF["admin"], "/console/tai-khoan")
    try:
        first = await admin.post(f"/console/tai-khoan/{STAFF['operator']}/lien-ket", {})
        second = await admin.post(f"/console/tai-khoan/{STAFF['operator']}/lien-ket", {})
        old, new = (html.unescape(p.text_of("password-link")) for p in (first, second))
        assert old != new
        self_lock = await admin.post(f"/console/tai-khoan/{STAFF['admin']}/khoa", {})
        assert self_lock.status == 400
        page = await admin.post("/console/tai-khoan/khac/khoa", {})
        assert page.status == 200 and "Đã khóa tài khoản khac" in page.html
    finally:
        await admin.close()
    stale = Browser(world.base_url)
    try:
        assert (await stale.get(old.removeprefix(world.base_url))).status == 404
        assert (await stale.get(new.removeprefix(world.base_url))).status == 200
        refused = await stale.log_in("khac")
        assert refused.status == 401
    finally:
        await stale.close()


@pytest.mark.parametrize("role", ["officer", "operator"])
async def test_only_admins_administer(world: RunningGateway, role: str) -> None:
    browser = await logged_in(world, STAFF[role], "/console/mat-khau")
    try:
        for path in ("/console/tai-khoan", "/console/co-quan", f"/console/co-quan/{DEMO}"):
            assert (await browser.get(path)).status == 403, path
        made = await browser.post(
            "/console/tai-khoan", {"username": "lau", "role": "admin", "agency": ""}
        )
        assert made.status == 403
        edited = await browser.post(f"/console/co-quan/{DEMO}", {"name": "Đổi tên"})
        assert edited.status == 403
    finally:
        await browser.close()
    async with world.app[DB].session() as session:
        assert (await session.execute(select(User).where(User.username == "lau"))).first() is None
        agency = (await session.execute(select(Agency).where(Agency.slug == DEMO))).scalar_one()
        assert agency.name != "Đổi tên"


async def offer_at_nine(gw: RunningGateway, who: str) -> str:
    """What a citizen asking for a person on a Wednesday at 9:00 is told."""
    db = gw.app[DB]
    async with db.session() as session:
        contact = await contacts.add_contact(session, "web", who, "Người dân")
        sender = (await contacts.current_conversation(session, contact.id)).engine_sender
    offer = await handoff.offer(db, sender, HandoffPolicy(OfficeHours.parse()), WORKING_HOUR)
    return offer.text


async def test_office_hours_are_checked_and_change_the_handoff_offer(
    world: RunningGateway,
) -> None:
    before = await offer_at_nine(world, "truoc")
    assert "cán bộ sẽ trả lời ngay" in before, before
    admin = await logged_in(world, STAFF["admin"], f"/console/co-quan/{DEMO}")
    try:
        bad = await admin.post(
            f"/console/co-quan/{DEMO}",
            {"name": "UBND phường", "contact": "1900 1234", "office_hours": "13:30-11:00"},
        )
        assert bad.status == 400 and bad.text_of("form-error").startswith("Giờ làm việc không")
        assert 'value="13:30-11:00"' in bad.html, "what was typed is shown again"
        async with world.app[DB].session() as session:
            agency = (await session.execute(select(Agency).where(Agency.slug == DEMO))).scalar_one()
            assert (agency.name, agency.office_hours) != ("UBND phường", "13:30-11:00")
        saved = await admin.post(
            f"/console/co-quan/{DEMO}",
            {"name": "UBND phường", "contact": "1900 1234", "office_hours": "13:30-17:00"},
        )
        assert saved.status == 200 and saved.text_of("notice") == "Đã lưu."
    finally:
        await admin.close()
    after = await offer_at_nine(world, "sau")
    assert "ngoài giờ làm việc" in after and "13 giờ 30" in after, after
    assert "1900 1234" in after


async def test_an_agency_is_created_and_its_name_is_text(world: RunningGateway) -> None:
    script = "<script>alert(1)</script>"
    admin = await logged_in(world, STAFF["admin"], "/console/co-quan")
    try:
        bad = await admin.post("/console/co-quan", {"slug": "Sở Mới", "name": "Sở mới"})
        assert bad.status == 400 and "Mã cơ quan" in bad.text_of("form-error")
        made = await admin.post(
            "/console/co-quan", {"slug": "so-moi", "name": f"Sở mới {script}", "office_hours": ""}
        )
        assert made.status == 200 and made.path == "/console/co-quan/so-moi?xong=1"
        listed = await admin.get("/console/co-quan")
        assert script not in listed.html and "Sở mới &lt;script&gt;" in listed.html
        accounts = await admin.get("/console/tai-khoan")
        assert re.search(r'<option value="so-moi">Sở mới &lt;script&gt;', accounts.html)
    finally:
        await admin.close()
