"""Who may do what on the agencies' API, over real HTTP: every cell of the role × action
table, publishing under the caller's agency, token expiry and revocation, and the audit of
state-changing calls."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update

from bench.seed import add_subscribers
from bot.gateway import DB
from bot.services.demo import load_demo
from bot.services.users import create_user
from bot.store import explanations as store_explanations
from bot.store.audit import ApiCall
from bot.store.db import Database
from bot.store.models import Agency, Broadcast, Delivery, Explanation, User, utcnow
from tests.conftest import RunningGateway
from tests.console import waiting_handoff
from tests.integration.test_broadcast import NEWS
from tests.integration.test_case_api import _file, call
from tests.unit.test_permissions import EXPECTED

DEMO = "ubnd-phuong-demo"


@dataclass
class World:
    """One agency's data as each role's test sees it."""

    code: str  # a received case
    slug: str  # an explanation of the agency, for one commune
    broadcast_id: int
    spare: str  # a user whose token may be revoked
    handoff: int  # a conversation waiting for a person
    other_handoff: int  # another one (closed while waiting)


@dataclass(frozen=True)
class Endpoint:
    """One route, the action it needs, and a call that succeeds when that action is allowed."""

    method: str
    route: str
    action: str
    path: Callable[[World], str]
    ok: int = 200
    body: Callable[[World], Any] | None = None


def _news(title: str, localities: list[str]) -> dict[str, Any]:
    return {**NEWS, "title": title, "localities": localities, "agency": DEMO}


ENDPOINTS = [
    Endpoint("GET", "/api/v1/cases", "read_cases", lambda w: "/cases"),
    Endpoint("GET", "/api/v1/cases/{code}", "read_cases", lambda w: f"/cases/{w.code}"),
    Endpoint(
        "POST",
        "/api/v1/cases/{code}/transition",
        "change_cases",
        lambda w: f"/cases/{w.code}/transition",
        body=lambda w: {"to": "accepted"},
    ),
    Endpoint(
        "POST",
        "/api/v1/cases/{code}/assign",
        "assign_cases",
        lambda w: f"/cases/{w.code}/assign",
        body=lambda w: {"username": "canbo"},
    ),
    Endpoint("GET", "/api/v1/satisfaction", "read_satisfaction", lambda w: "/satisfaction"),
    Endpoint(
        "GET",
        "/api/v1/reports/summary",
        "read_reports",
        lambda w: "/reports/summary?from=2026-01-01&to=2026-12-31",
    ),
    Endpoint("GET", "/api/v1/gaps", "read_gaps", lambda w: "/gaps"),
    Endpoint("GET", "/api/v1/notices", "read_notices", lambda w: "/notices"),
    Endpoint(
        "POST",
        "/api/v1/explanations",
        "publish",
        lambda w: "/explanations",
        ok=201,
        body=lambda w: _news("Tin cho phường", ["w:70"]),
    ),
    Endpoint(
        "POST",
        "/api/v1/explanations",
        "publish_country_wide",
        lambda w: "/explanations",
        ok=201,
        body=lambda w: _news("Tin cho cả nước", ["country"]),
    ),
    Endpoint(
        "POST",
        "/api/v1/explanations/{slug}/broadcasts",
        "broadcast_again",
        lambda w: f"/explanations/{w.slug}/broadcasts",
        ok=201,
    ),
    Endpoint(
        "GET",
        "/api/v1/explanations/{slug}",
        "read_explanations",
        lambda w: f"/explanations/{w.slug}",
    ),
    Endpoint(
        "GET",
        "/api/v1/explanations/{slug}/versions/{version}",
        "read_explanations",
        lambda w: f"/explanations/{w.slug}/versions/1",
    ),
    Endpoint(
        "GET",
        "/api/v1/broadcasts/{id}",
        "read_broadcast_reports",
        lambda w: f"/broadcasts/{w.broadcast_id}",
    ),
    Endpoint("GET", "/api/v1/localities", "read_localities", lambda w: "/localities?q=tân an"),
    Endpoint(
        "POST",
        "/api/v1/users/{username}/revoke",
        "manage_users",
        lambda w: f"/users/{w.spare}/revoke",
    ),
    Endpoint("GET", "/api/v1/handoffs", "handle_conversations", lambda w: "/handoffs"),
    Endpoint(
        "GET", "/api/v1/handoffs/{id}", "handle_conversations", lambda w: f"/handoffs/{w.handoff}"
    ),
    Endpoint("POST", "/api/v1/handoffs/renew", "handle_conversations", lambda w: "/handoffs/renew"),
    Endpoint(
        "POST",
        "/api/v1/handoffs/{id}/claim",
        "handle_conversations",
        lambda w: f"/handoffs/{w.handoff}/claim",
    ),
    Endpoint(
        "POST",
        "/api/v1/handoffs/{id}/messages",
        "handle_conversations",
        lambda w: f"/handoffs/{w.handoff}/messages",
        ok=201,
        body=lambda w: {"text": "Chào anh/chị, tôi là cán bộ tiếp nhận."},
    ),
    Endpoint(
        "POST",
        "/api/v1/handoffs/{id}/case",
        "handle_conversations",
        lambda w: f"/handoffs/{w.handoff}/case",
        ok=201,
        body=lambda w: {"kind": "petition", "content": "Đèn đường ngõ 5 hỏng đã một tuần."},
    ),
    Endpoint(
        "POST",
        "/api/v1/handoffs/{id}/return",
        "handle_conversations",
        lambda w: f"/handoffs/{w.handoff}/return",
    ),
    Endpoint(
        "POST",
        "/api/v1/handoffs/{id}/close",
        "handle_conversations",
        lambda w: f"/handoffs/{w.other_handoff}/close",
    ),
    Endpoint("GET", "/api/v1/canned-replies", "handle_conversations", lambda w: "/canned-replies"),
    Endpoint(
        "POST",
        "/api/v1/canned-replies",
        "manage_canned_replies",
        lambda w: "/canned-replies",
        ok=201,
        body=lambda w: {"title": "Chào", "text": "Chào anh/chị, cán bộ xin trả lời như sau:"},
    ),
]


async def _staff(db: Database) -> dict[str, str]:
    """A token per role: an admin of no agency, an officer and an operator of the demo one."""
    return {
        "admin": await create_user(db, "quantri", "admin", None),
        "officer": await create_user(db, "canbo", "officer", DEMO),
        "operator": await create_user(db, "tongdai", "operator", DEMO),
    }


async def _world(gw: RunningGateway) -> tuple[World, dict[str, str]]:
    db = gw.app[DB]
    await load_demo(db)
    tokens = await _staff(db)
    await create_user(db, "du-phong", "officer", DEMO)
    code = await _file(db, None)
    status, published = await call(
        gw, tokens["officer"], "POST", "/explanations", _news("Tin đầu", ["w:70"])
    )
    assert status == 201, published
    first, second = await waiting_handoff(db, "web-1"), await waiting_handoff(db, "web-2")
    world = World(code, published["slug"], published["broadcast"]["id"], "du-phong", first, second)
    return world, tokens


def test_every_api_route_is_in_the_matrix_test(offline_gateway: RunningGateway) -> None:
    routes = {
        (route.method, route.resource.canonical)
        for route in offline_gateway.app.router.routes()
        if route.resource is not None
        and route.resource.canonical.startswith("/api/v1")
        and route.method in {"GET", "POST"}
    }
    assert routes == {(e.method, e.route) for e in ENDPOINTS}
    assert {e.action for e in ENDPOINTS} == set(EXPECTED), "every action has an endpoint"


@pytest.mark.parametrize("role", ["admin", "officer", "operator"])
async def test_each_role_may_do_exactly_what_the_table_says(
    offline_gateway: RunningGateway, role: str
) -> None:
    gw = offline_gateway
    world, tokens = await _world(gw)
    wrong = []
    for endpoint in ENDPOINTS:
        body = endpoint.body(world) if endpoint.body else None
        status, answer = await call(gw, tokens[role], endpoint.method, endpoint.path(world), body)
        allowed = role in EXPECTED[endpoint.action]
        if allowed and status != endpoint.ok:
            wrong.append(
                f"{endpoint.action} {endpoint.route}: expected {endpoint.ok}, got {status} {answer}"
            )
        if not allowed and (status != 403 or answer["error"]["code"] != "forbidden"):
            wrong.append(
                f"{endpoint.action} {endpoint.route}: expected 403 forbidden, got {status} {answer}"
            )
    assert not wrong, f"{role}:\n" + "\n".join(wrong)
    if role == "operator":  # refused calls changed nothing
        status, case = await call(gw, tokens["admin"], "GET", f"/cases/{world.code}")
        assert case["status"] == "received" and case["assigned_to"] is None, case


async def _versions(db: Database, slug: str) -> list[tuple[int, int]]:
    async with db.session() as session:
        rows = await session.execute(
            select(Explanation.version, Explanation.agency_id).where(Explanation.slug == slug)
        )
        return sorted((int(v), int(a)) for v, a in rows)


async def _counts(db: Database) -> tuple[int, int]:
    async with db.session() as session:
        broadcasts = await session.scalar(select(func.count()).select_from(Broadcast))
        deliveries = await session.scalar(select(func.count()).select_from(Delivery))
    return int(broadcasts or 0), int(deliveries or 0)


async def _agency_id(db: Database, slug: str) -> int:
    async with db.session() as session:
        found = await session.scalar(select(Agency.id).where(Agency.slug == slug))
    assert found is not None
    return int(found)


async def test_an_officer_of_another_agency_cannot_publish_over_or_resend_a_slug(
    offline_gateway: RunningGateway,
) -> None:
    gw = offline_gateway
    db = gw.app[DB]
    await load_demo(db)
    async with db.session() as session:
        session.add(Agency(slug="so-b", name="Sở B"))
    await add_subscribers(db, [("datdai", "w:70")])
    officer_a = await create_user(db, "canbo-a", "officer", DEMO)
    officer_b = await create_user(db, "canbo-b", "officer", "so-b")
    a_id, b_id = await _agency_id(db, DEMO), await _agency_id(db, "so-b")

    body = {**NEWS, "localities": ["w:70"]}
    status, published = await call(gw, officer_a, "POST", "/explanations", body)
    assert status == 201 and published["broadcast"]["recipients"] == 1, published
    slug = published["slug"]
    assert await _versions(db, slug) == [(1, a_id)], "stored under the caller's agency"
    before = await _counts(db)

    fake = {**body, "slug": slug, "title": "FAKE", "body": "FAKE"}
    status, answer = await call(gw, officer_b, "POST", "/explanations", fake)
    assert status == 403 and answer["error"]["code"] == "other_agency", answer
    status, answer = await call(gw, officer_b, "POST", f"/explanations/{slug}/broadcasts")
    assert status == 403 and answer["error"]["code"] == "other_agency", answer
    status, answer = await call(
        gw, officer_b, "POST", "/explanations", {**body, "title": "Tin B", "agency": DEMO}
    )
    assert status == 403 and answer["error"]["code"] == "other_agency", answer
    assert await _versions(db, slug) == [(1, a_id)], "nothing stored"
    assert await _counts(db) == before, "nothing broadcast"
    for path in (f"/explanations/{slug}", f"/explanations/{slug}/versions/1"):
        status, answer = await call(gw, officer_b, "GET", path)
        assert status == 403 and answer["error"]["code"] == "other_agency", answer
        status, current = await call(gw, officer_a, "GET", path)
        assert status == 200 and current["title"] == NEWS["title"], current

    status, own = await call(gw, officer_b, "POST", "/explanations", {**body, "title": "Tin B"})
    assert status == 201 and await _versions(db, own["slug"]) == [(1, b_id)]

    # A broadcast report is its agency's too.
    report = f"/broadcasts/{published['broadcast']['id']}"
    status, answer = await call(gw, officer_b, "GET", report)
    assert status == 403 and answer["error"]["code"] == "other_agency", answer
    status, answer = await call(gw, officer_a, "GET", report)
    assert status == 200 and answer["recipients"] == 1, answer


async def test_an_admin_names_the_agency_and_only_admins_target_the_whole_country(
    offline_gateway: RunningGateway,
) -> None:
    gw = offline_gateway
    db = gw.app[DB]
    await load_demo(db)
    tokens = await _staff(db)
    country = {**NEWS, "title": "Tin toàn quốc", "localities": ["country"]}
    status, answer = await call(gw, tokens["admin"], "POST", "/explanations", country)
    assert status == 400 and answer["error"]["code"] == "agency_required", answer
    status, answer = await call(
        gw, tokens["admin"], "POST", "/explanations", {**country, "agency": "khong-co"}
    )
    assert status == 400 and answer["error"]["code"] == "unknown_agency", answer
    for role in ("officer", "operator"):
        status, answer = await call(gw, tokens[role], "POST", "/explanations", country)
        assert status == 403 and answer["error"]["code"] == "forbidden", answer
        assert ("cả nước" in answer["error"]["message"]) is (role == "officer"), answer
    anywhere = {key: value for key, value in NEWS.items() if key != "localities"}
    status, answer = await call(gw, tokens["officer"], "POST", "/explanations", anywhere)
    assert status == 403, "no localities means the whole country"
    assert await _counts(db) == (0, 0)
    status, published = await call(
        gw, tokens["admin"], "POST", "/explanations", {**country, "agency": DEMO}
    )
    assert status == 201, published
    assert await _versions(db, published["slug"]) == [(1, await _agency_id(db, DEMO))]
    # The agency's officer may not send a country-wide explanation again either.
    path = f"/explanations/{published['slug']}/broadcasts"
    status, answer = await call(gw, tokens["officer"], "POST", path)
    assert status == 403 and answer["error"]["code"] == "forbidden", answer
    status, answer = await call(gw, tokens["admin"], "POST", path)
    assert status == 201, answer


async def test_an_expired_token_is_refused_with_its_own_code(
    offline_gateway: RunningGateway,
) -> None:
    db = offline_gateway.app[DB]
    await load_demo(db)
    before = utcnow()
    token = await create_user(db, "canbo", "officer", DEMO, token_ttl_days=5)
    async with db.session() as session:
        expires = await session.scalar(select(User.token_expires_at))
    assert expires is not None
    assert before + timedelta(days=5) <= expires <= utcnow() + timedelta(days=5)
    assert (await call(offline_gateway, token, "GET", "/cases"))[0] == 200
    async with db.session() as session:
        await session.execute(update(User).values(token_expires_at=utcnow() - timedelta(seconds=1)))
    status, answer = await call(offline_gateway, token, "GET", "/cases")
    assert status == 401 and answer["error"]["code"] == "token_expired", answer


async def _cli(database_url: str, *args: str) -> tuple[int, str]:
    env = {**os.environ, "GIAITRINH_DATABASE_URL": database_url}
    giaitrinh = str(Path(sys.executable).parent / "giaitrinh")
    proc = await asyncio.create_subprocess_exec(
        giaitrinh, *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await proc.communicate()
    return proc.returncode or 0, (out + err).decode()


async def test_cli_revokes_a_token_and_issues_a_fresh_one(
    offline_gateway: RunningGateway, database_url: str
) -> None:
    db = offline_gateway.app[DB]
    await load_demo(db)
    old = await create_user(db, "canbo", "officer", DEMO)
    code, out = await _cli(database_url, "user", "revoke", "canbo")
    assert code == 0, out
    status, answer = await call(offline_gateway, old, "GET", "/cases")
    assert status == 401 and answer["error"]["code"] == "unauthorized", answer
    code, out = await _cli(database_url, "user", "token", "canbo")
    assert code == 0, out
    fresh = out.strip().splitlines()[-1]
    assert fresh.startswith("gt_") and fresh != old
    assert (await call(offline_gateway, fresh, "GET", "/cases"))[0] == 200
    assert (await call(offline_gateway, old, "GET", "/cases"))[0] == 401
    code, out = await _cli(database_url, "user", "revoke", "khong-co-ai")
    assert code == 2 and "user_not_found" in out


async def test_state_changing_calls_are_audited_without_bodies(
    offline_gateway: RunningGateway,
) -> None:
    gw = offline_gateway
    db = gw.app[DB]
    await load_demo(db)
    tokens = await _staff(db)
    code = await _file(db, None)
    secret = "Nội dung riêng 0912345678"
    transition = f"/cases/{code}/transition"
    assert (await call(gw, tokens["officer"], "POST", transition, {"to": "accepted"}))[0] == 200
    assert (
        await call(gw, tokens["operator"], "POST", transition, {"to": "refused", "note": secret})
    )[0] == 403
    assert (await call(gw, None, "POST", transition, {"to": "refused", "note": secret}))[0] == 401
    assert (await call(gw, tokens["officer"], "GET", f"/cases/{code}"))[0] == 200
    status, published = await call(
        gw, tokens["officer"], "POST", "/explanations", {**NEWS, "body": secret}
    )
    assert status == 201
    demo_id = await _agency_id(db, DEMO)
    async with db.session() as session:
        rows = (await session.execute(select(ApiCall).order_by(ApiCall.id))).scalars().all()
    assert [
        (r.username, r.role, r.agency_id, r.method, r.path, r.target, r.status) for r in rows
    ] == [
        ("canbo", "officer", demo_id, "POST", "/api/v1/cases/{code}/transition", code, 200),
        ("tongdai", "operator", demo_id, "POST", "/api/v1/cases/{code}/transition", code, 403),
        (None, None, None, "POST", "/api/v1/cases/{code}/transition", code, 401),
        ("canbo", "officer", demo_id, "POST", "/api/v1/explanations", published["slug"], 201),
    ], "one row per POST, refused ones included; reads are not audited"
    assert all(r.at is not None for r in rows)
    stored = json.dumps([[str(v) for v in vars(r).values()] for r in rows], ensure_ascii=False)
    assert "0912345678" not in stored and "Nội dung riêng" not in stored


async def test_a_publication_racing_another_for_the_same_version_is_a_conflict(
    offline_gateway: RunningGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two first publications of one new slug at the same instant both see no owner and no
    version; the second to store gets 409 publish_conflict (not a 500) and stores nothing."""
    gw = offline_gateway
    db = gw.app[DB]
    await load_demo(db)
    async with db.session() as session:
        session.add(Agency(slug="so-b", name="Sở B"))
    officer_a = await create_user(db, "canbo-a", "officer", DEMO)
    officer_b = await create_user(db, "canbo-b", "officer", "so-b")
    body = {**NEWS, "localities": ["w:70"], "slug": "tin-chung"}
    status, published = await call(gw, officer_a, "POST", "/explanations", body)
    assert status == 201, published
    before = await _counts(db)

    async def seen_before_the_other_commit(*_args: object) -> None | int:
        return None

    monkeypatch.setattr(store_explanations, "slug_owner", seen_before_the_other_commit)
    monkeypatch.setattr(store_explanations, "latest_version_number", _zero)
    status, answer = await call(gw, officer_b, "POST", "/explanations", {**body, "title": "B"})
    assert status == 409 and answer["error"]["code"] == "publish_conflict", answer
    assert await _versions(db, "tin-chung") == [(1, await _agency_id(db, DEMO))]
    assert await _counts(db) == before, "nothing broadcast"


async def _zero(*_args: object) -> int:
    return 0
