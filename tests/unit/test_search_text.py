"""How questions become search tokens, and how hits become one of three zones."""

from __future__ import annotations

import pytest

from bot.search.asks import asked, unmet
from bot.search.english import is_english, to_vietnamese
from bot.search.question import clause_tokens, told_first
from bot.search.results import THRESHOLDS, Answer, Doc, Hit, Thresholds, Zone, decide
from bot.search.subjects import named
from bot.search.tokens import (
    marked_words,
    question_tokens,
    spelling,
    syllables,
    tokens,
)
from bot.services.knowledge import UNMET_ASK, KnowledgeBase
from nlu.text import normalize

LIMITS = Thresholds(sure=0.5, plausible=0.3, close=0.9)


def hit(slug: str, score: float, coverage: float) -> Hit:
    return Hit(Doc(0, slug, slug, "", "", "", "", ""), score, coverage)


def test_a_sure_hit_clearly_ahead_is_the_answer() -> None:
    answer = decide([hit("a", 10, 0.8), hit("b", 5, 0.6)], LIMITS)
    assert answer.zone is Zone.ANSWER and answer.best is not None and answer.best.doc.slug == "a"


def test_a_close_plausible_runner_up_makes_it_a_choice() -> None:
    answer = decide([hit("a", 10, 0.8), hit("b", 9.5, 0.6), hit("c", 9, 0.1)], LIMITS)
    assert answer.zone is Zone.CHOICES
    assert [h.doc.slug for h in answer.hits] == ["a", "b"], "only plausible ones are offered"
    assert answer.best is None


def test_a_runner_up_that_covers_the_question_surely_too_makes_it_a_choice() -> None:
    # far behind by score, but both explanations answer the question: the citizen chooses
    answer = decide([hit("a", 10, 0.9), hit("b", 4, 0.75)], LIMITS)
    assert answer.zone is Zone.CHOICES and [h.doc.slug for h in answer.hits] == ["a", "b"]
    # a runner-up that covers much less, or not surely, leaves the best the answer
    assert decide([hit("a", 10, 0.95), hit("b", 4, 0.7)], LIMITS).zone is Zone.ANSWER
    assert decide([hit("a", 10, 0.6), hit("b", 4, 0.45)], LIMITS).zone is Zone.ANSWER


def test_a_plausible_but_unsure_hit_is_offered_with_a_runner_up_worth_it() -> None:
    answer = decide([hit("a", 10, 0.4), hit("b", 2, 0.2)], LIMITS)
    assert answer.zone is Zone.CHOICES and [h.doc.slug for h in answer.hits] == ["a", "b"]
    alone = decide([hit("a", 10, 0.4), hit("b", 2, 0.1)], LIMITS)
    assert alone.zone is Zone.CHOICES and [h.doc.slug for h in alone.hits] == ["a"]


def test_nothing_plausible_is_i_dont_know() -> None:
    assert decide([hit("a", 10, 0.29)], LIMITS) == Answer(Zone.UNKNOWN, ())
    assert decide([], LIMITS) == Answer(Zone.UNKNOWN, ())


def test_a_plausible_hit_ranked_below_an_implausible_one_is_still_offered() -> None:
    # ranking puts an explanation stating the kind of information asked first, even when it
    # covers little of the question: the one that does cover it must not be lost
    answer = decide([hit("a", 10, 0.2), hit("b", 9, 0.6), hit("c", 8, 0.1)], LIMITS)
    assert answer.zone is Zone.CHOICES and [h.doc.slug for h in answer.hits] == ["b"]


def test_a_lone_hit_is_answered_when_sure_and_offered_when_not() -> None:
    assert decide([hit("a", 10, 0.6)], LIMITS).zone is Zone.ANSWER
    assert decide([hit("a", 10, 0.4)], LIMITS).zone is Zone.CHOICES


def test_the_question_frame_is_dropped() -> None:
    assert question_tokens("chỉ thị 53 nghĩa là sao") == question_tokens("chỉ thị 53")
    assert question_tokens("căn cước làm ở đâu vậy ạ") == question_tokens("căn cước làm")


@pytest.mark.parametrize("question", ["có cần đổi CCCD không", "co can doi cccd ko a"])
def test_a_yes_no_tail_pairs_with_nothing(question: str) -> None:
    assert not [t for t in question_tokens(question) if "khong" in t]


