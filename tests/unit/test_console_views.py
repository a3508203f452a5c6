"""What console templates show: times in Vietnam time, whatever zone they were stored in."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.web.console.views import vn_time


def test_a_stored_utc_time_is_shown_in_vietnam_time() -> None:
    assert vn_time(datetime(2026, 11, 25, 2, 0, tzinfo=UTC)) == "25/11/2026 09:00"
    assert vn_time("2026-11-25T20:30:00+00:00") == "26/11/2026 03:30", "the day changes too"


def test_a_time_without_zone_is_vietnam_time_and_nothing_is_empty() -> None:
    assert vn_time(datetime(2026, 11, 25, 9, 0)) == "25/11/2026 09:00"
    assert vn_time(None) == "" and vn_time("") == ""
