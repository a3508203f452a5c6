"""Console pages over real HTTP on both databases: every role × page cell of the role table,
agency scoping (by URL and by API alike), the case list's filters and paging, and refusals of
the status machine shown on the case page."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import pytest

from bot.domain.actors import Actor
from bot.domain.cases import Kind, Status
from bot.domain.roles import Role
from bot.gateway import DB
from bot.services.case_queries import get_case
from bot.services.explanations import ExplanationSpec, publish
from bot.services.users import issue_token
from bot.web.console import CONSOLE
from tests.conftest import RunningGateway
from tests.console import (
    DEMO,
    OTHER,
    STAFF,
    Browser,
    citizen_case,
    staff_world,
    waiting_handoff,
)
from tests.integration.test_case_api import call
from tests.unit.test_permissions import EXPECTED

ADMIN = Actor("test", Role.ADMIN)
ALL = {"admin", "officer", "operator"}
TALK = EXPECTED["handle_conversations"]
DRAFT = {
    "title": "Lịch tiếp công dân tháng 12",
    "summary": "Tiếp công dân sáng thứ Năm hằng tuần.",
    "body": "Lãnh đạo phường tiếp công dân **sáng thứ Năm** hằng tuần.",
    "topics": "datdai",
    "localities": "p:1",
}


@dataclass(frozen=True)
class Cell:
    """A console route, who may use it, and a request that succeeds when allowed."""

    method: str
    route: str
    roles: set[str]
    path: Callable[[Target], str]
    form: dict[str, str] | None = None
    before: Callable[[Target], str] | None = None  # a form posted first (taking the conversation)


@dataclass(frozen=True)
class Target:
    """What a cell's request is about: a fresh case, a conversation waiting for a person, and
    the demo agency's explanation with its broadcast."""

    code: str
    handoff: int
    slug: str = ""  # an explanation of the demo agency (for p:1, filed under "datdai")
    broadcast: int = 0  # its broadcast