def test_a_not_inside_the_question_still_pairs() -> None:
    assert "khong_giai" in question_tokens("cơ quan không giải trình thì sao")


@pytest.mark.parametrize(
    "polite",
    [
        "xin chào ad, cho em hỏi chút: lịch tiếp dân",
        "làm ơn cho tôi biết lịch tiếp dân",
        "vui lòng cho hỏi xíu về lịch tiếp dân",
        "hi ad, mình đang thắc mắc lịch tiếp dân",
        "e muốn tìm hiểu lịch tiếp dân",
    ],
)
def test_greetings_and_politeness_carry_no_topic(polite: str) -> None:
    def words(text: str) -> list[str]:
        return [t for t in question_tokens(text) if "_" not in t]

    assert words(polite) == words("lịch tiếp dân")


def test_folding_never_merges_words_typed_with_their_marks() -> None:
    # "quận" is a synonym of "cấp huyện"; "cơ quan" typed with marks must not become it
    assert "huyen" not in tokens("cơ quan nhà nước")
    assert "huyen" in tokens("quận")
    # "ánh" of "phản ánh" is not the pronoun "anh", a stop word
    assert "anh" in tokens("phản ánh") and "anh" not in tokens("anh hỏi")


def test_english_questions_are_put_into_vietnamese_and_vietnamese_is_left_alone() -> None:
    assert is_english("Where do I register a marriage?")
    assert "kết hôn" in to_vietnamese("Where do I register a marriage?")
    assert "chủ tịch" in to_vietnamese("When does the ward chairman meet citizens?")
    for vietnamese in ("can cuoc lam o dau", "thủ tục hành chính", "do an toan"):
        assert not is_english(vietnamese)
        assert to_vietnamese(vietnamese) == vietnamese


def test_english_with_a_vietnamese_word_is_english_and_keeps_that_word() -> None:
    mixed = "How many wards (phường) are there in Vietnam now?"
    assert is_english(mixed)
    assert "phường" in to_vietnamese(mixed).split()
    # mostly Vietnamese with an English word stays Vietnamese
    assert not is_english("cho em hỏi online được không")


def test_a_possessive_in_the_vocabulary_is_found_as_typed() -> None:
    """The vocabulary's "people's committee" matches the question's "people's committee"
    (both read without the "'s"); before, the key kept its "'s" and never matched."""
    assert "ủy ban nhân dân" in to_vietnamese("Where is the people's committee of my ward?")


@pytest.mark.parametrize(
    "question", ["lệ phí làm sổ đỏ bao nhiêu", "phat bao nhieu tien", "mức đóng BHYT", "fee"]
)
def test_questions_about_money_are_recognised(question: str) -> None:
    assert "amount" in asked(question)[0]


def test_questions_not_about_money_are_not_taken_for_it() -> None:
    for question in ("gia hạn giải trình", "hộ gia đình có mấy người", "tiện đến phường"):
        assert "amount" not in asked(question)[0]
    money = (frozenset({"amount"}), ())
    assert not unmet(money, normalize("Lệ phí: 50.000 đồng"))
    assert unmet(money, normalize("Nộp tại xã, phường."))


def test_a_word_typed_with_marks_is_no_chat_abbreviation() -> None:
    # "hong" typed bare is "không"; "hỏng" (broken) is a word of its own
    assert "hong" in tokens("đường hỏng") and "khong" not in tokens("đường hỏng")
    assert tokens("ko") == tokens("không")


def test_a_question_typed_with_marks_is_spelt_as_meant() -> None:
    # typed with marks, "con" is a child, not "còn" (still); without marks it could be either
    assert marked_words("đăng ký thường trú cho con")["con"] == {spelling("con")}
    assert marked_words("dang ky thuong tru cho con") == {}
    # in a mostly unmarked message only the words typed with marks are known
    assert set(marked_words("thủ tuc cap can cuoc")) == {"thu"}
    assert spelling("hoà") == spelling("hòa")


