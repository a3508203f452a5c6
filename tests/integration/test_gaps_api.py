"""/api/v1/gaps: scoped by role and agency, phone and ID numbers hidden, and the newest
questions shown even under a pile of old ones."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select

from bot.gateway import DB
from bot.services.demo import load_demo
from bot.services.users import create_user
from bot.store.db import Database
from bot.store.models import Agency, Explanation, QuestionGap, utcnow
from tests.conftest import RunningGateway
from tests.integration.test_case_api import call

DEMO = "ubnd-phuong-demo"
DEMO_SLUG = "chi-thi-53-trach-nhiem-giai-trinh"  # one of the demo agency's explanations
B_SLUG = "cap-phep-xay-dung-cua-so-b"

NO_AGENCY = "Tôi muốn hỏi mức thu học phí mầm non, số điện thoại 0912 345 678"
ABOUT_A = "Chỉ thị 53 có áp dụng cho xã không? CCCD của tôi 001203004567"
ABOUT_B = "Cấp phép xây dựng nhà ở riêng lẻ mất bao lâu, gọi tôi +84 987 654 321"
UNKNOWN_SLUG = "Đăng ký kết hôn với người nước ngoài cần giấy tờ gì"


async def _gap(db: Database, text: str, reason: str = "unhelpful", slug: str | None = None) -> None:
    async with db.session() as session:
        session.add(QuestionGap(text=text, reason=reason, explanation_slug=slug))


def examples(body: dict[str, Any]) -> list[str]:
    return sorted(e for group in body["groups"] for e in group["examples"])


async def test_officers_see_their_agencys_gaps_and_unattributed_ones_redacted(
    offline_gateway: RunningGateway,
) -> None:
    gw = offline_gateway
    db = gw.app[DB]
    await load_demo(db)
    async with db.session() as session:
        other = Agency(slug="so-b", name="Sở B")
        session.add(other)
        await session.flush()
        session.add(Explanation(agency_id=other.id, slug=B_SLUG, title="Cấp phép", body="..."))
    await _gap(db, NO_AGENCY, reason="unanswered")
    await _gap(db, ABOUT_A, slug=DEMO_SLUG)
    await _gap(db, ABOUT_B, slug=B_SLUG)
    await _gap(db, UNKNOWN_SLUG, slug="bai-da-xoa")
    admin = await create_user(db, "quantri", "admin", None)
    officer_a = await create_user(db, "canbo-a", "officer", DEMO)
    officer_b = await create_user(db, "canbo-b", "officer", "so-b")
    operator = await create_user(db, "tongdai", "operator", DEMO)

    seen: dict[str, list[str]] = {}
    for name, token in (("admin", admin), ("a", officer_a), ("b", officer_b)):
        status, body = await call(gw, token, "GET", "/gaps")
        assert status == 200, body
        seen[name] = examples(body)
        text = str(body)
        for raw in ("0912 345 678", "001203004567", "987 654 321"):
            assert raw not in text, f"{raw} shown to {name}: {text}"
    hidden_phone = "Tôi muốn hỏi mức thu học phí mầm non, số điện thoại [số điện thoại]"
    hidden_id = "Chỉ thị 53 có áp dụng cho xã không? CCCD của tôi [số giấy tờ]"
    hidden_b = "Cấp phép xây dựng nhà ở riêng lẻ mất bao lâu, gọi tôi [số điện thoại]"
    assert seen["admin"] == sorted([hidden_phone, hidden_id, hidden_b, UNKNOWN_SLUG])
    assert seen["a"] == sorted([hidden_phone, hidden_id, UNKNOWN_SLUG])
    assert seen["b"] == sorted([hidden_phone, hidden_b, UNKNOWN_SLUG])
    status, body = await call(gw, operator, "GET", "/gaps")
    assert status == 403 and body["error"]["code"] == "forbidden"


async def test_a_new_gap_shows_up_under_thousands_of_old_ones(
    offline_gateway: RunningGateway,
) -> None:
    gw = offline_gateway
    db = gw.app[DB]
    await load_demo(db)
    old: datetime = utcnow() - timedelta(days=30)
    async with db.session() as session:
        await session.execute(
            insert(QuestionGap),
            [
                {
                    "text": f"Thuế sử dụng đất phi nông nghiệp năm nay bao nhiêu {i % 7}",
                    "reason": "unanswered",
                    "locality": "",
                    "created_at": old + timedelta(seconds=i),
                }
                for i in range(5001)
            ],
        )
    await _gap(db, "Lệ phí trước bạ xe máy điện là bao nhiêu?", reason="unanswered")
    admin = await create_user(db, "quantri", "admin", None)
    status, body = await call(gw, admin, "GET", "/gaps")
    assert status == 200, body
    assert "Lệ phí trước bạ xe máy điện là bao nhiêu?" in examples(body), body["groups"][:2]
    async with db.session() as session:
        assert len((await session.execute(select(QuestionGap.id))).all()) == 5002