PAGES = [
    Cell("GET", "/hang-cho", TALK, lambda t: "/console/hang-cho"),
    Cell("GET", "/hoi-thoai/{id}", TALK, lambda t: f"/console/hoi-thoai/{t.handoff}"),
    Cell(
        "GET",
        "/hoi-thoai/{id}/mau/{reply}",
        TALK,
        lambda t: f"/console/hoi-thoai/{t.handoff}/mau/0",
    ),
    Cell("POST", "/hoi-thoai/{id}/nhan", TALK, lambda t: f"/console/hoi-thoai/{t.handoff}/nhan"),
    Cell(
        "POST",
        "/hoi-thoai/{id}/tra-loi",
        TALK,
        lambda t: f"/console/hoi-thoai/{t.handoff}/tra-loi",
        form={"text": "Chào anh/chị, tôi là cán bộ tiếp nhận."},
        before=lambda t: f"/console/hoi-thoai/{t.handoff}/nhan",
    ),
    Cell(
        "POST",
        "/hoi-thoai/{id}/ho-so",
        TALK,
        lambda t: f"/console/hoi-thoai/{t.handoff}/ho-so",
        form={"kind": "petition", "content": "Đèn đường ngõ 5 hỏng đã một tuần."},
        before=lambda t: f"/console/hoi-thoai/{t.handoff}/nhan",
    ),
    Cell(
        "POST", "/hoi-thoai/{id}/tra-lai", TALK, lambda t: f"/console/hoi-thoai/{t.handoff}/tra-lai"
    ),
    Cell(
        "POST",
        "/hoi-thoai/{id}/ket-thuc",
        TALK,
        lambda t: f"/console/hoi-thoai/{t.handoff}/ket-thuc",
    ),
    Cell("GET", "/ho-so", EXPECTED["read_cases"], lambda t: "/console/ho-so"),
    Cell("GET", "/ho-so/{code}", EXPECTED["read_cases"], lambda t: f"/console/ho-so/{t.code}"),
    Cell(
        "POST",
        "/ho-so/{code}/chuyen",
        EXPECTED["change_cases"],
        lambda t: f"/console/ho-so/{t.code}/chuyen",
        form={"to": "accepted"},
    ),
    Cell(
        "POST",
        "/ho-so/{code}/giao",
        EXPECTED["assign_cases"],
        lambda t: f"/console/ho-so/{t.code}/giao",
        form={"username": STAFF["officer"]},
    ),
    Cell(
        "GET", "/bai-giai-trinh", EXPECTED["read_explanations"], lambda t: "/console/bai-giai-trinh"
    ),
    Cell(
        "GET",
        "/bai-giai-trinh/{slug}",
        EXPECTED["read_explanations"],
        lambda t: f"/console/bai-giai-trinh/{t.slug}",
    ),
    Cell(
        "POST",
        "/bai-giai-trinh/{slug}/gui-lai",
        EXPECTED["broadcast_again"],
        lambda t: f"/console/bai-giai-trinh/{t.slug}/gui-lai",
    ),
    Cell("GET", "/dang-bai", EXPECTED["publish"], lambda t: "/console/dang-bai"),
    Cell(
        "POST",
        "/dang-bai",
        EXPECTED["publish"],
        lambda t: "/console/dang-bai",
        form={**DRAFT, "agency": DEMO},
    ),
    Cell(
        "POST",
        "/dang-bai/xem-truoc",
        EXPECTED["publish"],
        lambda t: "/console/dang-bai/xem-truoc",
        form=DRAFT,
    ),
    Cell(
        "GET",
        "/dot-gui/{id}",
        EXPECTED["read_broadcast_reports"],
        lambda t: f"/console/dot-gui/{t.broadcast}",
    ),
    Cell("GET", "/dia-ban", EXPECTED["read_localities"], lambda t: "/console/dia-ban?q=tân an"),
    Cell(
        "GET",
        "/dia-ban/chon",
        EXPECTED["read_localities"],
        lambda t: "/console/dia-ban/chon?localities=p:1&them=w:70",
    ),
    Cell(
        "GET",
        "/cau-hoi-chua-tra-loi",
        EXPECTED["read_gaps"],
        lambda t: "/console/cau-hoi-chua-tra-loi",
    ),
    Cell("GET", "/bao-cao", EXPECTED["read_reports"], lambda t: "/console/bao-cao"),
    Cell("GET", "/bao-cao/csv", EXPECTED["read_reports"], lambda t: "/console/bao-cao/csv"),
    Cell("GET", "/tai-khoan", EXPECTED["manage_users"], lambda t: "/console/tai-khoan"),
    Cell(
        "POST",
        "/tai-khoan",
        EXPECTED["manage_users"],
        lambda t: "/console/tai-khoan",
        form={"username": "moi", "display_name": "Người Mới", "role": "operator", "agency": DEMO},
    ),
    Cell(
        "POST",
        "/tai-khoan/{username}/lien-ket",
        EXPECTED["manage_users"],
        lambda t: f"/console/tai-khoan/{STAFF['operator']}/lien-ket",
    ),
    Cell(
        "POST",
        "/tai-khoan/{username}/khoa",
        EXPECTED["manage_users"],
        lambda t: "/console/tai-khoan/khac/khoa",
    ),
    # Agencies are administered under manage_users too (docs/security.md).
    Cell("GET", "/co-quan", EXPECTED["manage_users"], lambda t: "/console/co-quan"),
    Cell(
        "POST",
        "/co-quan",
        EXPECTED["manage_users"],
        lambda t: "/console/co-quan",
        form={"slug": "so-moi", "name": "Sở mới", "office_hours": "08:00-12:00"},
    ),
    Cell("GET", "/co-quan/{slug}", EXPECTED["manage_users"], lambda t: f"/console/co-quan/{DEMO}"),
    Cell(
        "POST",
        "/co-quan/{slug}",
        EXPECTED["manage_users"],
        lambda t: f"/console/co-quan/{OTHER}",
        form={"name": "Sở khác", "contact": "1900 0000", "office_hours": ""},
    ),
    Cell("GET", "/mat-khau", ALL, lambda t: "/console/mat-khau"),
]
# Pages of anyone (log-in, set-password links) and the redirects: not in the role matrix.
PUBLIC = {
    ("GET", "/"),
    ("GET", "/dang-nhap"),
    ("POST", "/dang-nhap"),
    ("POST", "/dang-xuat"),
    ("GET", "/dat-mat-khau/{token}"),
    ("POST", "/dat-mat-khau/{token}"),
    ("POST", "/mat-khau"),  # one's own password: tested in test_console_auth.py
    ("GET", "/static"),
}
# Live streams (server-sent events): tested apart, they do not end.
LIVE = {("GET", "/hang-cho/su-kien"), ("GET", "/hoi-thoai/{id}/su-kien")}


def spec(form: dict[str, str], **more: str) -> ExplanationSpec:
    """A console form's publication as the service takes it."""
    return ExplanationSpec(
        title=form["title"],
        body=form["body"],
        summary=form.get("summary", ""),
        topics=(form["topics"],) if form.get("topics") else (),
        localities=(form["localities"],),
        **more,
    )


@pytest.fixture
async def world(offline_gateway: RunningGateway) -> AsyncIterator[RunningGateway]:
    """Staff of every role (and of another agency), no case yet."""
    await staff_world(offline_gateway.app[DB])
    yield offline_gateway


def test_every_console_route_is_in_the_matrix(offline_gateway: RunningGateway) -> None:
    routes = set()
    for route in offline_gateway.app[CONSOLE].router.routes():
        if route.method in {"GET", "POST"} and route.resource is not None:
            canonical = route.resource.canonical.removeprefix("/console") or "/"
            routes.add((route.method, "/static" if "static" in canonical else canonical))
    assert routes == {(c.method, c.route) for c in PAGES} | PUBLIC | LIVE


