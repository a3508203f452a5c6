"""What a question asks for (a date, a count, a phone number…) must be stated by the answer."""

from __future__ import annotations

import pytest

from bot.search.asks import asked, unmet
from bot.search.excerpts import excerpt
from bot.search.results import Zone
from bot.services.knowledge import KnowledgeBase
from nlu.text import normalize


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("quy định này có hiệu lực từ ngày nào", "date"),
        ("làm thủ tục mất bao lâu", "duration"),
        ("chủ nhật phường có làm việc không", "weekday"),
        ("sdt của ban tiếp dân là số nào", "phone"),
        ("lệ phí bao nhiêu", "amount"),
        ("làm thủ tục này cần giấy tờ gì", "needs"),
        ("đi gặp cán bộ phải mang theo những gì", "needs"),
        ("When can I meet the ward chairman?", "time"),
    ],
)
def test_the_kind_of_information_asked_is_recognised(question: str, kind: str) -> None:
    assert kind in asked(question)[0]


def test_a_count_asks_a_number_of_that_noun_and_time_units_are_one_family() -> None:
    assert asked("thành phố có bao nhiêu quận")[1] == ("quan",)
    assert asked("đi xe máy đến phường")[1] == ()  # "máy" is no "mấy"
    assert not unmet(asked("mấy buổi một tuần"), normalize("ít nhất 1 ngày trong mỗi tuần"))
    assert unmet(asked("có bao nhiêu quận"), normalize("Cả nước có 34 tỉnh."))
    assert unmet(asked("ban hành ngày nào"), normalize("Chỉ thị yêu cầu cơ quan giải trình."))
    assert not unmet(asked("ban hành ngày nào"), normalize("Từ ngày 1/7/2025, hai cấp."))


def test_an_explanation_that_cannot_give_what_is_asked_is_no_confident_answer(
    kb: KnowledgeBase,
) -> None:
    # The directive's explanation states no date, and no explanation gives a ward's area
    # or the chairman's phone number.
    for question in (
        "Chỉ thị 53 được ký ngày nào vậy",
        "phường Hoàn Kiếm rộng bao nhiêu ha",
        "cho xin số điện thoại của chủ tịch UBND phường",
    ):
        assert kb.answer(question).zone is not Zone.ANSWER, question
    # the same subjects asked for what the explanations do state are answered
    answer = kb.answer("chỉ thị 53 yêu cầu cơ quan làm gì")
    assert answer.best and answer.best.doc.slug == "chi-thi-53-trach-nhiem-giai-trinh"


def test_the_explanation_that_states_what_is_asked_ranks_first(kb: KnowledgeBase) -> None:
    hits = kb.search("cả nước còn bao nhiêu tỉnh sau sắp xếp", k=3)
    assert hits[0].doc.slug == "chinh-quyen-dia-phuong-hai-cap"


def test_what_is_needed_is_answered_by_a_list_of_it_and_the_excerpt_shows_that_list() -> None:
    body = (
        "Yêu cầu giải trình là đề nghị cơ quan làm rõ một quyết định của mình.\n\n"
        "Yêu cầu cần có:\n- Họ và tên người yêu cầu;\n- Nội dung muốn được làm rõ.\n\n"
        "Cơ quan trả lời trong 15 ngày."
    )
    assert unmet(asked("đăng ký thường trú cần giấy tờ gì"), normalize("Nộp tại xã, phường."))
    assert not unmet(asked("yêu cầu giải trình cần những gì"), normalize(body))
    shown = excerpt(body, "yêu cầu giải trình cần những gì")
    assert "Họ và tên người yêu cầu;" in shown
    assert "15 ngày" in excerpt(body, "yêu cầu giải trình bao lâu thì được trả lời")


def test_everyday_public_problems_lead_to_the_petition_explanation(kb: KnowledgeBase) -> None:
    for situation in (
        "cán bộ phường hạch sách, đòi tiền mới giải quyết hồ sơ",
        "hẻm nhà tôi có người đổ trộm phế thải xây dựng",
    ):
        answer = kb.answer(situation)
        assert answer.hits and answer.hits[0].doc.slug == "phan-anh-kien-nghi", situation


