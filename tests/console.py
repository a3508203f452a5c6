"""The agency console as staff use it, for the console's tests: accounts with passwords, a case
filed by a web chat citizen, and a staff member's browser over real HTTP (its own cookies,
the CSRF token of the last page it read)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import aiohttp
from aiohttp import web
from sqlalchemy import func, select
from yarl import URL

from bot.domain.actors import Actor
from bot.domain.cases import Kind, Status
from bot.domain.deadlines import VN_TZ
from bot.domain.handoff import HandoffPolicy, HandoffReason
from bot.domain.office_hours import OfficeHours
from bot.domain.roles import Role
from bot.gateway import DB
from bot.services import handoff
from bot.services.cases import CaseDraft, file_case, transition_case
from bot.services.demo import load_demo
from bot.services.passwords import set_password
from bot.services.users import create_user
from bot.services.webchat import contact_for
from bot.store import contacts
from bot.store.db import Database
from bot.store.models import Agency, Handoff
from tests.conftest import RunningGateway, WebChat

DEMO = "ubnd-phuong-demo"
OTHER = "so-khac"
PASSWORD = "mat-khau-du-dai-1"
# username by role, all of the demo agency but the admin (of none) and `khac` (another one)
STAFF = {"admin": "quantri", "officer": "canbo", "operator": "tongdai"}
# The token of a form's hidden field, or of htmx's header on <body> (every page has that).
_CSRF = re.compile(r'(?:name="csrf" value="|"X-CSRF-Token": ")([^"]+)"')


@dataclass
class Page:
    """One answer of the console: status, final URL (after redirects) and HTML."""

    status: int
    url: str
    html: str
    headers: dict[str, str]

    @property
    def path(self) -> str:
        """The path and query the browser ended on."""
        return URL(self.url).path_qs

    def text_of(self, element_id: str) -> str:
        """The text inside the element with this id (no nested tags expected)."""
        match = re.search(rf'id="{element_id}"[^>]*>(.*?)<', self.html, re.S)
        assert match, f"no #{element_id} in {self.url}:\n{self.html[:2000]}"
        return match.group(1).strip()


class Browser:
    """A staff member's browser: cookies kept (also for 127.0.0.1), redirects followed."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        self.csrf = ""

    async def close(self) -> None:
        """Close the connection pool."""
        await self.http.close()

    async def _page(self, resp: aiohttp.ClientResponse) -> Page:
        html = await resp.text()
        found = _CSRF.search(html)
        if found:
            self.csrf = found.group(1)
        return Page(resp.status, str(resp.url), html, dict(resp.headers))

    async def get(self, path: str) -> Page:
        """GET a console page."""
        async with self.http.get(self.base_url + path) as resp:
            return await self._page(resp)

    async def post(
        self, path: str, data: dict[str, str], *, csrf: str | None = None, **kwargs: Any
    ) -> Page:
        """POST a form with the last page's CSRF token (or the one given; "" for none)."""
        token = self.csrf if csrf is None else csrf
        body = {**data, "csrf": token} if token else dict(data)
        async with self.http.post(self.base_url + path, data=body, **kwargs) as resp:
            return await self._page(resp)

    async def log_in(self, username: str, password: str = PASSWORD) -> Page:
        """The log-in form, as typed."""
        await self.get("/console/dang-nhap")
        return await self.post("/console/dang-nhap", {"username": username, "password": password})

    def cookie(self) -> str:
        """The console session cookie's value (encrypted)."""
        for cookie in self.http.cookie_jar:
            if cookie.key == "giaitrinh_console":
                return cookie.value
        raise AssertionError("no console cookie")


async def staff_world(db: Database) -> None:
    """The demo agency, another agency, and a staff member of each role with a password."""
    await load_demo(db)
    async with db.session() as session:
        session.add(Agency(slug=OTHER, name="Sở khác"))
    await create_user(db, STAFF["admin"], "admin", None, "Quản Trị Viên")
    await create_user(db, STAFF["officer"], "officer", DEMO, "Cán Bộ Một")
    await create_user(db, STAFF["operator"], "operator", DEMO, "Tổng Đài Viên")
    await create_user(db, "khac", "officer", OTHER, "Cán Bộ Sở Khác")
    for username in [*STAFF.values(), "khac"]:
        await set_password(db, username, PASSWORD)


async def citizen_case(
    gw: RunningGateway | web.Application, chat: WebChat | None = None, **draft: Any
) -> str:
    """A case filed by a web chat citizen (or by nobody reachable); its display code."""
    app = gw if isinstance(gw, web.Application) else gw.app
    db = app[DB]
    contact_id = None
    if chat is not None:
        contact = await contact_for(db, chat.session_id)
        assert contact is not None
        contact_id = contact.id
    values: dict[str, Any] = {
        "kind": Kind.EXPLANATION,
        "content": "Đề nghị giải trình việc thu hồi đất của gia đình tôi.",
        "subject": "Quyết định 12/QĐ-UBND",
        "target": "Phường Hoàn Kiếm",
        "requester_name": "Nguyễn Văn An",
        "requester_contact": "0912345678",
        "consent": True,
        **draft,
    }
    filed = await file_case(db, CaseDraft(**values), contact_id)
    return filed.display_code


WORKING_HOUR = datetime(2026, 11, 25, 9, 0, tzinfo=VN_TZ)  # a Wednesday morning


async def waiting_handoff(db: Database, who: str) -> int:
    """A web chat visitor who asked for a person on a working morning; the handoff's id."""
    async with db.session() as session:
        contact = await contacts.add_contact(session, "web", who, "Người dân")
        sender = (await contacts.current_conversation(session, contact.id)).engine_sender
    policy = HandoffPolicy(OfficeHours.parse())
    await handoff.request(db, sender, HandoffReason.ASKED, policy, WORKING_HOUR)
    async with db.session() as session:
        return int(await session.scalar(select(func.max(Handoff.id))) or 0)


# The report screen's data: November 2026, before today in the tests' world.
REPORT_FROM, REPORT_TO = "2026-11-01", "2026-11-20"
# (agency, place, answered two days later?) per case, received 3 to 7 November 2026: the demo
# agency's in two communes of Hà Nội (Hoàn Kiếm 3, one unanswered; Cửa Nam 2, one unanswered)
# and one in Cao Bằng; another agency's in Hoàn Kiếm.
REPORT_CASES = [
    (DEMO, "w:70", True),
    (DEMO, "w:70", True),
    (DEMO, "w:70", False),
    (DEMO, "w:73", True),
    (DEMO, "w:73", False),
    (DEMO, "w:1273", True),
    (OTHER, "w:70", True),
]


async def report_cases(db: Database) -> None:
    """The petitions of REPORT_CASES, filed and answered through the case services (an
    unanswered one is past its 10 working days by the end of November: late)."""
    admin = Actor("report-test", Role.ADMIN)
    for n, (agency, place, answered) in enumerate(REPORT_CASES):
        async with db.session() as session:
            agency_id = await session.scalar(select(Agency.id).where(Agency.slug == agency))
        received = datetime(2026, 11, 3 + n % 5, 9, 0, tzinfo=VN_TZ)
        draft = CaseDraft(
            kind=Kind.PETITION,
            content="Đèn đường trong ngõ bị hỏng, đề nghị sửa.",
            requester_name="Trần Thị Báo",
            consent=True,
            locality=place,
        )
        filed = await file_case(db, draft, None, now=received, agency_id=agency_id)
        if answered:
            later = received + timedelta(days=2)
            await transition_case(db, filed.code, Status.ANSWERED, admin, "Đã sửa.", now=later)
