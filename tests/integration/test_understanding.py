"""Long, realistic first messages and look-alike questions, end to end through the web channel
with the real model: what starts a form, what is answered, what the form no longer asks."""

from __future__ import annotations

from typing import Any

from tests.chat import CODE, buttons, press, said
from tests.conftest import RunningGateway, WebChat

EXPLANATION_CONSENT = "Để tiếp nhận yêu cầu giải trình"
PETITION_WHAT = "phản ánh, kiến nghị về việc gì"


def no_form(data: dict[str, Any]) -> None:
    """Neither case form started: no consent question, no "về việc gì", no consent buttons."""
    text = said(data)
    assert EXPLANATION_CONSENT not in text, f"an explanation request started: {text}"
    assert PETITION_WHAT not in text, f"a petition started: {text}"
    assert "Đồng ý" not in buttons(data), f"a form asks for consent: {text}"


async def file_anonymous_petition(chat: WebChat) -> str:
    """A short petition sent anonymously; returns its code as displayed."""
    data = await chat.say("tôi muốn gửi phản ánh")
    data = await chat.say("Cống thoát nước đầu ngõ 7 bị tắc, nước thải tràn ra đường.")
    data = await chat.say("Ngõ 7 phố Hàng Bạc, phường Hoàn Kiếm")
    data = await press(chat, data, "Gửi ẩn danh")
    data = await press(chat, data, "Xác nhận gửi")
    match = CODE.search(said(data))
    assert match, said(data)
    return match.group(1)


async def test_detailed_explanation_request_starts_the_form_and_keeps_its_subject(
    gateway: RunningGateway,
) -> None:
    chat = await gateway.chat()
    data = await chat.say(
        "tôi muốn yêu cầu giải trình về việc thu phí vệ sinh môi trường 200 nghìn một tháng "
        "mà không thấy thông báo nào của phường"
    )
    assert EXPLANATION_CONSENT in said(data), said(data)
    data = await press(chat, data, "Đồng ý")
    data = await chat.say("Trần Văn Minh")
    data = await chat.say("0912345678")
    data = await chat.say("phường Hoàn Kiếm")
    assert "Quyết định hoặc việc làm" not in said(data), "the subject was given already"
    assert "nội dung" in said(data).lower(), said(data)
    data = await chat.say(
        "Đề nghị phường cho biết căn cứ thu và vì sao mức phí tăng gấp đôi so với năm trước."
    )
    summary = said(data)
    assert "thu phí vệ sinh môi trường 200 nghìn" in summary, summary
    assert "tôi muốn yêu cầu giải trình về việc" not in summary, summary


async def test_bare_explanation_request_still_asks_what_to_explain(
    gateway: RunningGateway,
) -> None:
    chat = await gateway.chat()
    data = await chat.say("tôi muốn yêu cầu giải trình")
    data = await press(chat, data, "Đồng ý")
    data = await chat.say("Trần Văn Minh")
    data = await chat.say("0912345678")
    data = await chat.say("phường Hoàn Kiếm")
    assert "Quyết định hoặc việc làm" in said(data), said(data)


async def test_question_about_the_deadline_of_a_request_is_answered_not_filed(
    gateway: RunningGateway,
) -> None:
    chat = await gateway.chat()
    no_form(await chat.say("thời hạn trả lời yêu cầu giải trình"))
    no_form(await chat.say("thoi han tra loi yeu cau giai trinh la bao nhieu ngay vay ad"))


async def test_concrete_hazard_starts_a_petition_without_asking_what_again(
    gateway: RunningGateway,
) -> None:
    chat = await gateway.chat()
    data = await chat.say("đường trước nhà tôi bị ngập")
    assert PETITION_WHAT not in said(data), said(data)
    assert "ở đâu" in said(data), said(data)
    data = await chat.say("Số 12 phố Lê Lợi, phường Hoàn Kiếm")
    data = await press(chat, data, "Gửi ẩn danh")
    assert "đường trước nhà tôi bị ngập" in said(data).lower(), said(data)


