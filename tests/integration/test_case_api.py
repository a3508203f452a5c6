"""The agency REST API, deadline notices and the outbox, on a real database (no engine)."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.domain.cases import STATUS_LABELS, Kind, Status
from bot.gateway import DB, DISPATCHER, SETTINGS
from bot.services.cases import CaseDraft, file_case
from bot.services.demo import load_demo
from bot.services.scheduler import scan_deadlines
from bot.services.users import create_user
from bot.store.db import Database
from bot.store.models import (
    Agency,
    Case,
    Contact,
    Conversation,
    Delivery,
    Message,
    OfficerNotice,
    utcnow,
)
from tests.conftest import RunningGateway, free_port, gateway_settings, running_gateway


async def call(
    gw: RunningGateway, token: str | None, method: str, path: str, body: Any = None
) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with gw.http.request(
        method, f"{gw.base_url}/api/v1{path}", headers=headers, json=body
    ) as resp:
        return resp.status, await resp.json()


async def _setup(gw: RunningGateway) -> tuple[Database, str, int]:
    db = gw.app[DB]
    await load_demo(db)
    async with db.session() as session:
        contact = Contact(channel="web", channel_user_id="citizen-1-" + "x" * 20)
        session.add(contact)
        await session.flush()
        session.add(Conversation(contact_id=contact.id))
        contact_id = contact.id
    token = await create_user(db, "officer1", "officer", "ubnd-phuong-demo")
    return db, token, contact_id


async def _file(db: Database, contact_id: int | None) -> str:
    filed = await file_case(
        db,
        CaseDraft(
            kind=Kind.EXPLANATION,
            content="Đề nghị giải trình việc thu hồi đất của gia đình tôi.",
            subject="Quyết định 12/QĐ-UBND",
            target="Phường Hoàn Kiếm",
            requester_name="Nguyễn Văn An",
            requester_contact="0912345678",
            consent=True,
        ),
        contact_id,
    )
    return filed.display_code


async def test_api_requires_a_valid_token(offline_gateway: RunningGateway) -> None:
    await _setup(offline_gateway)
    assert (await call(offline_gateway, None, "GET", "/cases"))[0] == 401
    status, body = await call(offline_gateway, "gt_wrong", "GET", "/cases")
    assert status == 401 and body["error"]["code"] == "unauthorized"


async def test_invalid_transitions_are_refused_with_a_code(offline_gateway: RunningGateway) -> None:
    db, token, contact_id = await _setup(offline_gateway)
    code = await _file(db, contact_id)
    status, body = await call(
        offline_gateway, token, "POST", f"/cases/{code}/transition", {"to": "answered", "note": "x"}
    )
    assert status == 409 and body["error"]["code"] == "invalid_transition"
    status, body = await call(
        offline_gateway, token, "POST", f"/cases/{code}/transition", {"to": "refused"}
    )
    assert status == 409 and body["error"]["code"] == "reason_required"
    status, body = await call(
        offline_gateway, token, "POST", f"/cases/{code}/transition", {"to": "flying"}
    )
    assert status == 400 and body["error"]["code"] == "invalid_status"
    status, body = await call(
        offline_gateway, token, "POST", f"/cases/{code}/transition", "not an object"
    )
    assert status == 400 and body["error"]["code"] == "invalid_json"
    status, body = await call(offline_gateway, token, "GET", "/cases/ZZZZ-ZZZZZ")
    assert status == 404 and body["error"]["code"] == "case_not_found"


async def test_officers_only_see_their_agency(offline_gateway: RunningGateway) -> None:
    db, token, contact_id = await _setup(offline_gateway)
    code = await _file(db, contact_id)
    async with db.session() as session:
        session.add(Agency(slug="so-khac", name="Sở khác"))
    other = await create_user(db, "officer2", "officer", "so-khac")
    status, refused = await call(offline_gateway, other, "GET", f"/cases/{code}")
    assert status == 403 and refused["error"]["code"] == "other_agency", refused
    for change in ({"to": "accepted"},):
        status, refused = await call(
            offline_gateway, other, "POST", f"/cases/{code}/transition", change
        )
        assert status == 403 and refused["error"]["code"] == "other_agency", refused
    status, refused = await call(
        offline_gateway, other, "POST", f"/cases/{code}/assign", {"username": "officer2"}
    )
    assert status == 403 and refused["error"]["code"] == "other_agency", refused
    status, body = await call(offline_gateway, other, "GET", "/cases")
    assert status == 200 and body["total"] == 0
    status, body = await call(offline_gateway, token, "GET", "/cases")
    assert body["total"] == 1 and body["cases"][0]["code"] == code


async def test_list_filters(offline_gateway: RunningGateway) -> None:
    db, token, contact_id = await _setup(offline_gateway)
    first = await _file(db, contact_id)
    second = await _file(db, contact_id)
    await call(offline_gateway, token, "POST", f"/cases/{second}/transition", {"to": "accepted"})
    _, body = await call(offline_gateway, token, "GET", "/cases?status=accepted")
    assert [c["code"] for c in body["cases"]] == [second]
    _, body = await call(offline_gateway, token, "GET", "/cases?kind=petition")
    assert body["total"] == 0
    _, body = await call(offline_gateway, token, "GET", "/cases?q=thu%20h%E1%BB%93i")
    assert body["total"] == 2
    _, body = await call(offline_gateway, token, "GET", "/cases?overdue=true")
    assert body["total"] == 0
    due = (utcnow() + timedelta(days=40)).date().isoformat()
    _, body = await call(offline_gateway, token, "GET", f"/cases?due_before={due}")
    assert {c["code"] for c in body["cases"]} == {first, second}
    status, body = await call(offline_gateway, token, "GET", "/cases?overdue=maybe")
    assert status == 400 and body["error"]["code"] == "invalid_filter"
    for bad in ("status=flying", "kind=letter"):
        status, body = await call(offline_gateway, token, "GET", f"/cases?{bad}")
        assert status == 400 and body["error"]["code"] == "invalid_filter", (bad, body)


async def test_assignment_and_deadline_notices(offline_gateway: RunningGateway) -> None:
    db, token, contact_id = await _setup(offline_gateway)
    code = await _file(db, contact_id)
    status, body = await call(
        offline_gateway, token, "POST", f"/cases/{code}/assign", {"username": "officer1"}
    )
    assert status == 200 and body["assigned_to"] == "officer1"
    async with db.session() as session:
        case = (await session.execute(select(Case))).scalar_one()
        due = case.due_at
    assert due is not None
    assert await scan_deadlines(db, due_soon_hours=48, now=due - timedelta(days=10)) == 0
    assert await scan_deadlines(db, due_soon_hours=48, now=due - timedelta(hours=24)) == 1
    assert await scan_deadlines(db, due_soon_hours=48, now=due - timedelta(hours=23)) == 0
    assert await scan_deadlines(db, due_soon_hours=48, now=due + timedelta(hours=1)) == 1
    assert await scan_deadlines(db, due_soon_hours=48, now=due + timedelta(hours=2)) == 0
    async with db.session() as session:
        kinds = [n.kind for n in (await session.execute(select(OfficerNotice))).scalars()]
    assert kinds == ["due_soon", "overdue"]
    status, body = await call(offline_gateway, token, "GET", "/notices")
    assert status == 200
    assert [(n["kind"], n["case"]) for n in body["notices"]] == [
        ("overdue", code),
        ("due_soon", code),
    ]
    _, body = await call(offline_gateway, token, "GET", "/cases?overdue=false")
    assert body["total"] == 1


@pytest.mark.parametrize("anonymous", [False, True])
async def test_status_change_is_queued_then_delivered_once(
    offline_gateway: RunningGateway, anonymous: bool
) -> None:
    db, token, contact_id = await _setup(offline_gateway)
    code = await _file(db, contact_id)
    if anonymous:
        async with db.session() as session:
            (await session.execute(select(Case))).scalar_one().anonymous = True
    await call(offline_gateway, token, "POST", f"/cases/{code}/transition", {"to": "accepted"})
    dispatcher = offline_gateway.app[DISPATCHER]
    for _ in range(50):  # the app's own dispatcher loop may be the one sending it
        await dispatcher.dispatch_once()
        async with db.session() as session:
            deliveries = (await session.execute(select(Delivery))).scalars().all()
        if all(d.status == "sent" for d in deliveries):
            break
        await asyncio.sleep(0.1)
    async with db.session() as session:
        notes = (
            (await session.execute(select(Message).where(Message.kind == "case_update")))
            .scalars()
            .all()
        )
    if anonymous:
        assert deliveries == [] and notes == [], "nobody to notify for an anonymous case"
        return
    assert [d.status for d in deliveries] == ["sent"]
    accepted = STATUS_LABELS[Status.ACCEPTED]
    assert len(notes) == 1 and code in notes[0].text and accepted in notes[0].text
    assert await dispatcher.dispatch_once() == 0, "a sent delivery is never sent again"


async def test_queued_notification_survives_a_restart(database_url: str, tokens: Any) -> None:
    engine_url = f"http://127.0.0.1:{free_port()}"
    stopped = gateway_settings(database_url, tokens, engine_url, dispatch_interval=3600)
    async with running_gateway(stopped, free_port()) as gw:
        db, token, contact_id = await _setup(gw)
        code = await _file(db, contact_id)
        await call(gw, token, "POST", f"/cases/{code}/transition", {"to": "accepted"})
    # The gateway went down before its dispatcher ran; the next one delivers.
    async with running_gateway(
        gateway_settings(database_url, tokens, engine_url), free_port()
    ) as gw:
        for _ in range(50):
            async with gw.app[DB].session() as session:
                status = (await session.execute(select(Delivery.status))).scalar_one()
            if status == "sent":
                break
            await asyncio.sleep(0.1)
        assert status == "sent"


async def test_deadline_scans_of_several_processes_notice_once(
    offline_gateway: RunningGateway,
) -> None:
    """Every dispatcher process scans deadlines: scans at the same moment write one notice
    per case and deadline between them (PostgreSQL: the rows a scan works on are locked)."""
    db, _token, contact_id = await _setup(offline_gateway)
    await create_user(db, "officer2", "officer", "ubnd-phuong-demo")
    codes_filed = [await _file(db, contact_id) for _ in range(12)]
    async with db.session() as session:
        due = max(c.due_at for c in (await session.execute(select(Case))).scalars() if c.due_at)
    url = offline_gateway.app[SETTINGS].database_url
    scanners = [Database(url) for _ in range(4)]
    try:
        made = await asyncio.gather(
            *(scan_deadlines(s, due_soon_hours=48, now=due + timedelta(hours=1)) for s in scanners)
        )
    finally:
        for scanner in scanners:
            await scanner.dispose()
    async with db.session() as session:
        notices = (await session.execute(select(OfficerNotice))).scalars().all()
    per_case = Counter((n.case_id, n.user_id, n.kind) for n in notices)
    assert len(per_case) == len(codes_filed) * 2, "each officer noticed of each overdue case"
    assert set(per_case.values()) == {1}, f"no notice twice: {made}"
    assert sum(made) == len(notices)
