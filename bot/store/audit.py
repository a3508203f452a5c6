"""The audit table of staff API use (`api_calls`) and the statement that writes it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from bot.store.models import Base, utcnow


class ApiCall(Base):
    """One state-changing API call, allowed or refused: who, what, the outcome (no body)."""

    __tablename__ = "api_calls"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    username: Mapped[str | None] = mapped_column(String(80), nullable=True)  # None: no token
    role: Mapped[str | None] = mapped_column(String(20), nullable=True)
    agency_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(200))  # the route, e.g. /api/v1/cases/{code}
    target: Mapped[str | None] = mapped_column(String(120), nullable=True)
    status: Mapped[int] = mapped_column(Integer)


def add_call(session: AsyncSession, call: ApiCall) -> None:
    """Queue one audit row in the caller's transaction."""
    session.add(call)
