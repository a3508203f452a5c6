"""A question naming a subject (a procedure, a paper, an office) is answered only by an
explanation that mentions it."""

from __future__ import annotations

import pytest

from bot.search.results import Zone
from bot.search.subjects import named, unmentioned
from bot.services.knowledge import KnowledgeBase
from nlu.text import normalize


def _names(question: str) -> list[str]:
    return [subject[0][1] for subject in named(question)]


@pytest.mark.parametrize(
    ("question", "subjects"),
    [
        ("khiếu nại phải gửi trong bao nhiêu ngày", ["khieu nai"]),
        ("khieu nai bao lau thi co ket qua", ["khieu nai"]),  # typed without marks
        ("đăng ký xe máy ở đâu", ["dang ky xe"]),  # the longest name, once
        ("How do I pay household business tax online?", ["ho kinh doanh", "thue"]),
        ("sổ hồng cũ có phải đổi không", ["so do"]),  # one subject, any of its names
    ],
)
def test_the_subjects_a_question_names_are_found(question: str, subjects: list[str]) -> None:
    assert _names(question) == subjects


@pytest.mark.parametrize(
    "question",
    [
        "thuê nhà ở phường có phải báo không",  # "thuê" (rent) is not "thuế" (tax)
        "cho xin số điện thoại của phường",  # no electricity bill in a phone number
        "tôi muốn hỏi về thủ tục",
    ],
)
def test_words_typed_with_other_marks_name_no_subject(question: str) -> None:
    assert named(question) == ()


def test_an_explanation_mentions_a_subject_by_any_of_its_names() -> None:
    subjects = named("sổ đỏ cũ có phải đổi không")
    assert not unmentioned(subjects, normalize("Giấy chứng nhận quyền sử dụng đất vẫn dùng"))
    assert unmentioned(subjects, normalize("Căn cước công dân vẫn dùng được"))
    assert not unmentioned((), normalize("any text"))


def test_a_question_about_a_subject_no_explanation_mentions_is_not_answered(
    kb: KnowledgeBase,
) -> None:
    # Every other word of these matches some explanation: "ở đâu", "đăng ký", "bao nhiêu ngày".
    for question in (
        "đăng ký xe máy ở đâu",
        "dang ky xe may o dau",
        "cán bộ cấp huyện sau khi bỏ huyện được bố trí đi đâu",
    ):
        assert kb.answer(question).zone is Zone.UNKNOWN, question
    # a subject the explanation does mention keeps it the answer
    answer = kb.answer("sau khi bỏ cấp huyện thì sổ đỏ cũ có còn dùng được không")
    assert answer.hits and answer.hits[0].doc.slug == "thu-tuc-sau-khi-bo-cap-huyen"