def test_an_explanation_word_with_other_marks_is_not_the_word_typed() -> None:
    kb = KnowledgeBase()
    kb.rebuild(
        [
            Doc(1, "a", "Giấy tờ cũ", "", "Giấy tờ cũ vẫn còn giá trị.", "", "", ""),
            Doc(2, "b", "Khai sinh", "", "Đăng ký khai sinh tại xã.", "", "", ""),
        ]
    )

    def coverage(question: str) -> float:
        return next(h.coverage for h in kb.search(question, k=2) if h.doc.slug == "a")

    # "giấy tờ con" (a child's papers) typed with marks does not find "còn" (still)
    assert coverage("giấy tờ con") < coverage("giấy tờ còn")
    # typed without marks, "con" may be "còn"
    assert coverage("giay to con") == coverage("giấy tờ còn")


def test_a_synonym_is_found_whichever_tone_placement_was_typed() -> None:
    """ "uỷ ban" (old placement, the lexicon's key) and "ủy ban" (new) are one spelling."""
    assert syllables("ủy ban") == syllables("uỷ ban") == ["uy", "ban", "nhan", "dan"]


def test_words_that_address_someone_carry_no_topic_only_as_typed_with_marks() -> None:
    """ "bác", "cháu", "nó" address or point: no token, no pair; "bắc" (north) and an unmarked
    "bac" stay content words."""
    question = question_tokens("tên tỉnh chỗ bác ở có bị đổi không cháu")
    assert "bac" not in question and "chau" not in question
    assert not any(t.endswith("_bac") or t.startswith("bac_") for t in question)
    assert "bac" in tokens("miền Bắc") and "bac" in question_tokens("tinh bac ninh")
    assert "no" not in question_tokens("cơ quan xử lý nó thế nào")


def test_a_chat_spelling_of_bao_nhieu_is_the_question_frame() -> None:
    assert question_tokens("giờ còn bao nhiu tỉnh") == question_tokens("giờ còn bao nhiêu tỉnh")


def test_no_pair_spans_the_end_of_a_clause() -> None:
    question = question_tokens("tôi nộp hôm thứ 6, 5 ngày làm việc thì đến hôm nào là hết hạn")
    assert "6_5" not in question and "5_ngay" in question and "thu_6" in question
    assert "nop_ho" not in tokens("Nộp. Hồ sơ") and "nop_ho" in tokens("nộp hồ sơ")
    assert "1_000" in tokens("1.000 đồng")  # a point inside a number ends nothing
    assert "" not in tokens("Xin chào. Tôi hỏi!")


def test_a_compound_typed_without_marks_keeps_its_meaning_though_it_folds_like_fillers() -> None:
    """ "chi thi" could fold like "chị thì" (two filler words) but is the directive: kept; typed
    with the filler's marks it is no topic."""
    assert {"chi", "thi", "chi_thi"} <= set(question_tokens("chi thi 53 noi ve van de gi"))
    assert question_tokens("chị thì hỏi gì") == []


def test_a_question_that_tells_its_situation_first_is_covered_as_its_asking_clause(
    kb: KnowledgeBase,
) -> None:
    # The situation's words (a deep alley, the garbage truck) are in no explanation; the
    # last clause asks what the petition explanation answers.
    question = (
        "nhà tôi ở cuối hẻm sâu, xe rác mấy tuần nay không vào gom, "
        "đầu ngõ rác đổ bừa bãi thì phản ánh với ai"
    )
    answer = kb.answer(question)
    assert answer.zone is not Zone.UNKNOWN
    assert answer.hits[0].doc.slug == "phan-anh-kien-nghi"
    assert clause_tokens("phản ánh với ai") == []  # one clause: the question itself
    assert (
        len(clause_tokens("đi làm xa, không lên phường được, gửi đơn qua bưu điện được không")) == 2
    )


@pytest.mark.parametrize(
    ("question", "asking"),
    [
        (
            "Xóm tôi vừa sạt lở, nhiều nhà nguy hiểm. Chủ tịch xã có gặp dân ngay không?",
            "Chủ tịch xã có gặp dân ngay không?",
        ),
        ("đăng ký xe máy ở đâu, mất bao lâu", None),  # the first clause asks already
        ("Bộ phận một cửa làm việc mấy giờ, thứ bảy có mở không?", None),  # asks a time
        ("chủ tịch xã có gặp dân ngay không?", None),  # one clause
    ],
)
def test_the_asking_part_follows_the_situation_told_first(
    question: str, asking: str | None
) -> None:
    assert told_first(question, lambda clause: any(asked(clause))) == asking


