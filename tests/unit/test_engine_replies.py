"""Parsing the engine's REST channel output."""

from __future__ import annotations

import pytest

from bot.channels import Button
from bot.engine import parse_rest_replies
from bot.errors import EngineRefused


def test_text_and_buttons_are_kept_in_order() -> None:
    replies = parse_rest_replies(
        [
            {"recipient_id": "x", "text": "Xin chào"},
            {
                "recipient_id": "x",
                "text": "Chọn:",
                "buttons": [{"title": "Có", "payload": "/affirm"}],
            },
        ]
    )
    assert [r.text for r in replies] == ["Xin chào", "Chọn:"]
    assert replies[1].buttons == (Button("Có", "/affirm"),)


def test_items_without_anything_to_show_are_dropped() -> None:
    assert parse_rest_replies([{"recipient_id": "x", "image": "http://x"}, "junk"]) == []


def test_a_body_that_is_not_a_list_means_the_engine_misbehaved() -> None:
    with pytest.raises(EngineRefused):
        parse_rest_replies({"error": "boom"})
