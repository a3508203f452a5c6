"""The publication body (API JSON and CLI front matter): what it accepts and each refusal's code."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest

from bot.errors import InvalidInput
from bot.web.api_explanations import explanation_spec

GOOD = {"title": "Lịch tiếp công dân", "body": "Sáng thứ Năm."}


def refusal(**changes: Any) -> str:
    """The error code for GOOD with `changes` (a None value removes the key)."""
    data = {**GOOD, **changes}
    data = {key: value for key, value in data.items() if value is not None}
    with pytest.raises(InvalidInput) as caught:
        explanation_spec(data)
    return caught.value.code


def test_a_minimal_body_targets_the_whole_country_now() -> None:
    spec = explanation_spec({**GOOD, "title": "  Lịch tiếp công dân \n", "extra": 1})
    assert spec.title == "Lịch tiếp công dân", "text is stripped; unknown keys are ignored"
    assert spec.localities == ("country",) and spec.topics == () and spec.publish_at is None
    assert spec.summary == "" and spec.slug == ""


def test_lists_keep_each_code_once_in_order_and_empty_localities_mean_the_country() -> None:
    spec = explanation_spec({**GOOD, "topics": ["datdai", "thutuc", "datdai"], "localities": []})
    assert spec.topics == ("datdai", "thutuc") and spec.localities == ("country",)
    spec = explanation_spec({**GOOD, "localities": ["w:70", "p:1", "w:70"]})
    assert spec.localities == ("w:70", "p:1")


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"title": None}, "invalid_body"),
        ({"title": "   "}, "invalid_body"),
        ({"body": ""}, "invalid_body"),
        ({"title": 2026}, "invalid_body"),
        ({"summary": None, "source_url": ["x"]}, "invalid_body"),
        ({"topics": "datdai"}, "invalid_body"),
        ({"topics": ["datdai", 1]}, "invalid_body"),
        ({"localities": "p:1"}, "invalid_body"),
        ({"title": "x" * 301}, "too_long"),
        ({"summary": "x" * 1001}, "too_long"),
        ({"slug": "x" * 121}, "too_long"),
        ({"body": "x" * 50_001}, "too_long"),
        ({"localities": ["p:1", "w:99999999"]}, "invalid_locality"),
        ({"publish_at": "mai nhé"}, "invalid_publish_at"),
        ({"publish_at": 1_800_000_000}, "invalid_publish_at"),
        ({"publish_at": date(2026, 12, 1)}, "invalid_publish_at"),  # a YAML date, no time
    ],
)
def test_each_refusal_has_its_code(changes: dict[str, Any], code: str) -> None:
    assert refusal(**changes) == code, f"{changes} should be refused with {code}"


def test_length_is_counted_after_stripping() -> None:
    assert explanation_spec({**GOOD, "title": "  " + "x" * 300 + "  "}).title == "x" * 300


def test_a_locality_is_checked_before_the_text_fields() -> None:
    assert refusal(title="", localities=["w:99999999"]) == "invalid_locality"


def test_publish_at_without_a_zone_is_vietnam_time_and_is_stored_in_utc() -> None:
    spec = explanation_spec({**GOOD, "publish_at": "2026-12-01T08:00"})
    assert spec.publish_at == datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
    spec = explanation_spec({**GOOD, "publish_at": " 2026-12-01T08:00+09:00 "})
    assert spec.publish_at == datetime(2026, 11, 30, 23, 0, tzinfo=UTC)
    yaml_timestamp = datetime(2026, 12, 1, 8, 0, tzinfo=timezone(timedelta(hours=7)))
    spec = explanation_spec({**GOOD, "publish_at": yaml_timestamp})
    assert spec.publish_at == datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
    assert explanation_spec({**GOOD, "publish_at": ""}).publish_at is None
