"""Whole conversations over the slips a first-time citizen trips on: words that fold to the
same letters ("đúng" right / "dừng" stop), place names shared by several communes, and the
words used for a case's status."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.domain.cases import STATUS_LABELS, Status
from bot.gateway import DB
from bot.services.users import create_user
from bot.store.models import Case, Message, Subscription
from tests.chat import CODE, buttons, press, said, wait_for
from tests.conftest import RunningGateway, WebChat


async def _cases(gw: RunningGateway) -> list[Case]:
    async with gw.app[DB].session() as session:
        return list((await session.execute(select(Case))).scalars())


async def _to_consent(chat: WebChat) -> dict[str, Any]:
    data = await chat.say("tôi muốn yêu cầu giải trình")
    assert "Anh/chị có đồng ý không?" in said(data), said(data)
    return data


async def _to_summary(chat: WebChat) -> dict[str, Any]:
    """An explanation request up to its summary, consent given with "Đúng"."""
    await _to_consent(chat)
    data = await chat.say("Đúng")
    assert "họ và tên" in said(data), f"“Đúng” must consent: {said(data)}"
    data = await chat.say("Nguyễn Thị Lan")
    data = await chat.say("0912 345 678")
    data = await chat.say("phuong hoan kiem")
    data = await chat.say("Thông báo thu phí vệ sinh môi trường năm 2026")
    data = await chat.say("Đề nghị giải thích vì sao phí vệ sinh tăng gấp đôi so với năm trước.")
    assert "Anh/chị kiểm tra lại yêu cầu giải trình" in said(data), said(data)
    return data


async def test_dung_with_its_accent_consents_and_confirms(gateway: RunningGateway) -> None:
    chat = await gateway.chat()
    await _to_summary(chat)
    data = await chat.say("Đúng")
    assert CODE.search(said(data)), f"“Đúng” at the summary must file the case: {said(data)}"
    assert len(await _cases(gateway)) == 1


async def test_dung_lai_stops_the_form_and_keeps_nothing(gateway: RunningGateway) -> None:
    chat = await gateway.chat()
    data = await _to_consent(chat)
    data = await press(chat, data, "Đồng ý")
    data = await chat.say("dừng lại")
    assert "Đã hủy" in said(data), said(data)
    other = await gateway.chat()
    await _to_consent(other)
    data = await other.say("Dừng")
    assert "Đã hủy" in said(data), said(data)
    assert await _cases(gateway) == []


async def test_dung_without_accents_at_consent_asks_which_was_meant(
    gateway: RunningGateway,
) -> None:
    chat = await gateway.chat()
    await _to_consent(chat)
    data = await chat.say("dung")
    text = said(data)
    assert "Đã hủy" not in text and "họ và tên" not in text, text
    assert "đúng" in text and "dừng" in text, f"the two readings are named: {text}"
    assert "Đồng ý" in buttons(data), buttons(data)
    data = await press(chat, data, "Đồng ý")
    assert "họ và tên" in said(data), said(data)


async def test_dung_without_accents_at_the_summary_asks_then_stops_on_request(
    gateway: RunningGateway,
) -> None:
    chat = await gateway.chat()
    await _to_summary(chat)
    data = await chat.say("dung")
    assert "Đã hủy" not in said(data) and not CODE.search(said(data)), said(data)
    assert {"Đúng, gửi đi", "Dừng lại"} <= set(buttons(data)), buttons(data)
    data = await press(chat, data, "Dừng lại")
    assert "Đã hủy" in said(data), said(data)
    assert await _cases(gateway) == []


async def test_dung_without_accents_then_the_send_button_files(gateway: RunningGateway) -> None:
    chat = await gateway.chat()
    await _to_summary(chat)
    data = await chat.say("dung")
    data = await press(chat, data, "Đúng, gửi đi")
    assert CODE.search(said(data)), said(data)


async def test_co_and_khong_with_or_without_accents(gateway: RunningGateway) -> None:
    for yes in ("có", "co"):
        chat = await gateway.chat()
        await _to_consent(chat)
        data = await chat.say(yes)
        assert "họ và tên" in said(data), f"{yes!r} must consent: {said(data)}"
    for no in ("không", "ko"):
        chat = await gateway.chat()
        await _to_consent(chat)
        data = await chat.say(no)
        assert "không có thông tin nào được lưu" in said(data), f"{no!r}: {said(data)}"


async def test_a_look_alike_word_typed_with_its_own_accents_is_not_a_yes(
    gateway: RunningGateway,
) -> None:
    chat = await gateway.chat()
    await _to_consent(chat)
    data = await chat.say("cô")
    text = said(data)
    assert "họ và tên" not in text and "Đã hủy" not in text, text
    assert "Anh/chị có đồng ý không?" in text, "the question is asked again"


async def test_a_commune_name_shared_by_several_provinces_offers_a_choice(
    gateway: RunningGateway,
) -> None:
    chat = await gateway.chat()
    data = await _to_consent(chat)
    data = await press(chat, data, "Đồng ý")
    data = await chat.say("Lê Văn Tám")
    data = await chat.say("0912345678")
    data = await chat.say("xa tan an")
    choices = buttons(data)
    assert "Xã Tân An, Tỉnh Tuyên Quang" in choices, f"a choice with provinces: {choices}"
    assert "Xã Tân An, Tỉnh Nghệ An" in choices, choices
    assert "Quyết định hoặc việc làm" not in said(data), "no silent pick"
    data = await press(chat, data, "Xã Tân An, Tỉnh Nghệ An")
    assert "Quyết định hoặc việc làm" in said(data), said(data)
    data = await chat.say("Thông báo thu phí vệ sinh môi trường năm 2026")
    data = await chat.say("Đề nghị giải thích vì sao phí vệ sinh tăng gấp đôi so với năm trước.")
    assert "• Cơ quan: Xã Tân An, Tỉnh Nghệ An" in said(data), said(data)


async def test_a_commune_name_with_its_province_goes_straight_through(
    gateway: RunningGateway,
) -> None:
    chat = await gateway.chat()
    data = await _to_consent(chat)
    data = await press(chat, data, "Đồng ý")
    data = await chat.say("Lê Văn Tám")
    data = await chat.say("0912345678")
    data = await chat.say("tân an, tuyên quang")
    assert "Quyết định hoặc việc làm" in said(data), said(data)


async def test_subscription_to_a_shared_commune_name_offers_a_choice(
    gateway: RunningGateway,
) -> None:
    chat = await gateway.chat()
    data = await chat.say("dang ky nhan tin")
    data = await press(chat, data, "Đất đai")
    data = await chat.say("xa tan an")
    assert "Xã Tân An, Tỉnh Vĩnh Long" in buttons(data), buttons(data)
    async with gateway.app[DB].session() as session:
        assert (await session.execute(select(Subscription))).first() is None, "no silent pick"
    data = await press(chat, data, "Xã Tân An, Tỉnh Vĩnh Long")
    assert "Đã đăng ký nhận tin “Đất đai” cho Xã Tân An, Tỉnh Vĩnh Long" in said(data), said(data)


async def test_the_receipt_and_every_later_status_use_the_same_words(
    gateway: RunningGateway,
) -> None:
    chat = await gateway.chat()
    await _to_summary(chat)
    data = await chat.say("Đúng")
    receipt = said(data)
    code = CODE.search(receipt)
    assert code, receipt
    received = STATUS_LABELS[Status.RECEIVED]
    assert received in receipt, f"the receipt names the status {received!r}: {receipt}"
    data = await chat.say(f"kiểm tra {code.group(1)}")
    assert received in said(data), said(data)
    data = await chat.say("hồ sơ của tôi đến đâu rồi")
    assert received in said(data), said(data)

    token = await create_user(gateway.app[DB], "officer-words", "officer", "ubnd-phuong-demo")
    async with gateway.http.post(
        f"{gateway.base_url}/api/v1/cases/{code.group(1)}/transition",
        headers={"Authorization": f"Bearer {token}"},
        json={"to": "accepted"},
    ) as resp:
        assert resp.status == 200, await resp.text()
        assert (await resp.json())["status"] == "accepted", "API status codes are unchanged"
    accepted = STATUS_LABELS[Status.ACCEPTED]
    notice = await wait_for(chat, accepted)
    assert code.group(1) in notice["text"]
    data = await chat.say(f"kiểm tra {code.group(1)}")
    assert accepted in said(data) and received not in said(data), said(data)


async def test_dung_without_accents_after_the_erase_question_erases_nothing(
    gateway: RunningGateway,
) -> None:
    chat = await gateway.chat()
    await chat.say("xin chào")
    data = await chat.say("xóa dữ liệu của tôi")
    assert "Việc xóa không thể hoàn tác" in said(data), said(data)
    for typed in ("dung", "dừng lại"):
        data = await chat.say(typed)
        assert "Đã xóa dữ liệu" not in said(data), f"{typed!r} erased: {said(data)}"
    async with gateway.app[DB].session() as session:
        kept = (await session.execute(select(Message).where(Message.text == "xin chào"))).first()
    assert kept is not None, "what the citizen wrote is still there"


async def test_a_petition_confirmed_with_dung_roi_is_filed_with_the_same_status_words(
    gateway: RunningGateway,
) -> None:
    chat = await gateway.chat()
    await chat.say("tôi muốn phản ánh về đường bị ngập")
    await chat.say("Đường Lê Lợi ngập sâu mỗi khi mưa, xe máy chết máy rất nhiều.")
    data = await chat.say("Đường Lê Lợi, phường Hoàn Kiếm")
    data = await press(chat, data, "Gửi ẩn danh")
    assert "Anh/chị kiểm tra lại phản ánh" in said(data), said(data)
    data = await chat.say("dung roi")
    assert CODE.search(said(data)), said(data)
    assert STATUS_LABELS[Status.RECEIVED] not in said(data), "a petition has its own label"
    assert "Đã gửi, chờ cơ quan xử lý" in said(data), said(data)


async def test_bo_n_removes_a_subscription_but_a_look_alike_does_not(
    gateway: RunningGateway,
) -> None:
    chat = await gateway.chat()
    data = await chat.say("dang ky nhan tin")
    data = await press(chat, data, "Đất đai")
    data = await chat.say("toàn quốc")
    assert "Đã đăng ký nhận tin" in said(data), said(data)
    data = await chat.say("đăng ký nhận tin")
    data = await chat.say("bố 1")
    assert "Đã bỏ nhận tin" not in said(data), said(data)
    data = await chat.say("bo 1")
    assert "Đã bỏ nhận tin “Đất đai”" in said(data), said(data)
