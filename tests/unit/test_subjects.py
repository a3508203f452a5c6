"""A question naming a subject (a procedure, a paper, an office) is answered only by an
explanation that mentions it."""

from __future__ import annotations

import pytest

from bot.search.asks import asked
from bot.search.results import Zone
from bot.search.subjects import named, places, unmentioned, unpaired
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
        ("con bao so 3 di qua xa nao", ["bao"]),  # "cơn bão" typed without marks
        ("lai suat ngan hang hien nay", ["lai suat", "ngan hang"]),  # everyday life, too
    ],
)
def test_the_subjects_a_question_names_are_found(question: str, subjects: list[str]) -> None:
    assert _names(question) == subjects


@pytest.mark.parametrize(
    "question",
    [
        "thuê người làm ở phường có phải báo không",  # "thuê" (rent) is not "thuế" (tax)
        "cho xin số điện thoại của phường",  # no electricity bill in a phone number
        "tôi muốn hỏi về thủ tục",
        # a name's word written without marks ("điểm thi", exam marks) is not a word typed
        # with marks that fold like it ("điểm thì": the score, then…)
        "ngoài chấm điểm thì có viết thêm nhận xét được không",
        # "còn bao nhiêu", typed without marks: a name read by folding ("cơn bão") does not
        # cut through a question's frame ("bao nhiêu")
        "ca nuoc con bao nhieu tinh",
    ],
)
def test_words_typed_with_other_marks_or_a_frame_name_no_subject(question: str) -> None:
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


def test_the_kind_asked_about_a_subject_must_be_stated_where_the_subject_is() -> None:
    asks = asked("tố cáo thì mấy ngày có kết quả")
    subjects = named("tố cáo thì mấy ngày có kết quả")
    apart = (normalize("Tố cáo có trình tự riêng."), normalize("Trả lời phản ánh trong 10 ngày."))
    together = (normalize("Tố cáo được giải quyết trong 30 ngày."),)
    assert unpaired(subjects, asks, lambda: apart)
    assert not unpaired(subjects, asks, lambda: together)
    # nothing to pair without a subject named or without a kind of information asked
    assert not unpaired((), asks, lambda: apart)
    assert not unpaired(subjects, asked("tố cáo là gì"), lambda: apart)


def test_a_deadline_asked_about_a_subject_the_explanation_gives_none_for_is_not_answered(
    kb: KnowledgeBase,
) -> None:
    # The feedback explanation names denunciations and complaints, and gives a number of days
    # for feedback only.
    for question in (
        "tố cáo thì mấy ngày có kết quả",
        "to cao thi may ngay co ket qua",
        "khiếu nại thì bao lâu được giải quyết",
    ):
        assert kb.answer(question).zone is Zone.UNKNOWN, question
    answer = kb.answer("phản ánh thì mấy ngày có kết quả")
    assert answer.best is not None and answer.best.doc.slug == "phan-anh-kien-nghi"


@pytest.mark.parametrize(
    ("question", "found"),
    [
        ("phường Ba Đình tiếp công dân vào thứ mấy?", ["ba dinh"]),
        ("tôi ở xã Tân An tỉnh Long An", ["tan an", "long an"]),
        ("Phường Hoàn Kiếm tiếp dân hôm nào", ["hoan kiem"]),
        ("huyện Ứng Hòa nay thuộc xã nào", ["ung hoa"]),
        ("UBND xã có quyền hơn trước không", []),  # a unit, no proper name
        ("Xã hội hóa là gì", []),
    ],
)
def test_places_are_named_by_their_capitalised_names(question: str, found: list[str]) -> None:
    assert [place[0][1] for place in places(question)] == found


def test_a_place_the_explanation_does_not_mention_is_not_answered_about(
    kb: KnowledgeBase,
) -> None:
    # The reception explanation gives the schedule of the ward of Hoàn Kiếm, not of another.
    own = kb.answer("phường Hoàn Kiếm tiếp công dân vào thứ mấy?")
    assert own.zone is not Zone.UNKNOWN and own.hits[0].doc.slug == "tiep-cong-dan"
    assert kb.answer("phường Ba Đình tiếp công dân vào thứ mấy?").zone is Zone.UNKNOWN