def test_a_subject_of_the_situation_told_first_is_not_what_is_asked(kb: KnowledgeBase) -> None:
    # The landslide names a subject no explanation mentions; what is asked (will the
    # chairman meet people before the reception day) is the reception explanation's.
    question = (
        "Xóm tôi vừa sạt lở, nhiều nhà nguy hiểm. Không đợi được đến ngày tiếp dân thì chủ "
        "tịch xã có gặp không?"
    )
    assert named(question) and not named("chủ tịch xã có gặp không")
    answer = kb.answer(question)
    assert answer.zone is not Zone.UNKNOWN
    assert answer.hits[0].doc.slug == "tiep-cong-dan"
    # asked without the situation's subject named first, a subject still counts
    assert kb.answer("sạt lở thì chủ tịch xã có gặp không").zone is Zone.UNKNOWN


def test_a_hit_lacking_what_is_asked_is_never_offered_on_its_own_merits() -> None:
    # a hit covering the whole question but stating no information of the kind asked keeps
    # UNMET_ASK of its coverage: below the plausible threshold, whatever else matched
    assert UNMET_ASK < THRESHOLDS.plausible


def test_a_word_an_explanation_has_only_inside_another_compound_is_not_found() -> None:
    from bot.services.knowledge import bound_words, doc_tokens

    said = "Ủy ban nhân dân tiếp công dân. {} trả lời. Người dân có quyền hỏi."
    docs = [
        Doc(1, "bound", "Tiếp dân", "", said.format("Ủy ban"), "", "", ""),
        Doc(2, "free", "Tiếp dân", "", said.format("Ủy thác"), "", "", ""),
        Doc(3, "other", "Khai sinh", "", "Đăng ký khai sinh tại xã.", "", "", ""),
    ]
    # "ủy" occurs only as "ủy ban" in the first, in two compounds in the second
    assert bound_words(doc_tokens(docs[0]))["uy"] == "uy_ban"
    assert "uy" not in bound_words(doc_tokens(docs[1]))
    kb = KnowledgeBase()
    kb.rebuild(docs)

    def coverage(question: str, slug: str) -> float:
        return next(h.coverage for h in kb.search(question, k=3) if h.doc.slug == slug)

    # "ủy quyền" (a proxy), a compound no explanation has, is not found in "ủy ban" + "quyền"
    proxy = "ủy quyền tiếp công dân được không"
    assert coverage(proxy, "bound") < coverage(proxy, "free")
    # a compound the question forms itself is found as before
    assert coverage("ủy ban tiếp công dân", "bound") == coverage("ủy ban tiếp công dân", "free")


def test_an_abbreviation_written_without_marks_is_found_typed_with_d_bar() -> None:
    # "gpkd" (giấy phép kinh doanh) is an abbreviation whichever "d" is typed
    assert question_tokens("gpkđ cấp ở đâu") == question_tokens("gpkd cấp ở đâu")
    assert "kinh" in question_tokens("gpkđ cấp ở đâu")


@pytest.mark.parametrize(
    ("question", "framed", "kept"),
    [
        # "thẻ nào" (which card) is no "thế nào"; "muộn" (late) no "muốn"; "nền" no "nên"
        ("thẻ nào dùng để tra cứu", "thế nào dùng để tra cứu", "the"),
        ("nộp hồ sơ muộn thì sao", "nộp hồ sơ muốn thì sao", "muon"),
        ("nền nhà bị lún", "nên nhà bị lún", "nen"),
    ],
)
def test_a_word_typed_with_other_marks_than_a_frame_word_is_kept(
    question: str, framed: str, kept: str
) -> None:
    assert kept in question_tokens(question)
    assert kept not in question_tokens(framed)  # typed as the frame word, it is the frame


def test_a_synonym_read_by_folding_does_not_cross_the_question_frame() -> None:
    # "cho em hoi thoi han": "cho em hỏi" then "thời hạn", not "hôi thối" (a stink, read as
    # a report of pollution)
    asked = question_tokens("cho em hoi thoi han giai trinh la bao nhieu ngay a")
    assert "thoi_han" in asked and "o_nhiem" not in asked
    assert "o_nhiem" in question_tokens("cong nha toi hoi thoi qua")