async def test_long_hazard_report_without_filing_words_starts_a_petition(
    gateway: RunningGateway,
) -> None:
    chat = await gateway.chat()
    data = await chat.say(
        "chào ad, cột điện ở đầu ngõ 15 nhà mình bị nghiêng hẳn sang một bên sau trận bão hôm "
        "qua, dây điện võng xuống sát đầu người đi qua, rất nguy hiểm cho bọn trẻ đi học"
    )
    assert "ở đâu" in said(data), said(data)
    assert PETITION_WHAT not in said(data), said(data)


async def test_bare_petition_still_asks_what_it_is_about(gateway: RunningGateway) -> None:
    chat = await gateway.chat()
    data = await chat.say("tôi muốn gửi phản ánh")
    assert PETITION_WHAT in said(data), said(data)
    data = await chat.say("toi muon phan anh")
    assert "Cống thoát nước" not in said(data)


async def test_prefilled_petition_content_can_be_corrected_from_the_summary(
    gateway: RunningGateway,
) -> None:
    chat = await gateway.chat()
    data = await chat.say("mình muốn phản ánh về việc rác thải đổ trộm ở bãi đất trống cuối phố")
    assert "ở đâu" in said(data), said(data)
    data = await chat.say("Cuối phố Hàng Mã, phường Hoàn Kiếm")
    data = await press(chat, data, "Gửi ẩn danh")
    assert "rác thải đổ trộm ở bãi đất trống cuối phố" in said(data), said(data)
    data = await press(chat, data, "Sửa thông tin")
    data = await press(chat, data, "Sửa nội dung")
    data = await chat.say("Rác xây dựng bị đổ trộm ban đêm ở bãi đất trống cuối phố Hàng Mã.")
    assert "Rác xây dựng bị đổ trộm ban đêm" in said(data), said(data)
    assert "rác thải đổ trộm ở bãi đất trống cuối phố" not in said(data), said(data)


async def test_questions_about_refusals_and_petitions_are_answered_not_filed(
    gateway: RunningGateway,
) -> None:
    chat = await gateway.chat()
    no_form(await chat.say("nếu cơ quan từ chối giải trình thì tôi có thể làm gì tiếp theo ạ"))
    no_form(await chat.say("cơ quan được từ chối yêu cầu giải trình trong những trường hợp nào"))
    no_form(await chat.say("gửi phản ánh kiến nghị xong thì bao lâu cơ quan phải trả lời"))
    no_form(await chat.say("phan anh kien nghi gui o dau vay ad"))


async def test_stop_notifications_unsubscribes(gateway: RunningGateway) -> None:
    chat = await gateway.chat()
    for text in ("stop notifications", "làm ơn đừng gửi thông báo cho tôi nữa nhé"):
        data = await chat.say(text)
        assert "không đăng ký nhận tin nào" in said(data), f"{text!r}: {said(data)}"


async def test_case_code_pasted_alone_shows_its_status(gateway: RunningGateway) -> None:
    chat = await gateway.chat()
    code = await file_anonymous_petition(chat)
    bare = code.replace("-", "")
    for typed in (code, f"  {code.lower()}  ", bare, bare.lower()):
        data = await chat.say(typed)
        assert code in said(data), f"{typed!r}: {said(data)}"
        assert "Không tìm thấy" not in said(data), f"{typed!r}: {said(data)}"
        assert "Rút yêu cầu" in buttons(data), said(data)


async def test_unknown_case_code_pasted_alone_is_not_found(gateway: RunningGateway) -> None:
    chat = await gateway.chat()
    for typed in ("Q428-VYAM4", "q428vyam4"):
        data = await chat.say(typed)
        assert "Không tìm thấy hồ sơ" in said(data), f"{typed!r}: {said(data)}"


async def test_status_question_without_diacritics_is_not_read_as_a_code(
    gateway: RunningGateway,
) -> None:
    chat = await gateway.chat()
    data = await chat.say("xem trang thai yeu cau giai trinh")
    assert "Không tìm thấy hồ sơ" not in said(data), said(data)
    assert "chưa có hồ sơ nào" in said(data), said(data)
