"""An explanation's body is written in Markdown in the console and read as plain text in chat:
the marks go, the words, link addresses and list items stay."""

from __future__ import annotations

from bot.domain.explanations import chat_text
from bot.search.excerpts import excerpt


def test_markdown_marks_are_removed_and_words_kept() -> None:
    body = (
        "# Cấp sổ đỏ lần đầu\n"
        "\n"
        "Hồ sơ nộp **tại phường**, không lên *tỉnh*. Xem [Quyết định 1](https://x.invalid/qd-1)"
        " hoặc <https://x.invalid/hd>.\n"
        "\n\n\n"
        "## Hồ sơ cần có:\n"
        "* Đơn đề nghị theo `Mẫu 04a`\n"
        "+ Giấy tờ về __quyền sử dụng đất__\n"
        "1. Nộp hồ sơ\n"
        "---\n"
        "> Lưu ý: không thu phí\\*\n"
        "```\n"
        "mã\n"
        "```\n"
    )
    assert chat_text(body) == (
        "Cấp sổ đỏ lần đầu\n"
        "\n"
        "Hồ sơ nộp tại phường, không lên tỉnh. Xem Quyết định 1 (https://x.invalid/qd-1)"
        " hoặc https://x.invalid/hd.\n"
        "\n"
        "Hồ sơ cần có:\n"
        "- Đơn đề nghị theo Mẫu 04a\n"
        "- Giấy tờ về quyền sử dụng đất\n"
        "1. Nộp hồ sơ\n"
        "Lưu ý: không thu phí*\n"
        "mã"
    )


def test_plain_text_is_left_as_it_is() -> None:
    plain = "Từ 1/12/2026, hồ sơ nộp tại phường.\n- Mức phí: 5*2 = 10 nghìn đồng\nsố_hồ_sơ 3 * 4"
    assert chat_text(plain) == plain


def test_a_list_written_in_markdown_is_still_found_as_items_by_the_excerpt() -> None:
    body = "Hồ sơ cần có:\n* **Đơn** đề nghị\n* Bản sao *căn cước*\n\nNộp tại bộ phận một cửa."
    shown = excerpt(chat_text(body), "cần giấy tờ gì")
    assert "- Đơn đề nghị" in shown and "**" not in shown and "*" not in shown
