"""Publish an explanation; subscribers on two channels receive it exactly once; then stop."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bench.seed import add_subscribers
from bot.gateway import DB
from bot.services.users import create_user
from bot.store.models import Delivery, Explanation
from tests.chat import press, said
from tests.conftest import RunningGateway, WebChat
from tests.fakes.telegram_api import FakeTelegram
from tests.integration.test_telegram import TelegramUser, fixture

NEWS = {
    "title": "Cấp giấy chứng nhận quyền sử dụng đất tại phường từ tháng 12/2026",
    "summary": "Hồ sơ cấp sổ đỏ lần đầu nộp tại bộ phận một cửa của phường, không lên tỉnh.",
    "body": "Từ 1/12/2026, hồ sơ cấp giấy chứng nhận quyền sử dụng đất lần đầu nộp tại phường.",
    "source_document": "Quyết định minh họa số 1/QĐ-UBND",
    "source_url": "https://example.invalid/qd-1",
    "topics": ["datdai"],
    "localities": ["p:1"],
}


async def api(gw: RunningGateway, token: str, method: str, path: str, body: Any = None) -> Any:
    async with gw.http.request(
        method,
        f"{gw.base_url}/api/v1{path}",
        headers={"Authorization": f"Bearer {token}"},
        json=body,
    ) as resp:
        data = await resp.json()
        assert resp.status in (200, 201), data
        return data


async def with_another(
    session: AsyncSession, slug: str, other: str
) -> tuple[Explanation, Explanation]:
    """The explanation published as `slug`, and a new one of its agency named `other`, on
    land (datdai) in Hà Nội (p:1)."""
    published = await session.scalar(select(Explanation).where(Explanation.slug == slug))
    assert published is not None
    another = Explanation(
        agency_id=published.agency_id,
        slug=other,
        title="Tin khác về đất đai",
        topics=["datdai"],
        localities=["p:1"],
    )
    session.add(another)
    await session.flush()
    return published, another


async def settle(gw: RunningGateway, broadcast_id: int, token: str) -> dict[str, Any]:
    for _ in range(100):
        report = await api(gw, token, "GET", f"/broadcasts/{broadcast_id}")
        if report["pending"] == 0:
            return report
        await asyncio.sleep(0.1)
    raise AssertionError(f"broadcast {broadcast_id} not sent: {report}")


async def test_publish_reaches_web_and_telegram_subscribers_once_then_unsubscribe(
    telegram_gateway: RunningGateway, fake_telegram: FakeTelegram
) -> None:
    gw = telegram_gateway
    web: WebChat = await gw.chat()
    data = await web.say("đăng ký nhận tin")
    data = await press(web, data, "Đất đai")
    data = await web.say("phường Hoàn Kiếm")
    assert "Đã đăng ký" in said(data)

    tg = TelegramUser(gw, fake_telegram, chat_id=5550002)
    assert await tg.post(fixture("telegram_update_start_deeplink.json")) == 200
    await tg.replies_after(0)
    assert any("Đã đăng ký" in r for r in await tg.say("Hà Nội"))
    before_tg = len(fake_telegram.texts_to(5550002))

    token = await create_user(gw.app[DB], "editor", "officer", "ubnd-phuong-demo")
    published = await api(gw, token, "POST", "/explanations", NEWS)
    assert published["version"] == 1 and published["broadcast"]["recipients"] == 2
    report = await settle(gw, published["broadcast"]["id"], token)
    assert report["sent"] == 2 and report["failed"] == 0 and report["last_sent_at"]

    web_news = [m for m in await web.history() if NEWS["title"] in m["text"]]
    tg_news = [t for t in fake_telegram.texts_to(5550002)[before_tg:] if NEWS["title"] in t]
    assert len(web_news) == 1 and len(tg_news) == 1, "exactly once on each channel"
    assert "vì đã đăng ký nhận tin về “Đất đai”" in tg_news[0] and "hủy nhận tin" in tg_news[0]

    # An edit is a new version; the old one stays readable.
    edited = await api(gw, token, "POST", "/explanations", {**NEWS, "summary": "Bản sửa."})
    assert edited["slug"] == published["slug"] and edited["version"] == 2
    old = await api(gw, token, "GET", f"/explanations/{published['slug']}/versions/1")
    assert old["summary"] == NEWS["summary"] and old["current"] is False
    await settle(gw, edited["broadcast"]["id"], token)

    await web.say("hủy nhận tin")
    await tg.say("stop")
    again = await api(
        gw, token, "POST", "/explanations", {**NEWS, "title": "Tin mới khác về đất đai"}
    )
    assert again["broadcast"]["recipients"] == 0
    async with gw.app[DB].session() as session:
        later = (
            (
                await session.execute(
                    select(Delivery).where(Delivery.broadcast_id == again["broadcast"]["id"])
                )
            )
            .scalars()
            .all()
        )
    assert later == []


async def test_targeting_commune_province_country(telegram_gateway: RunningGateway) -> None:
    gw = telegram_gateway
    db = gw.app[DB]
    ward, province, country, elsewhere = await add_subscribers(
        db,
        # Phường Hoàn Kiếm, Hà Nội; on a second topic too: still one message.
        [("datdai", "w:70"), ("thutuc", "w:70")],
        [("datdai", "p:1")],  # Hà Nội
        [("datdai", "country")],
        [("datdai", "p:79")],  # TP Hồ Chí Minh
    )
    # Sending to the whole country is an admin's (bot/domain/permissions.py).
    token = await create_user(db, "editor2", "admin", "ubnd-phuong-demo")

    async def recipients(localities: list[str], topics: list[str]) -> set[int]:
        body = {
            **NEWS,
            "title": f"Tin {localities}{topics}",
            "topics": topics,
            "localities": localities,
        }
        published = await api(gw, token, "POST", "/explanations", body)
        async with db.session() as session:
            rows = await session.execute(
                select(Delivery.contact_id).where(
                    Delivery.broadcast_id == published["broadcast"]["id"]
                )
            )
            ids = [r for (r,) in rows]
        assert len(ids) == len(set(ids)), "one delivery per contact"
        return set(ids)

    assert await recipients(["w:70"], ["datdai"]) == {ward}
    assert await recipients(["p:1"], ["datdai"]) == {ward, province}
    assert await recipients(["country"], ["datdai", "thutuc"]) == {
        ward,
        province,
        country,
        elsewhere,
    }
    assert await recipients(["p:79"], ["thutuc"]) == set()


async def test_cli_publishes_a_markdown_file_and_reports(
    demo_database_url: str, tmp_path: Any
) -> None:
    import json
    import os
    import sys
    from pathlib import Path

    note = tmp_path / "tin.md"
    note.write_text(
        "---\ntitle: Lịch tiếp công dân tháng 12\ntopics: [tiepcongdan]\nlocalities: [w:70]\n"
        "source_document: Thông báo minh họa\n---\n"
        "Chủ tịch UBND phường tiếp công dân sáng thứ Năm.\n",
        encoding="utf-8",
    )
    env = {**os.environ, "GIAITRINH_DATABASE_URL": demo_database_url}
    giaitrinh = str(Path(sys.executable).parent / "giaitrinh")

    async def run(*args: str) -> tuple[int, str]:
        proc = await asyncio.create_subprocess_exec(
            giaitrinh,
            *args,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await proc.communicate()
        return proc.returncode or 0, (out + err).decode()

    code, out = await run("explanation", "publish", str(note))
    assert code == 2 and "agency_required" in out, "the command line names the agency"
    code, out = await run("explanation", "publish", str(note), "--agency", "ubnd-phuong-demo")
    assert code == 0, out
    result = json.loads(out.strip().splitlines()[-1])
    assert result["slug"] == "lich-tiep-cong-dan-thang-12" and result["version"] == 1
    code, out = await run("broadcast", "report", str(result["broadcast"]["id"]))
    assert code == 0 and json.loads(out)["recipients"] == 0
    code, out = await run("broadcast", "send", result["slug"])
    assert code == 0, out
    assert json.loads(out.strip().splitlines()[-1])["broadcast"]["recipients"] == 0
    code, out = await run("broadcast", "send", "khong-co-bai-nay")
    assert code == 2 and "explanation_not_found" in out
    bad = tmp_path / "bad.md"
    bad.write_text("---\ntitle: X\nlocalities: [w:99999999]\n---\nNội dung\n", encoding="utf-8")
    code, out = await run("explanation", "publish", str(bad), "--agency", "ubnd-phuong-demo")
    assert code == 2 and "invalid_locality" in out


async def test_a_scheduled_explanation_waits_then_goes_out_to_that_days_subscribers(
    telegram_gateway: RunningGateway,
) -> None:
    from datetime import timedelta

    from bot.services import subscriptions
    from bot.services.explanations import release_scheduled
    from bot.store.models import Explanation, utcnow

    gw = telegram_gateway
    db = gw.app[DB]
    early, late = await add_subscribers(db, [("datdai", "w:70")], [])
    token = await create_user(db, "editor3", "officer", "ubnd-phuong-demo")

    first = await api(gw, token, "POST", "/explanations", NEWS)
    at = (utcnow() + timedelta(hours=2)).astimezone().isoformat()
    scheduled = await api(
        gw,
        token,
        "POST",
        "/explanations",
        {**NEWS, "summary": "Bản có hiệu lực sau.", "publish_at": at},
    )
    assert scheduled["version"] == 2 and scheduled["scheduled_for"]
    assert scheduled["broadcast"]["recipients"] == 0, "nothing is planned before its time"
    current = await api(gw, token, "GET", f"/explanations/{first['slug']}")
    assert current["version"] == 1, "version 1 stays the one people read until then"

    await subscriptions.subscribe(db, late, "datdai", "p:1")  # subscribes in the meantime
    assert await release_scheduled(db, utcnow()) == 0, "not yet"
    assert await release_scheduled(db, utcnow() + timedelta(hours=3)) == 1
    assert await release_scheduled(db, utcnow() + timedelta(hours=3)) == 0, "released once"
    async with db.session() as session:
        live = await session.scalar(
            select(Explanation.version).where(
                Explanation.slug == first["slug"], Explanation.is_current.is_(True)
            )
        )
        planned = set(
            (
                await session.execute(
                    select(Delivery.contact_id).where(
                        Delivery.broadcast_id == scheduled["broadcast"]["id"]
                    )
                )
            ).scalars()
        )
    assert live == 2 and planned == {early, late}

    # An explicit send reaches only who has not had this version yet.
    await add_subscribers(db, [("datdai", "w:70")])  # a newcomer
    again = await api(gw, token, "POST", f"/explanations/{first['slug']}/broadcasts")
    assert again["broadcast"]["recipients"] == 1

    bad = await gw.http.post(
        f"{gw.base_url}/api/v1/explanations",
        headers={"Authorization": f"Bearer {token}"},
        json={**NEWS, "publish_at": "mai nhé"},
    )
    assert bad.status == 400 and (await bad.json())["error"]["code"] == "invalid_publish_at"


async def test_planning_goes_in_batches_and_a_cut_short_plan_resumes_once(
    telegram_gateway: RunningGateway,
) -> None:
    from datetime import timedelta

    from bot.services.broadcasts import plan_in_batches
    from bot.services.explanations import release_scheduled
    from bot.store.broadcasts import plan_range
    from bot.store.models import Broadcast, utcnow

    db = telegram_gateway.app[DB]
    contacts = await add_subscribers(
        db,
        [("datdai", "w:70"), ("datdai", "p:1")],  # matches twice: one row
        *[[("datdai", "w:70")]] * 6,
    )
    token = await create_user(db, "editor4", "officer", "ubnd-phuong-demo")
    published = await api(telegram_gateway, token, "POST", "/explanations", NEWS)
    assert published["broadcast"]["recipients"] == 7

    # Another explanation's broadcast, whose planner died after its first range of 3 ids.
    async with db.session() as session:
        _, explanation = await with_another(session, published["slug"], "tin-khac")
        first = min(contacts) - 1
        broadcast = Broadcast(
            explanation_id=explanation.id,
            text="Tin thử",
            send_at=utcnow() - timedelta(minutes=5),
            created_at=utcnow() - timedelta(minutes=5),
            planned_upto=first + 3,
        )
        session.add(broadcast)
        await session.flush()
        broadcast.recipients = await plan_range(session, broadcast.id, explanation, 0, first + 3)
    assert broadcast.recipients == 3
    assert await release_scheduled(db) == 1, "the dispatcher loop finishes the cut-short plan"
    assert await plan_in_batches(db, broadcast.id, batch=2) == 7, "planned once, not again"
    async with db.session() as session:
        rows = list(
            (
                await session.execute(
                    select(Delivery.contact_id).where(Delivery.broadcast_id == broadcast.id)
                )
            ).scalars()
        )
        done = await session.get(Broadcast, broadcast.id)
    assert sorted(rows) == sorted(contacts), "every subscriber once"
    assert done is not None and done.planned_at is not None and done.recipients == 7


async def test_the_benchmark_population_gets_one_delivery_per_matching_subscriber(
    database_url: str,
) -> None:
    """The fan-out benchmark's population and checks at a small size, planned in several
    ranges: every matching subscriber once, nobody else (SQLite and PostgreSQL)."""
    from bench.broadcast_fanout import plan
    from bench.seed import (
        cases,
        check,
        expected_recipients,
        seed_population,
        seed_reference_rows,
    )
    from bot.store.db import Database

    db = Database(database_url)
    try:
        await seed_reference_rows(db)
        await seed_population(db, 3000)
        for case in cases():
            expected = await expected_recipients(db, case)
            broadcast_id, recipients, _ = await plan(db, case, batch=700)
            problems, warnings = await check(db, case, broadcast_id, recipients, expected)
            assert expected > 0 and not problems and not warnings, (case, problems, warnings)
    finally:
        await db.dispose()


async def test_reports_and_a_resend_find_each_broadcasts_deliveries_by_their_id_range(
    telegram_gateway: RunningGateway,
) -> None:
    """Deliveries are not indexed by broadcast: each plan records the ids its ranges got.
    Two plans written range by range in turns interleave their ids; each report still
    counts its own, and a resend of a version goes only to subscribers who have not had it
    (the earlier broadcasts' deliveries found by their ranges too)."""
    from bot.cli import _cli_actor
    from bot.services.broadcasts import broadcast_report, plan_one_range
    from bot.services.explanations import send_again
    from bot.store.models import Broadcast

    db = telegram_gateway.app[DB]
    had_it = await add_subscribers(db, *[[("datdai", "p:1")]] * 4)
    token = await create_user(db, "editor5", "officer", "ubnd-phuong-demo")
    published = await api(telegram_gateway, token, "POST", "/explanations", NEWS)
    assert published["broadcast"]["recipients"] == 4
    newcomers = await add_subscribers(db, *[[("datdai", "p:1")]] * 3)

    async with db.session() as session:
        first, other = await with_another(session, published["slug"], "tin-xen-ke")
        # Not due for the dispatcher's loop (no send time): planned here, in turns.
        resend = Broadcast(explanation_id=first.id, text="Gửi lại")
        interleaved = Broadcast(explanation_id=other.id, text="Tin khác")
        session.add_all([resend, interleaved])
        await session.flush()
        plans = [(resend.id, first, True), (interleaved.id, other, False)]
    everyone = sorted(had_it + newcomers)
    for cursor in range(everyone[0] - 1, everyone[-1], 2):
        for broadcast_id, explanation, skip in plans:
            async with db.session() as session:
                upto = cursor + 2
                added = await plan_one_range(session, broadcast_id, explanation, cursor, upto, skip)
                assert added is not None

    async with db.session() as session:
        rows = await session.execute(
            select(Delivery.broadcast_id, Delivery.id, Delivery.contact_id).where(
                Delivery.broadcast_id.in_([resend.id, interleaved.id])
            )
        )
        by_broadcast: dict[int, list[tuple[int, int]]] = {}
        for broadcast_id, delivery_id, contact_id in rows:
            by_broadcast.setdefault(broadcast_id, []).append((delivery_id, contact_id))
    resent, other_rows = by_broadcast[resend.id], by_broadcast[interleaved.id]
    assert sorted(c for _, c in resent) == sorted(newcomers), "only who had not had it"
    assert sorted(c for _, c in other_rows) == everyone
    assert min(i for i, _ in other_rows) < max(i for i, _ in resent), "the ids interleave"
    assert min(i for i, _ in resent) < max(i for i, _ in other_rows)

    admin = _cli_actor("test")
    for broadcast_id, expected in [
        (published["broadcast"]["id"], 4),
        (resend.id, 3),
        (interleaved.id, 7),
    ]:
        report = await broadcast_report(db, broadcast_id, admin)
        assert sum(report.by_status.values()) == expected, (broadcast_id, report)
    again = await send_again(db, published["slug"], admin)
    assert again.recipients == 0, "everybody has this version, from one broadcast or the other"
