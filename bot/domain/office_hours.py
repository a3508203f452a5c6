"""When an agency's people are at work: the hours a handed-over conversation can be answered.

Vietnamese public offices work Monday to Friday, morning and afternoon (commonly 7:30–11:30
and 13:30–17:00; each agency sets its own), never on public holidays (the `holidays` VN
calendar of bot/domain/deadlines.py, Tết included). Some one-stop desks also open on Saturday
morning. Outside these hours a citizen asking for a person is told so truthfully, with when
someone will be there (`next_opening`, `opening_text`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from bot.domain.deadlines import VN_TZ, is_working_day

DEFAULT_HOURS = "07:30-11:30,13:30-17:00"
_SPAN = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
_WEEKDAYS = ("thứ Hai", "thứ Ba", "thứ Tư", "thứ Năm", "thứ Sáu", "thứ Bảy", "Chủ nhật")


@dataclass(frozen=True, slots=True)
class OfficeHours:
    """The day's working spans (Vietnam time), and whether Saturday morning is worked."""

    spans: tuple[tuple[time, time], ...]
    saturday_morning: bool = False

    @classmethod
    def parse(cls, text: str = DEFAULT_HOURS, saturday_morning: bool = False) -> OfficeHours:
        """ "07:30-11:30,13:30-17:00" → two spans; ValueError naming what is wrong."""
        spans: list[tuple[time, time]] = []
        for part in text.split(","):
            found = _SPAN.match(part)
            if found is None:
                raise ValueError(f"Not a span of hours (HH:MM-HH:MM): {part.strip()!r}")
            h1, m1, h2, m2 = (int(g) for g in found.groups())
            try:
                start, end = time(h1, m1), time(h2, m2)
            except ValueError as exc:
                raise ValueError(f"Not a time of day: {part.strip()!r}") from exc
            if not start < end:
                raise ValueError(f"A span must end after it starts: {part.strip()!r}")
            if spans and start < spans[-1][1]:
                raise ValueError(f"The spans must be in order and not overlap: {text!r}")
            spans.append((start, end))
        return cls(tuple(spans), saturday_morning)

    def _spans_of(self, day: date) -> tuple[tuple[time, time], ...]:
        if is_working_day(day):
            return self.spans
        if self.saturday_morning and day.weekday() == 5 and is_working_day(day - timedelta(1)):
            return tuple(s for s in self.spans if s[1] <= time(12, 0))
        return ()

    def is_open(self, moment: datetime) -> bool:
        """Whether `moment` (aware) falls in a working span of a working day."""
        local = _local(moment)
        return any(start <= local.time() < end for start, end in self._spans_of(local.date()))

    def next_opening(self, moment: datetime) -> datetime:
        """`moment` itself when open, else the start of the next working span (Vietnam time)."""
        local = _local(moment)
        if self.is_open(local):
            return local
        day = local.date()
        for _ in range(60):  # Tết and a weekend fit many times over
            for start, _end in self._spans_of(day):
                opening = datetime.combine(day, start, tzinfo=VN_TZ)
                if opening > local:
                    return opening
            day += timedelta(days=1)
        raise ValueError("No working span in the next 60 days: check the office hours")


def _local(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("moment must be timezone-aware")
    return moment.astimezone(VN_TZ)


def opening_text(opening: datetime, now: datetime) -> str:
    """When someone will be there, as a citizen reads it: "sáng mai (thứ Năm 27/11) lúc
    7 giờ 30", "chiều nay lúc 13 giờ 30", "sáng thứ Hai 02/02 lúc 7 giờ 30"."""
    local, today = opening.astimezone(VN_TZ), now.astimezone(VN_TZ).date()
    part = "sáng" if local.hour < 12 else "chiều"
    clock = f"{local.hour} giờ" + (f" {local.minute:02d}" if local.minute else "")
    weekday = _WEEKDAYS[local.weekday()]
    if local.date() == today:
        return f"{part} nay lúc {clock}"
    if local.date() == today + timedelta(days=1):
        return f"{part} mai ({weekday} {local:%d/%m}) lúc {clock}"
    return f"{part} {weekday} {local:%d/%m} lúc {clock}"
