"""An agency's working hours on the Vietnamese calendar: when a person can answer."""

from __future__ import annotations

from datetime import datetime

import pytest

from bot.domain.deadlines import VN_TZ
from bot.domain.office_hours import OfficeHours, opening_text

HOURS = OfficeHours.parse()


def vn(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=VN_TZ)


@pytest.mark.parametrize(
    ("moment", "open_"),
    [
        ("2026-11-25T09:00", True),  # a Wednesday morning
        ("2026-11-25T07:29", False),
        ("2026-11-25T07:30", True),
        ("2026-11-25T12:00", False),  # lunch
        ("2026-11-25T13:30", True),
        ("2026-11-25T17:00", False),  # the day is over
        ("2026-11-28T09:00", False),  # Saturday
        ("2026-11-29T09:00", False),  # Sunday
        ("2026-02-18T09:00", False),  # Tết, a Wednesday
        ("2026-09-02T09:00", False),  # National Day
    ],
)
def test_open_on_working_days_within_the_spans(moment: str, open_: bool) -> None:
    assert HOURS.is_open(vn(moment)) is open_


def test_the_next_opening_skips_lunch_nights_weekends_and_tet() -> None:
    assert HOURS.next_opening(vn("2026-11-25T12:10")) == vn("2026-11-25T13:30")
    assert HOURS.next_opening(vn("2026-11-27T17:30")) == vn("2026-11-30T07:30")  # Fri → Mon
    assert HOURS.next_opening(vn("2026-02-13T18:00")) == vn("2026-02-23T07:30")  # over Tết
    open_now = vn("2026-11-25T09:00")
    assert HOURS.next_opening(open_now) == open_now
    utc = datetime.fromisoformat("2026-11-25T10:00+00:00")  # 17:00 in Vietnam
    assert HOURS.next_opening(utc) == vn("2026-11-26T07:30")


def test_saturday_morning_when_the_agency_works_it() -> None:
    hours = OfficeHours.parse(saturday_morning=True)
    assert hours.is_open(vn("2026-11-28T09:00"))
    assert not hours.is_open(vn("2026-11-28T14:00"))
    assert hours.next_opening(vn("2026-11-27T17:30")) == vn("2026-11-28T07:30")


@pytest.mark.parametrize(
    "text",
    ["", "7:30", "07:30-25:00", "11:30-07:30", "07:30-12:00,11:00-17:00", "sáng-chiều"],
)
def test_wrong_hours_are_refused_with_what_is_wrong(text: str) -> None:
    with pytest.raises(ValueError, match="span|time"):
        OfficeHours.parse(text)


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        HOURS.is_open(datetime(2026, 11, 25, 9))


def test_when_someone_will_be_there_reads_naturally() -> None:
    now = vn("2026-11-25T12:10")
    assert opening_text(vn("2026-11-25T13:30"), now) == "chiều nay lúc 13 giờ 30"
    assert opening_text(vn("2026-11-26T07:30"), now) == "sáng mai (thứ Năm 26/11) lúc 7 giờ 30"
    assert opening_text(vn("2026-11-30T08:00"), now) == "sáng thứ Hai 30/11 lúc 8 giờ"
