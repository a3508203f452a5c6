"""The operators' console screens over real HTTP on both databases: one operator per
conversation, other agencies kept out, citizens' names shown as text, and the live streams
(server-sent events) that refresh the queue and renew the operator's claims."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import timedelta

import aiohttp
import pytest

from bot.gateway import CHANNELS, DB, SETTINGS
from bot.services import handoff
from bot.services.passwords import set_password
from bot.services.users import actor_for_token, create_user, issue_token
from bot.store.models import Contact, Conversation, Handoff, utcnow
from tests.conftest import RunningGateway
from tests.console import DEMO, OTHER, PASSWORD, STAFF, Browser, staff_world, waiting_handoff
from tests.integration.test_case_api import call

SCRIPT = "<script>alert(1)</script>"


@pytest.fixture
async def desk(offline_gateway: RunningGateway) -> AsyncIterator[RunningGateway]:
    """Staff of every role, a second operator, and an operator of another agency."""
    db = offline_gateway.app[DB]
    await staff_world(db)
    await create_user(db, "tongdai2", "operator", DEMO, "Tổng Đài Hai")
    await create_user(db, "tongdai-khac", "operator", OTHER, "Tổng Đài Sở Khác")
    for username in ("tongdai2", "tongdai-khac"):
        await set_password(db, username, PASSWORD)
    yield offline_gateway


async def _logged_in(gw: RunningGateway, username: str) -> Browser:
    browser = Browser(gw.base_url)
    page = await browser.log_in(username)
    assert page.status == 200, page.html[:500]
    return browser


async def test_a_second_operators_claim_is_refused(desk: RunningGateway) -> None:
    hid = await waiting_handoff(desk.app[DB], "web-1")
    first, second = await _logged_in(desk, STAFF["operator"]), await _logged_in(desk, "tongdai2")
    try:
        page = await first.post(f"/console/hoi-thoai/{hid}/nhan", {})
        assert page.status == 200 and page.path == f"/console/hoi-thoai/{hid}", page.url
        assert page.text_of("handoff-status") == "Tổng Đài Viên đang trả lời"
        await second.get("/console/hang-cho")
        page = await second.post(f"/console/hoi-thoai/{hid}/nhan", {})
        assert page.status == 409, page.url
        assert page.text_of("error-message") == "Cán bộ khác đang trả lời cuộc trò chuyện này."
        page = await second.post(f"/console/hoi-thoai/{hid}/tra-loi", {"text": "Chào anh"})
        assert page.status == 409, page.url
        seen = await second.get(f"/console/hoi-thoai/{hid}")
        assert 'id="reply"' not in seen.html, "no reply form for who does not hold it"
    finally:
        await first.close()
        await second.close()


async def test_the_demo_agencys_canned_replies_fill_the_reply_box(desk: RunningGateway) -> None:
    hid = await waiting_handoff(desk.app[DB], "web-1")
    browser = await _logged_in(desk, STAFF["operator"])
    try:
        await browser.get("/console/hang-cho")
        page = await browser.post(f"/console/hoi-thoai/{hid}/nhan", {})
        found = re.search(r'hx-get="(/console/hoi-thoai/\d+/mau/\d+)"[^>]*>Chào<', page.html)
        assert found, page.html[-3000:]
        box = await browser.get(found.group(1))
        assert box.status == 200 and "tôi là cán bộ tiếp nhận của phường" in box.html, box.html
        assert 'id="reply-text"' in box.html
    finally:
        await browser.close()


async def test_another_agencys_operator_sees_nothing_of_it(desk: RunningGateway) -> None:
    hid = await waiting_handoff(desk.app[DB], "web-1")
    stranger = await _logged_in(desk, "tongdai-khac")
    try:
        queue = await stranger.get("/console/hang-cho")
        assert queue.status == 200 and f"handoff-{hid}" not in queue.html
        page = await stranger.get(f"/console/hoi-thoai/{hid}")
        assert page.status == 403
        assert page.text_of("error-message") == "Cuộc trò chuyện thuộc cơ quan khác."
        page = await stranger.post(f"/console/hoi-thoai/{hid}/nhan", {})
        assert page.status == 403
    finally:
        await stranger.close()
    token = await issue_token(desk.app[DB], "tongdai-khac")
    for method, path in (("GET", f"/handoffs/{hid}"), ("POST", f"/handoffs/{hid}/claim")):
        status, body = await call(desk, token, method, path)
        assert (status, body["error"]["code"]) == (403, "other_agency"), (path, body)
    status, body = await call(desk, token, "GET", "/handoffs")
    assert status == 200 and body["handoffs"] == [], "the API agrees"


async def test_a_citizens_name_is_shown_as_text(desk: RunningGateway) -> None:
    db = desk.app[DB]
    hid = await waiting_handoff(db, "web-1")
    async with db.session() as session:
        handed = await session.get(Handoff, hid)
        assert handed is not None
        conversation = await session.get(Conversation, handed.conversation_id)
        assert conversation is not None
        contact = await session.get(Contact, conversation.contact_id)
        assert contact is not None
        contact.display_name = SCRIPT
    browser = await _logged_in(desk, STAFF["operator"])
    try:
        for path in ("/console/hang-cho", f"/console/hoi-thoai/{hid}"):
            page = await browser.get(path)
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.html, path
            assert SCRIPT not in page.html, path
    finally:
        await browser.close()


async def _next_event(resp: aiohttp.ClientResponse, name: str) -> str:
    """The data of the next event called `name` on a server-sent event stream."""
    event, data = "", []
    while True:
        line = (await resp.content.readline()).decode()
        assert line, "the stream ended"
        line = line.rstrip("\r\n")
        if line.startswith("event:"):
            event = line.removeprefix("event:").strip()
        elif line.startswith("data:"):
            data.append(line.removeprefix("data:").removeprefix(" "))
        elif not line:
            if event == name:
                return "\n".join(data)
            event, data = "", []


async def test_the_live_queue_shows_new_requests_and_keeps_claims(desk: RunningGateway) -> None:
    db, app = desk.app[DB], desk.app
    first = await waiting_handoff(db, "web-1")
    operator = await _logged_in(desk, STAFF["operator"])
    officer = await _logged_in(desk, STAFF["officer"])
    try:
        async with officer.http.get(desk.base_url + "/console/hang-cho/su-kien") as resp:
            assert resp.status == 403, "an officer does not work the queue"
        # A claim taken 110 s ago: its lease (120 s) is nearly over.
        token = await issue_token(db, STAFF["operator"])
        staff = await actor_for_token(db, token)
        taken_at = utcnow() - timedelta(seconds=110)
        policy = app[SETTINGS].handoff
        await handoff.claim(db, app[CHANNELS], staff, first, policy, now=taken_at)
        async with operator.http.get(desk.base_url + "/console/hang-cho/su-kien") as resp:
            assert resp.status == 200 and resp.content_type == "text/event-stream"
            html = await asyncio.wait_for(_next_event(resp, "queue"), 20)
            assert f'id="handoff-{first}"' in html and "đang trả lời" in html, html
            second = await waiting_handoff(db, "web-2")
            html = await asyncio.wait_for(_next_event(resp, "queue"), 20)
            assert f'id="handoff-{second}"' in html and f'id="handoff-{first}"' in html, html
        async with db.session() as session:
            held = await session.get(Handoff, first)
            assert held is not None and held.lease_until is not None
            assert held.lease_until > utcnow() + timedelta(seconds=60), "the open page renewed it"
    finally:
        await operator.close()
        await officer.close()
