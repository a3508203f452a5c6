"""Two gateway processes on one database: what one publishes, the other answers with on its
next question, without rebuilding its index (bot/services/knowledge.py `refresh`)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from bot.domain.actors import Actor
from bot.domain.roles import Role
from bot.services.explanations import ExplanationSpec, publish, release_scheduled
from bot.services.knowledge import KnowledgeBase
from bot.store import explanations as versions
from bot.store.db import Database
from bot.store.models import utcnow

ADMIN = Actor("test", Role.ADMIN)
MARKET = ExplanationSpec(
    title="Phí trông giữ xe đạp tại chợ phường",
    summary="Mức thu phí trông giữ xe đạp tại chợ phường.",
    body="Từ tháng 12, người gửi xe đạp tại chợ phường trả phí trông giữ theo lượt, có vé.",
    agency="ubnd-phuong-demo",
    slug="phi-trong-giu-xe-cho",
)
CARS = replace(
    MARKET,
    title="Phí trông giữ ô tô tại chợ phường",
    summary="Mức thu phí trông giữ ô tô tại chợ phường.",
    body="Từ tháng 12, người gửi ô tô tại bãi của chợ phường trả phí trông giữ theo giờ.",
)
TRUCKS = replace(
    MARKET,
    title="Phí trông giữ xe tải tại chợ đầu mối phường",
    summary="Mức thu phí trông giữ xe tải tại chợ đầu mối.",
    body="Xe tải giao hàng tại chợ đầu mối phường trả phí trông giữ theo chuyến.",
)
FLOODS = ExplanationSpec(
    title="Hỗ trợ hộ gia đình bị ngập lụt",
    body="Hộ gia đình có nhà bị ngập lụt được phường hỗ trợ sửa chữa.",
    agency="ubnd-phuong-demo",
    slug="ho-tro-ngap-lut",
)
QUESTIONS = (
    "gửi xe đạp ở chợ phường mất phí không",
    "phí gửi ô tô ở chợ phường",
    "xe tải vào chợ đầu mối trả phí thế nào",
    "nhà bị ngập lụt có được hỗ trợ không",
    "chỉ thị 53 yêu cầu cơ quan làm gì",
)


async def current_id(db: Database, slug: str) -> int:
    async with db.session() as session:
        row = await versions.current_version(session, slug)
    assert row is not None, slug
    return row.id


def found(kb: KnowledgeBase, question: str) -> list[int]:
    return [h.doc.id for h in kb.search(question, k=3)]


async def test_a_publication_edit_and_release_in_one_process_are_answered_by_another(
    demo_database_url: str,
) -> None:
    db = Database(demo_database_url)
    try:
        here, there = KnowledgeBase(), KnowledgeBase()  # two processes
        assert await here.refresh(db) and await there.refresh(db)
        assert not await there.refresh(db), "nothing changed"

        await publish(db, MARKET, ADMIN)
        bikes = await current_id(db, MARKET.slug)
        assert await there.refresh(db), "a new explanation is seen"
        assert found(there, QUESTIONS[0])[:1] == [bikes]

        # An edit is a new version that replaces the current one: it is found, the old is gone.
        await publish(db, CARS, ADMIN)
        cars = await current_id(db, MARKET.slug)
        assert await there.refresh(db)
        assert found(there, QUESTIONS[1])[:1] == [cars]
        assert bikes not in {h.doc.id for q in QUESTIONS for h in there.search(q, k=5)}
        doc = there.by_slug(MARKET.slug)
        assert doc is not None and doc.title == CARS.title, doc

        # A version scheduled earlier goes live after a later publication: the count of current
        # explanations and their highest id stay the same, the index must change all the same.
        await publish(db, replace(TRUCKS, publish_at=utcnow() + timedelta(hours=2)), ADMIN)
        await publish(db, FLOODS, ADMIN)
        assert await there.refresh(db)
        assert await release_scheduled(db, utcnow() + timedelta(hours=3)) == 1
        trucks = await current_id(db, MARKET.slug)
        assert trucks < await current_id(db, FLOODS.slug)
        assert await there.refresh(db), "a release that keeps the count and the top id is seen"
        assert found(there, QUESTIONS[2])[:1] == [trucks]
        doc = there.by_slug(MARKET.slug)
        assert doc is not None and doc.id == trucks, doc

        # What followed step by step answers exactly as an index built from scratch now.
        assert await here.refresh(db)
        fresh = KnowledgeBase()
        await fresh.refresh(db)
        assert len(there) == len(here) == len(fresh)
        for question in QUESTIONS:
            assert there.search(question, k=5) == fresh.search(question, k=5), question
            assert here.search(question, k=5) == fresh.search(question, k=5), question
    finally:
        await db.dispose()