def test_a_question_about_a_sanction_needs_a_text_that_names_one() -> None:
    asks = asked("cán bộ không giải trình đúng hạn thì bị kỷ luật ra sao")
    assert "sanction" in asks[0]
    assert unmet(asks, normalize("Cơ quan phải trả lời trong 15 ngày kể từ ngày tiếp nhận."))
    assert not unmet(asks, normalize("Cán bộ vi phạm bị xử lý kỷ luật theo quy định."))
    assert "sanction" not in asked("thủ tục đăng ký kết hôn ở đâu")[0]
    # handling a request is no sanction
    overdue = asked("cơ quan trả lời giải trình quá hạn thì bị xử lý thế nào")
    assert unmet(overdue, normalize("Cơ quan tiếp nhận, xử lý phản ánh và trả lời người dân."))


def test_a_person_s_name_is_answered_only_by_a_text_that_names_someone() -> None:
    asks = asked("Chủ tịch UBND phường Hoàn Kiếm hiện nay tên là gì?")
    assert "name" in asks[0]
    assert unmet(asks, normalize("Chủ tịch UBND phường tiếp công dân sáng thứ Năm."))
    assert not unmet(asks, normalize("Chủ tịch UBND phường là ông Trần Văn Bình."))
    assert "name" not in asked("thủ tục này tên là gì")[0]  # a procedure's name, not a person's


def test_an_address_is_answered_only_by_a_text_that_gives_a_street_or_a_number(
    kb: KnowledgeBase,
) -> None:
    asks = asked("Trung tâm phục vụ hành chính công của tỉnh đặt ở đường nào?")
    assert "address" in asks[0]
    assert not unmet(asks, normalize("Trung tâm đặt tại số 12 đường Lê Lai."))
    assert kb.answer("Trung tâm phục vụ hành chính công của tỉnh đặt ở đường nào?").zone is (
        Zone.UNKNOWN
    )


def test_a_question_about_an_appointment_needs_a_text_that_speaks_of_one() -> None:
    asks = asked("đi tiếp dân có cần đặt lịch hẹn trước không")
    assert "booking" in asks[0]
    assert unmet(asks, normalize("Chủ tịch tiếp công dân sáng thứ Năm hằng tuần."))
    assert not unmet(asks, normalize("Không cần hẹn trước; mang theo giấy tờ tùy thân."))
    assert "booking" not in asked("lịch tiếp công dân của phường")[0]


def test_a_direct_why_needs_a_text_that_gives_a_reason_or_a_purpose(kb: KnowledgeBase) -> None:
    asks = asked("vì sao phải sáp nhập tỉnh")
    assert "reason" in asks[0]
    assert unmet(asks, normalize("Cả nước có 34 tỉnh, thành phố từ ngày 1/7/2025."))
    assert not unmet(asks, normalize("Việc sắp xếp nhằm tinh gọn bộ máy."))
    # asking how to ask "why" asks no reason
    assert "reason" not in asked("tôi muốn hỏi phường vì sao từ chối hồ sơ thì làm thế nào")[0]
    # The explanation of the two-level government says what changed, never why.
    assert kb.answer("vì sao phải sáp nhập tỉnh").zone is Zone.UNKNOWN
    answer = kb.answer("tại sao hỏi xong lại phải chấm điểm")
    assert answer.best and answer.best.doc.slug == "chi-thi-53-trach-nhiem-giai-trinh"


def test_what_something_is_made_of_needs_a_text_that_lists_its_parts(kb: KnowledgeBase) -> None:
    asks = asked("phường mới gồm những phường cũ nào")
    assert "parts" in asks[0]
    assert unmet(asks, normalize("Chủ tịch phường tiếp công dân sáng thứ Năm."))
    assert not unmet(asks, normalize("Cả nước gồm 28 tỉnh và 6 thành phố."))
    assert not unmet(asks, normalize("Phường mới hợp nhất từ ba phường cũ."))
    assert "parts" not in asked("thu gom rác ở đâu")[0]
    # The reception schedule names a ward and lists none of its parts.
    assert kb.answer("phường Hoàn Kiếm mới gồm những phường cũ nào").zone is Zone.UNKNOWN
