"""Cases end to end through the web channel with the real model, the API and the outbox."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.domain import codes
from bot.domain.cases import STATUS_LABELS, Status
from bot.domain.localities import search
from bot.gateway import DB
from bot.services.users import create_user
from bot.store.models import Case, Rating
from tests.chat import CODE, buttons, file_explanation_request, press, said, wait_for
from tests.conftest import RunningGateway

HOAN_KIEM = next(p for p in search("Phường Hoàn Kiếm") if p.name == "Phường Hoàn Kiếm")


async def api(gw: RunningGateway, token: str, method: str, path: str, **body: Any) -> Any:
    async with gw.http.request(
        method,
        f"{gw.base_url}/api/v1{path}",
        headers={"Authorization": f"Bearer {token}"},
        json=body or None,
    ) as resp:
        data = await resp.json()
        assert resp.status == 200, data
        return data


async def test_explanation_request_filed_answered_notified_and_rated(
    gateway: RunningGateway,
) -> None:
    chat = await gateway.chat()
    code = await file_explanation_request(chat)

    data = await chat.say(f"kiểm tra {code.lower().replace('-', ' ')}")
    assert STATUS_LABELS[Status.RECEIVED] in said(data), said(data)

    db = gateway.app[DB]
    token = await create_user(db, "canbo1", "officer", "ubnd-phuong-demo")
    listed = await api(gateway, token, "GET", "/cases?status=received")
    assert [c["code"] for c in listed["cases"]] == [code]
    await api(gateway, token, "POST", f"/cases/{code}/transition", to="accepted")
    await api(gateway, token, "POST", f"/cases/{code}/transition", to="in_progress")
    answer = "Việc thu hồi đất căn cứ Điều 79 Luật Đất đai; mức bồi thường theo bảng giá đất."
    case = await api(
        gateway, token, "POST", f"/cases/{code}/transition", to="answered", note=answer
    )
    assert [e["to"] for e in case["events"]] == ["received", "accepted", "in_progress", "answered"]

    notice = await wait_for(chat, answer)
    rate_5 = next(b for b in notice["buttons"] if b["title"].startswith("5"))
    data = await chat.say(rate_5["title"], payload=rate_5["payload"])
    assert "Cảm ơn anh/chị đã đánh giá 5/5" in said(data), said(data)
    data = await press(chat, data, "Bỏ qua")
    async with db.session() as session:
        rating = (await session.execute(select(Rating))).scalar_one()
        assert rating.score == 5
    satisfaction = await api(gateway, token, "GET", "/satisfaction")
    assert satisfaction["ratings"] == 1 and satisfaction["mean"] == 5.0

    # Someone else probing the code learns nothing.
    stranger = await gateway.chat()
    data = await stranger.say(f"kiểm tra {code}")
    assert "Không tìm thấy hồ sơ" in said(data)
    bogus = await stranger.say("kiểm tra ABCD-EFGHJ")
    assert said(bogus).replace("ABCD-EFGHJ", code) == said(data)


async def test_anonymous_petition_says_no_updates_can_be_sent(gateway: RunningGateway) -> None:
    chat = await gateway.chat()
    data = await chat.say("tôi muốn phản ánh về đường bị ngập")
    assert "phản ánh" in said(data).lower()
    data = await chat.say("Đường Lê Lợi ngập sâu mỗi khi mưa, xe máy chết máy rất nhiều.")
    assert "ở đâu" in said(data)
    data = await chat.say("Đường Lê Lợi, phường Hoàn Kiếm")
    data = await press(chat, data, "Gửi ẩn danh")
    assert "ẩn danh" in said(data)
    data = await press(chat, data, "Xác nhận gửi")
    assert "không thể gửi thông báo" in said(data), said(data)
    code = CODE.search(said(data))
    assert code
    async with gateway.app[DB].session() as session:
        case = (await session.execute(select(Case))).scalar_one()
        assert case.anonymous and case.requester_contact == "" and case.kind == "petition"
        assert codes.display(case.code) == code.group(1)
        # "Đường Lê Lợi, phường Hoàn Kiếm" names one commune: reports count the case there
        assert case.locality == HOAN_KIEM.code and case.province == f"p:{HOAN_KIEM.province_code}"


async def test_no_consent_stores_nothing(gateway: RunningGateway) -> None:
    chat = await gateway.chat()
    data = await chat.say("tôi muốn yêu cầu giải trình")
    data = await press(chat, data, "Không đồng ý")
    assert "không có thông tin nào được lưu" in said(data)
    async with gateway.app[DB].session() as session:
        assert (await session.execute(select(Case))).first() is None


async def test_cancel_in_the_middle(gateway: RunningGateway) -> None:
    chat = await gateway.chat()
    data = await chat.say("yeu cau giai trinh")
    data = await press(chat, data, "Đồng ý")
    data = await chat.say("Trần Văn Minh")
    data = await chat.say("thôi")
    assert "Đã hủy" in said(data)
    async with gateway.app[DB].session() as session:
        assert (await session.execute(select(Case))).first() is None
    data = await chat.say("xin chào")
    assert "Xin chào" in said(data), "after a cancel the bot is back to normal"


async def test_unknown_locality_gets_suggestions_and_status_lists_own_cases(
    gateway: RunningGateway,
) -> None:
    chat = await gateway.chat()
    data = await chat.say("yêu cầu giải trình")
    data = await press(chat, data, "Đồng ý")
    data = await chat.say("Lê Văn Tám")
    data = await chat.say("+84 912 345 678")
    data = await chat.say("phuong hoan kem")
    assert "chưa tìm thấy" in said(data)
    data = await press(chat, data, "Phường Hoàn Kiếm, Thành phố Hà Nội")
    assert "Quyết định hoặc việc làm" in said(data)
    data = await chat.say("Thông báo thu phí vệ sinh năm 2026")
    data = await chat.say("Đề nghị giải thích vì sao phí vệ sinh tăng gấp đôi so với năm trước.")
    data = await press(chat, data, "Xác nhận gửi")
    code = CODE.search(said(data))
    assert code
    async with gateway.app[DB].session() as session:
        case = (await session.execute(select(Case))).scalar_one()
        assert case.locality == HOAN_KIEM.code, "the commune chosen is the case's place"
    data = await chat.say("hồ sơ của tôi đến đâu rồi")
    assert code.group(1) in said(data) and STATUS_LABELS[Status.RECEIVED] in said(data), said(data)


async def test_the_citizen_withdraws_a_request_after_confirming(gateway: RunningGateway) -> None:
    from bot.services.users import create_user

    token = await create_user(gateway.app[DB], "officer-withdraw", "officer", "ubnd-phuong-demo")
    chat = await gateway.chat()
    code = await file_explanation_request(chat)
    data = await chat.say(f"kiểm tra {code}")
    assert "Rút yêu cầu" in buttons(data), "an open case can be withdrawn"
    data = await press(chat, data, "Rút yêu cầu")
    assert "chắc chắn muốn rút" in said(data), said(data)
    data = await press(chat, data, "Không rút")
    assert STATUS_LABELS[Status.RECEIVED] in said(data), "nothing changed"
    data = await press(chat, data, "Rút yêu cầu")
    data = await press(chat, data, "Rút yêu cầu")
    assert f"Đã rút yêu cầu {code}" in said(data), said(data)

    case = await api(gateway, token, "GET", f"/cases/{code}")
    assert case["status"] == "withdrawn"
    assert case["events"][-1]["to"] == "withdrawn" and case["events"][-1]["actor"].startswith(
        "citizen:"
    )
    notices = await api(gateway, token, "GET", "/notices")
    assert any(code in n["text"] and n["kind"] == "withdrawn" for n in notices["notices"])

    data = await chat.say(f"kiểm tra {code}")
    assert "Đã rút yêu cầu" in said(data) and "Rút yêu cầu" not in buttons(data)
    stranger = await gateway.chat()
    payload = f'/check_status{{"case_code":"{code}","case_action":"withdraw_confirmed"}}'
    data = await stranger.say(payload)
    assert "Không tìm thấy hồ sơ" in said(data), "someone else's code cannot be withdrawn"
