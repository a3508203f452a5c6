"""Excerpts: the passage that answers, list items whole, never a dangling lead or colon."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.search.excerpts import excerpt, units

DEMO = Path(__file__).resolve().parents[2] / "bot" / "demo" / "demo_data.yaml"
BODIES: dict[str, str] = {
    e["slug"]: e["body"] for e in yaml.safe_load(DEMO.read_text(encoding="utf-8"))["explanations"]
}
QUESTIONS = [
    "làm căn cước ở đâu",
    "lam cccd o dau",
    "những điểm chính người dân cần biết",
    "chỉ thị 53 là gì",
    "lịch tiếp công dân",
    "khi nào cơ quan được từ chối",
    "yêu cầu cần có những gì",
    "gửi qua bưu điện được không",
    "bỏ cấp huyện thì làm thủ tục ở đâu",
    "thời hạn",
    "xyz",
]


def is_item(line: str) -> bool:
    """A list item line of the demo bodies ("- …" or "1. …")."""
    return line.startswith("- ") or line[:2] in {"1.", "2.", "3."}


@pytest.mark.parametrize("slug", sorted(BODIES))
@pytest.mark.parametrize("question", QUESTIONS)
def test_an_excerpt_never_ends_on_a_colon_or_a_lead_line(slug: str, question: str) -> None:
    text = excerpt(BODIES[slug], question)
    assert text, (slug, question)
    assert not text.rstrip().endswith(":"), text
    leads = {u.lead for u in units(BODIES[slug]) if u.lead}
    assert text.splitlines()[-1] not in leads, f"ends on a lead line: {text!r}"


@pytest.mark.parametrize("slug", sorted(BODIES))
@pytest.mark.parametrize("question", QUESTIONS)
def test_list_items_are_shown_whole_under_their_lead(slug: str, question: str) -> None:
    body_lines = [line.strip() for line in BODIES[slug].splitlines()]
    shown = excerpt(BODIES[slug], question).splitlines()
    for i, line in enumerate(shown):
        if is_item(line):
            assert line in body_lines, f"item cut: {line!r}"
            lead = next(u.lead for u in units(BODIES[slug]) if u.text == line)
            above = [x for x in shown[:i] if not is_item(x)]
            assert not lead or (above and above[-1] == lead), f"{line!r} without {lead!r}"


def test_a_labelled_list_item_keeps_its_content() -> None:
    text = excerpt(BODIES["thu-tuc-sau-khi-bo-cap-huyen"], "làm lại căn cước ở đâu")
    assert "Căn cước (CCCD, căn cước): do cơ quan công an cấp" in text, text


def test_the_key_sentences_are_chosen() -> None:
    where = excerpt(BODIES["thu-tuc-sau-khi-bo-cap-huyen"], "bỏ huyện rồi thì nộp hồ sơ ở đâu")
    assert "nộp hồ sơ tại Trung tâm phục vụ hành chính công" in where, where
    schedule = excerpt(BODIES["tiep-cong-dan"], "lịch tiếp công dân")
    assert "sáng thứ Năm hằng tuần" in schedule, schedule
    post = excerpt(BODIES["cach-gui-yeu-cau-giai-trinh"], "gui yeu cau giai trinh qua buu dien")
    assert "Bằng văn bản qua bưu điện;" in post, post


def test_a_short_body_without_sentences_falls_back_to_the_summary() -> None:
    assert excerpt("", "bất kỳ", summary="Tóm tắt ngắn.") == "Tóm tắt ngắn."
