"""Monthly message quotas: which month a send counts in, and when that month's quota resets.

Zalo resets an OA's monthly quotas on the 1st at 00:00, Vietnam time; the count itself lives
in the database (bot/store/quotas.py) so that every process draws on the same one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from bot.domain.deadlines import VN_TZ


@dataclass(frozen=True, slots=True)
class Period:
    """One quota month: its key ("2026-11") and the instant the next one starts (UTC)."""

    key: str
    resets_at: datetime


def period(now: datetime) -> Period:
    """The quota month `now` (timezone-aware) falls in, in Vietnam time."""
    local = now.astimezone(VN_TZ)
    year, month = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
    resets = datetime(year, month, 1, tzinfo=VN_TZ).astimezone(UTC)
    return Period(f"{local.year:04d}-{local.month:02d}", resets)
