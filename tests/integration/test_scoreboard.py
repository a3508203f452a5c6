"""The public scoreboard (/cong-khai, /cong-khai.json): an agency's figures over the last 12
months as its report gives them, no figure resting on fewer than 5 cases, no case text or
name, no login."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.domain.actors import Actor
from bot.domain.cases import Kind, Status
from bot.domain.reports import ReportPeriod, last_months, local_day
from bot.domain.roles import Role
from bot.gateway import DB
from bot.services.cases import CaseDraft, file_case, transition_case
from bot.services.demo import load_demo
from bot.services.ratings import rate_case
from bot.services.reports import ReportFilter, report
from bot.services.scoreboard import ScoreboardCache, scoreboard
from bot.store.db import Database
from bot.store.models import Agency, Contact
from tests.conftest import RunningGateway

ADMIN = Actor(name="scoreboard-test", role=Role.ADMIN)
NOW = datetime(2026, 6, 15, 3, 0, tzinfo=UTC)  # 10:00 in Vietnam
DEMO = "ubnd-phuong-demo"
SMALL = "ubnd-xa-it-ho-so"
NAME = "Trần Thị Riêng Tư"
CONTENT = "Nội dung riêng của hồ sơ 0912345678"


async def _agency(db: Database, slug: str) -> int:
    async with db.session() as session:
        found = (await session.execute(select(Agency).where(Agency.slug == slug))).scalar_one()
        return found.id


async def _petition(db: Database, agency: int, contact: int, received: datetime) -> str:
    draft = CaseDraft(
        kind=Kind.PETITION, content=CONTENT, requester_name=NAME, consent=True, locality="w:70"
    )
    filed = await file_case(db, draft, contact, now=received, agency_id=agency)
    return filed.code


async def _world(db: Database) -> None:
    """Agency DEMO: 7 petitions received in May 2026, 4 answered the next day, 1 answered
    60 days later, 2 never answered (all past their 10 working days by NOW); ratings 5, 5, 4,
    3, 2. Agency SMALL: 3 petitions, all answered the next day and rated 5."""
    await load_demo(db)
    async with db.session() as session:
        session.add(Agency(slug=SMALL, name="UBND xã Ít Hồ Sơ"))
        contact = Contact(channel="web", channel_user_id="scoreboard")
        session.add(contact)
        await session.flush()
        contact_id = contact.id
    demo, small = await _agency(db, DEMO), await _agency(db, SMALL)
    start = datetime(2026, 5, 4, 2, 0, tzinfo=UTC)
    for n, (answer_after, score) in enumerate(
        [(1, 5), (1, 5), (1, 4), (1, 3), (60, 2), (None, None), (None, None)]
    ):
        received = start + timedelta(days=n)
        code = await _petition(db, demo, contact_id, received)
        if answer_after is not None:
            at = min(received + timedelta(days=answer_after), NOW - timedelta(hours=1))
            await transition_case(db, code, Status.ANSWERED, ADMIN, "Đã trả lời.", now=at)
        if score is not None:
            assert await rate_case(db, code, contact_id, score)
    for n in range(3):
        received = start + timedelta(days=n)
        code = await _petition(db, small, contact_id, received)
        await transition_case(
            db, code, Status.ANSWERED, ADMIN, "Đã trả lời.", now=received + timedelta(days=1)
        )
        assert await rate_case(db, code, contact_id, 5)


async def test_an_agency_scores_as_its_report_says_and_small_counts_are_not_shown(
    offline_gateway: RunningGateway,
) -> None:
    db = offline_gateway.app[DB]
    await _world(db)
    board = await scoreboard(db, now=NOW)
    assert (board.first.isoformat(), board.last.isoformat()) == ("2025-07-01", "2026-06-15")
    scores = {a.slug: a for a in board.agencies}
    demo = scores[DEMO].total
    # 7 received; the late answer (60 days) and the 2 never answered are late: 4 of 7 on time
    assert demo.received == 7
    assert demo.answer_on_time == round(4 / 7, 3)
    assert demo.median_days == 1  # four answered the next working day, one 60 days later
    assert demo.acceptance_on_time is None  # petitions have no acceptance decision
    assert demo.satisfaction == 3.8 and demo.satisfied == 0.6
    # the same figures as the agency's own report for the same months
    period = ReportPeriod(board.first, board.last)
    cases = (await report(db, ADMIN, ReportFilter(period, agency=DEMO), now=NOW)).cases
    assert demo.answer_on_time == cases["answer"]["on_time_share"]
    assert demo.median_days == cases["answer"]["median_working_days"]
    # 3 cases: nothing is shown, not even how many
    small = scores[SMALL].total
    assert (small.received, small.answer_on_time, small.satisfaction, small.median_days) == (
        None,
        None,
        None,
        None,
    )
    # month by month: May has DEMO's 7 cases, every other month none (nothing shown)
    months = dict(scores[DEMO].months)
    assert len(months) == 12
    may = months[datetime(2026, 5, 1).date()]
    assert may.received == 7 and may.satisfaction == 3.8
    assert all(s.received is None for m, s in months.items() if m.month != 5)


async def test_the_page_and_open_data_need_no_login_and_show_no_case_text_or_name(
    offline_gateway: RunningGateway,
) -> None:
    gw = offline_gateway
    db = gw.app[DB]
    await _world(db)
    before = local_day(datetime.now(UTC))
    async with gw.http.get(f"{gw.base_url}/cong-khai.json") as response:
        assert response.status == 200
        raw = await response.text()
        data = await response.json()
    async with gw.http.get(f"{gw.base_url}/cong-khai") as response:
        assert response.status == 200 and response.content_type == "text/html"
        page = await response.text()
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    for text in (raw, page):
        assert NAME not in text and "Nội dung riêng" not in text and "0912345678" not in text
    assert data["min_cases"] == 5
    names = [a["name"] for a in data["agencies"]]
    assert "UBND xã Ít Hồ Sơ" in names and "UBND xã Ít Hồ Sơ" in page
    small = next(a for a in data["agencies"] if a["agency"] == SMALL)
    assert set(small["total"].values()) == {None}
    # the page's months are the 12 ending with the current one (the test may cross midnight)
    days = {before, local_day(datetime.now(UTC))}
    assert (data["from"], data["to"]) in {
        (last_months(d, 12)[0].first.isoformat(), d.isoformat()) for d in days
    }


async def test_the_scoreboard_is_computed_once_per_interval_however_often_it_is_asked(
    offline_gateway: RunningGateway,
) -> None:
    db = offline_gateway.app[DB]
    await load_demo(db)
    clock = [0.0]
    cache = ScoreboardCache(ttl=300, clock=lambda: clock[0])
    first = await cache.get(db)
    clock[0] = 299.0
    assert await cache.get(db) is first
    clock[0] = 300.0
    assert await cache.get(db) is not first
