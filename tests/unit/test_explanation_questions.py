"""The typical questions an explanation answers: checked when published, searched with the
explanation, never shown as its answer."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.domain.explanations import example_questions
from bot.errors import InvalidInput
from bot.services.knowledge import Doc, KnowledgeBase, passage

DRAINS = Doc(
    1,
    "phan-anh-ha-tang",
    "Tiếp nhận phản ánh về hạ tầng đô thị",
    "Phường tiếp nhận phản ánh về hạ tầng qua Cổng dịch vụ công và tại trụ sở.",
    "Tổ chức, cá nhân phản ánh về hư hỏng hạ tầng đô thị (hệ thống thoát nước, chiếu sáng "
    "công cộng, vỉa hè) qua Cổng dịch vụ công hoặc trực tiếp tại bộ phận một cửa. "
    "Cơ quan tiếp nhận xử lý và trả lời trong 10 ngày làm việc.",
    "Quy chế minh họa",
    "",
    "",
    questions=(
        "Cống trước nhà bị tắc, nước tràn lên mặt đường thì báo ai?",
        "Đèn đường hỏng cả tuần chưa ai sửa",
    ),
)
OTHERS = [
    Doc(
        2,
        "khai-sinh",
        "Đăng ký khai sinh cho trẻ",
        "Đăng ký khai sinh tại Ủy ban nhân dân cấp xã nơi cư trú.",
        "Cha, mẹ đăng ký khai sinh cho con trong 60 ngày kể từ ngày sinh; hồ sơ gồm tờ khai "
        "và giấy chứng sinh.",
        "",
        "",
        "",
    ),
    Doc(
        3,
        "lich-tiep-cong-dan",
        "Lịch tiếp công dân",
        "Chủ tịch phường tiếp công dân định kỳ.",
        "Chủ tịch Ủy ban nhân dân phường tiếp công dân vào sáng thứ Năm hằng tuần tại trụ sở.",
        "",
        "",
        "",
    ),
]
# Close to the first example question, but sharing almost no word with the body.
ASKED = "cong truoc nha tac nuoc tran ra duong thi bao cho ai"


def test_a_question_phrased_like_an_example_question_finds_its_explanation() -> None:
    without = KnowledgeBase()
    without.rebuild([replace(DRAINS, questions=()), *OTHERS])
    kb = KnowledgeBase()
    kb.rebuild([DRAINS, *OTHERS])

    hits = kb.search(ASKED)
    assert hits and hits[0].doc.slug == "phan-anh-ha-tang", [(h.doc.slug, h.coverage) for h in hits]
    found = [h.coverage for h in without.search(ASKED) if h.doc.slug == DRAINS.slug]
    before = max(found, default=0.0)
    assert hits[0].coverage > before, "its questions count in coverage"
    offered = kb.answer(ASKED).hits
    assert offered and offered[0].doc.slug == DRAINS.slug, "offered first, not I don't know"


def test_the_excerpt_comes_from_the_body_never_from_the_example_questions() -> None:
    for question in (ASKED, *DRAINS.questions, "đèn đường hỏng báo ai"):
        shown = passage(DRAINS, question)
        assert shown, question
        for example in DRAINS.questions:
            assert example not in shown and "Cống trước nhà" not in shown, shown


def test_example_questions_are_stripped_deduplicated_and_checked() -> None:
    assert example_questions(["  Hỏi gì? ", "Hỏi gì?", "Khác"]) == ("Hỏi gì?", "Khác")
    assert example_questions([]) == ()
    for bad in (["ok", " "], ["x" * 301], ["một\thai"], ["a\x00"], ["q"] * 31):
        with pytest.raises(InvalidInput) as caught:
            example_questions(bad)
        assert caught.value.code == "invalid_questions", bad


def test_a_front_matter_carries_questions_or_leaves_them_to_the_current_version() -> None:
    from bot.web.api_explanations import explanation_spec

    meta = {"title": "Tiêu đề", "body": "Nội dung", "localities": ["p:1"]}
    assert explanation_spec(meta).questions is None, "left out: the current version's"
    assert explanation_spec({**meta, "questions": [" Hỏi? "]}).questions == ("Hỏi?",)
    with pytest.raises(InvalidInput) as caught:
        explanation_spec({**meta, "questions": ["a\nb"]})
    assert caught.value.code == "invalid_questions"
