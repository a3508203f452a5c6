"""What console templates show: times in Vietnam time, whatever zone they were stored in;
the report's figures as Vietnamese write them, "—" where there is nothing to count on."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.web.console.views import duration, number, percent, vn_time


def test_a_stored_utc_time_is_shown_in_vietnam_time() -> None:
    assert vn_time(datetime(2026, 11, 25, 2, 0, tzinfo=UTC)) == "25/11/2026 09:00"
    assert vn_time("2026-11-25T20:30:00+00:00") == "26/11/2026 03:30", "the day changes too"


def test_a_time_without_zone_is_vietnam_time_and_nothing_is_empty() -> None:
    assert vn_time(datetime(2026, 11, 25, 9, 0)) == "25/11/2026 09:00"
    assert vn_time(None) == "" and vn_time("") == ""


def test_report_figures_are_written_the_vietnamese_way() -> None:
    assert number(1234567) == "1.234.567", "dots between thousands"
    assert number(4.256, 2) == "4,26", "a decimal comma"
    assert percent(0.667) == "66,7 %" and percent(1.0) == "100,0 %"
    assert duration(65) == "1 phút 5 giây" and duration(3900) == "1 giờ 5 phút"
    assert duration(90061) == "1 ngày 1 giờ", "the two largest units"
    assert duration(0) == "0 giây"


def test_a_figure_without_a_base_is_a_dash() -> None:
    assert number(None) == percent(None) == duration(None) == "—"
