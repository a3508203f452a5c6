"""What an opening message is about: kept when it names something, dropped when it only files."""

from __future__ import annotations

import pytest

from bot.domain.cases import Kind
from bot.domain.opening import subject_of


@pytest.mark.parametrize(
    ("typed", "subject"),
    [
        (
            "tôi muốn yêu cầu giải trình về việc thu phí vệ sinh môi trường 200 nghìn…",
            "thu phí vệ sinh môi trường 200 nghìn",
        ),
        (
            "toi muon yeu cau giai trinh ve viec thu phi ve sinh moi truong 200 nghin",
            "thu phi ve sinh moi truong 200 nghin",
        ),
        (
            "Chào ad, mình đề nghị UBND phường Hoàn Kiếm giải trình lý do chậm cấp sổ đỏ "
            "cho nhà mình",
            "lý do chậm cấp sổ đỏ cho nhà mình",
        ),
        (
            "tôi muốn UBND xã giải trình vì sao thu hồi đất nhà tôi",
            "vì sao thu hồi đất nhà tôi",
        ),
        (
            "cán bộ phường từ chối nhận hồ sơ của tôi mà không nói lý do, tôi yêu cầu giải trình",
            "cán bộ phường từ chối nhận hồ sơ của tôi mà không nói lý do",
        ),
    ],
)
def test_explanation_request_keeps_what_to_explain(typed: str, subject: str) -> None:
    assert subject_of(typed, Kind.EXPLANATION, 500) == subject


@pytest.mark.parametrize(
    "typed",
    [
        "tôi muốn yêu cầu giải trình",
        "yc giai trinh",
        "tôi muốn yêu cầu UBND giải trình quyết định thu hồi đất",  # names no decision yet
        "tôi muốn gửi yêu cầu giải trình tới UBND phường Hoàn Kiếm thành phố Hà Nội",
        "/request_explanation",
        "",
    ],
)
def test_explanation_request_without_a_subject_asks_for_it(typed: str) -> None:
    assert subject_of(typed, Kind.EXPLANATION, 500) is None


@pytest.mark.parametrize(
    ("typed", "subject"),
    [
        ("đường trước nhà tôi bị ngập", "đường trước nhà tôi bị ngập"),
        ("duong truoc nha toi bi ngap!", "duong truoc nha toi bi ngap"),
        (
            "mình muốn phản ánh về việc rác thải đổ trộm ở bãi đất trống cuối phố",
            "rác thải đổ trộm ở bãi đất trống cuối phố",
        ),
        (
            "ad ơi, cho mình phản ánh là cống đầu ngõ 12 bị tắc cả tuần nay rồi ạ",
            "cống đầu ngõ 12 bị tắc cả tuần nay rồi",
        ),
        (
            "đèn đường ở ngõ 5 hỏng cả tháng nay, tôi muốn phản ánh",
            "đèn đường ở ngõ 5 hỏng cả tháng nay",
        ),
        ("anh hàng xóm xây lấn sang đất nhà tôi", "anh hàng xóm xây lấn sang đất nhà tôi"),
        ("the road near my house is flooded", "the road near my house is flooded"),
    ],
)
def test_petition_keeps_what_is_wrong(typed: str, subject: str) -> None:
    assert subject_of(typed, Kind.PETITION, 2000) == subject


@pytest.mark.parametrize(
    "typed",
    [
        "tôi muốn gửi phản ánh",
        "toi muon phan anh",
        "tôi muốn phản ánh về đường bị ngập",  # too vague to stand alone
        "gửi pakn",
        "chào ad, mình muốn kiến nghị",
        "I want to report a problem",
    ],
)
def test_petition_without_a_subject_asks_for_it(typed: str) -> None:
    assert subject_of(typed, Kind.PETITION, 2000) is None


def test_a_subject_over_the_form_limit_is_left_for_the_form_to_explain() -> None:
    typed = "đường trước nhà tôi bị ngập " * 20
    assert subject_of(typed, Kind.PETITION, 100) is None
    assert subject_of(typed, Kind.PETITION, 2000) == typed.strip()
