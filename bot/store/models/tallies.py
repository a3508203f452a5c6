"""Counts of cases kept ahead of time for reports over many cases (bot/store/tallies.py)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.store.models.base import Base


class CaseTally(Base):
    """One month's cases of one agency, province, topic, kind and channel (month: the
    Vietnam month received, as its first day): what no longer depends on when a report runs
    (bot.domain.reports.case_tally and rating_tally), kept by the case services in the
    transaction of each change."""

    __tablename__ = "case_tallies"

    month: Mapped[date] = mapped_column(Date, primary_key=True)
    agency_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    province: Mapped[str] = mapped_column(String(20), primary_key=True)
    topic: Mapped[str] = mapped_column(String(80), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    received: Mapped[int] = mapped_column(Integer, default=0)
    withdrawn: Mapped[int] = mapped_column(Integer, default=0)
    acceptance_due: Mapped[int] = mapped_column(Integer, default=0)  # decided (not withdrawn)
    acceptance_on_time: Mapped[int] = mapped_column(Integer, default=0)
    answer_due: Mapped[int] = mapped_column(Integer, default=0)  # answered (not withdrawn)
    answer_on_time: Mapped[int] = mapped_column(Integer, default=0)
    answered: Mapped[int] = mapped_column(Integer, default=0)
    extended: Mapped[int] = mapped_column(Integer, default=0)
    extensions: Mapped[int] = mapped_column(Integer, default=0)
    ratings: Mapped[int] = mapped_column(Integer, default=0)
    rating_sum: Mapped[int] = mapped_column(Integer, default=0)
    satisfied: Mapped[int] = mapped_column(Integer, default=0)
    comments: Mapped[int] = mapped_column(Integer, default=0)


class CaseTallyDays(Base):
    """How many of one month's answered cases (of one agency, province, topic) took each
    number of working days: the histogram the percentiles come from."""

    __tablename__ = "case_tally_days"

    month: Mapped[date] = mapped_column(Date, primary_key=True)
    agency_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    province: Mapped[str] = mapped_column(String(20), primary_key=True)
    topic: Mapped[str] = mapped_column(String(80), primary_key=True)
    days: Mapped[int] = mapped_column(Integer, primary_key=True)
    cases: Mapped[int] = mapped_column(Integer, default=0)