@pytest.mark.parametrize("role", ["admin", "officer", "operator"])
async def test_each_role_sees_exactly_the_pages_the_table_allows(
    world: RunningGateway, role: str
) -> None:
    browser = Browser(world.base_url)
    try:
        await browser.log_in(STAFF[role])
        news = await publish(world.app[DB], spec(DRAFT, agency=DEMO), ADMIN)
        wrong = []
        for cell in PAGES:
            # Fresh ones: each change starts from a received case and a waiting conversation.
            code = await citizen_case(world)
            target = Target(
                code,
                await waiting_handoff(world.app[DB], f"web-{cell.method}{cell.route}"),
                news.slug,
                news.broadcast_id,
            )
            if cell.method == "GET":
                page = await browser.get(cell.path(target))
            else:
                await browser.get(f"/console/ho-so/{code}")
                if cell.before is not None:
                    await browser.post(cell.before(target), {})
                page = await browser.post(cell.path(target), cell.form or {})
            allowed = role in cell.roles
            got = "ok" if page.status == 200 else str(page.status)
            if got != ("ok" if allowed else "403"):
                wrong.append(f"{cell.method} {cell.route}: {got} ({page.url})")
            if not allowed and page.status == 403:
                assert "không được" in page.text_of("error-message"), page.html[:500]
        assert not wrong, f"{role}: " + "; ".join(wrong)
    finally:
        await browser.close()


async def test_an_operator_cannot_decide_a_case(world: RunningGateway) -> None:
    code = await citizen_case(world)
    browser = Browser(world.base_url)
    try:
        await browser.log_in(STAFF["operator"])
        page = await browser.get(f"/console/ho-so/{code}")
        assert page.status == 200 and 'name="to"' not in page.html, "no forms offered"
        page = await browser.post(f"/console/ho-so/{code}/chuyen", {"to": "refused", "note": "x"})
        assert page.status == 403, page.url
        assert page.text_of("error-message").startswith("Tài khoản tổng đài viên không được")
    finally:
        await browser.close()
    assert (await get_case(world.app[DB], code, ADMIN)).status is Status.RECEIVED


async def test_another_agencys_case_is_refused_by_url_as_by_api(world: RunningGateway) -> None:
    code = await citizen_case(world)
    browser = Browser(world.base_url)
    try:
        await browser.log_in("khac")
        page = await browser.get(f"/console/ho-so/{code}")
        assert page.status == 403 and page.text_of("error-message") == "Hồ sơ thuộc cơ quan khác."
        assert "Nguyễn Văn An" not in page.html and "thu hồi đất" not in page.html
        unknown = await browser.get("/console/ho-so/ZZZZ-ZZZZZ")
        assert (unknown.status, unknown.text_of("error-message")) == (404, "Không tìm thấy hồ sơ.")
        page = await browser.post(f"/console/ho-so/{code}/chuyen", {"to": "accepted"})
        assert page.status == 403
        listed = await browser.get("/console/ho-so")
        assert code not in listed.html
    finally:
        await browser.close()
    token = await issue_token(world.app[DB], "khac")
    status, body = await call(world, token, "GET", f"/cases/{code}")
    assert (status, body["error"]["code"]) == (403, "other_agency"), "the API answers the same"
    assert (await get_case(world.app[DB], code, ADMIN)).status is Status.RECEIVED


async def test_the_case_list_filters_and_pages(world: RunningGateway) -> None:
    codes = [await citizen_case(world, content=f"Phản ánh số {i} về đèn đường") for i in range(22)]
    petition = await citizen_case(
        world, kind=Kind.PETITION, content="Rác thải ở chợ", requester_name=""
    )
    browser = Browser(world.base_url)
    try:
        await browser.log_in(STAFF["officer"])
        first = await browser.get("/console/ho-so")
        assert "23 hồ sơ · trang 1/2" in first.html
        second = await browser.get("/console/ho-so?trang=2")
        shown = [c for c in [*codes, petition] if c in first.html or c in second.html]
        assert len(shown) == 23 and not any(c in first.html and c in second.html for c in shown)
        kind = await browser.get("/console/ho-so?loai=petition")
        assert "1 hồ sơ" in kind.html and petition in kind.html
        text = await browser.get("/console/ho-so?q=số 7 về")
        assert "1 hồ sơ" in text.html and codes[7] in text.html
        soon = await browser.get("/console/ho-so?han=qua-han")
        assert "0 hồ sơ" in soon.html
        received = await browser.get("/console/ho-so?trang-thai=received&han=sap-han")
        assert received.status == 200
        bad = await browser.get("/console/ho-so?trang-thai=bay")
        assert bad.status == 400
    finally:
        await browser.close()


async def test_a_refused_change_shows_the_reason_and_keeps_the_note(
    world: RunningGateway,
) -> None:
    code = await citizen_case(world)
    browser = Browser(world.base_url)
    try:
        await browser.log_in(STAFF["officer"])
        await browser.get(f"/console/ho-so/{code}")
        page = await browser.post(f"/console/ho-so/{code}/chuyen", {"to": "refused", "note": " "})
        assert page.status == 409 and page.text_of("form-error") == "Từ chối phải nêu lý do."
        page = await browser.post(
            f"/console/ho-so/{code}/chuyen", {"to": "closed", "note": "ghi chú giữ lại"}
        )
        assert page.status == 409 and "ghi chú giữ lại" in page.html
    finally:
        await browser.close()
