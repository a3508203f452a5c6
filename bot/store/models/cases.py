"""Cases, their audit trail, ratings and the notices officers get about them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.domain.cases import OPEN_STATUSES
from bot.domain.cases import Kind as CaseKind
from bot.domain.cases import Status as CaseStatus
from bot.store.models.base import Base, utcnow
from bot.store.models.people import Agency
from bot.store.types import StrEnumType

# Cases still open, as the partial index below states it (a query names this very clause, so
# the planner sees it is the index's).
_OPEN_LIST = ", ".join(f"'{s.value}'" for s in sorted(OPEN_STATUSES))
OPEN_CASES = text(f"status IN ({_OPEN_LIST})")
# Cases the citizen agreed to publish (Open311), as the partial index below states it.
PUBLIC_CASES = text("public")


class Case(Base):
    """An explanation request or a petition, tracked until it is answered and closed.

    Personal fields hold only what the case needs and only after consent (consent_at).
    """

    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_agency_status", "agency_id", "status"),
        Index("ix_cases_due_at", "due_at"),
        Index("ix_cases_contact_id", "contact_id"),
        # Reports: one agency's (or one place's) cases received in a period.
        Index("ix_cases_agency_created", "agency_id", "created_at"),
        Index("ix_cases_province_created", "province", "created_at"),
        # The open ones: what a report over tallied months reads from the cases themselves.
        Index(
            "ix_cases_open_created",
            "created_at",
            sqlite_where=OPEN_CASES,
            postgresql_where=OPEN_CASES,
        ),
        # Open data (Open311): the published cases, newest first.
        Index(
            "ix_cases_public_created",
            "created_at",
            sqlite_where=PUBLIC_CASES,
            postgresql_where=PUBLIC_CASES,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)
    kind: Mapped[CaseKind] = mapped_column(StrEnumType(CaseKind))
    status: Mapped[CaseStatus] = mapped_column(StrEnumType(CaseStatus))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"), nullable=True)
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    requester_name: Mapped[str] = mapped_column(String(200), default="")
    requester_contact: Mapped[str] = mapped_column(String(300), default="")
    target: Mapped[str] = mapped_column(String(300), default="")  # agency/locality concerned
    subject: Mapped[str] = mapped_column(Text, default="")  # decision or act concerned / what
    content: Mapped[str] = mapped_column(Text, default="")
    location: Mapped[str] = mapped_column(String(300), default="")
    attachments: Mapped[list[Any]] = mapped_column(default=list)
    consent_at: Mapped[datetime | None] = mapped_column(nullable=True)
    # The citizen agreed that the case (its text, place, status and the agency's answer,
    # without personal data) may be published as open data (Open311). Only the citizen sets
    # it, when filing; no staff route changes it.
    public: Mapped[bool] = mapped_column(Boolean, default=False)
    due_at: Mapped[datetime | None] = mapped_column(nullable=True)
    extensions: Mapped[int] = mapped_column(Integer, default=0)
    due_soon_notified: Mapped[bool] = mapped_column(Boolean, default=False)
    overdue_notified: Mapped[bool] = mapped_column(Boolean, default=False)
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    answer: Mapped[str] = mapped_column(Text, default="")
    refusal_reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # What reports group and filter by (bot/domain/reports.py): the channel it came from
    # ("" when filed without a chat), its place ("w:<commune>" or "p:<province>") and that
    # place's province, its topic's slug.
    channel: Mapped[str] = mapped_column(String(20), default="")
    locality: Mapped[str] = mapped_column(String(20), default="")
    province: Mapped[str] = mapped_column(String(20), default="")
    topic: Mapped[str] = mapped_column(String(80), default="")
    # Milestones kept as the case moves, so reports aggregate them in SQL: the acceptance
    # deadline set at filing and when it was decided; the answer deadline in force (extended
    # included) and when and in how many working days it was answered.
    accept_due_at: Mapped[datetime | None] = mapped_column(nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(nullable=True)
    answer_due_at: Mapped[datetime | None] = mapped_column(nullable=True)
    answered_at: Mapped[datetime | None] = mapped_column(nullable=True)
    answer_working_days: Mapped[int | None] = mapped_column(Integer, nullable=True)

    agency: Mapped[Agency] = relationship()


class CaseEvent(Base):
    """Audit trail: every status change (and assignment), who, when, from, to, note."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(20), default="transition")
    from_status: Mapped[str | None] = mapped_column(String(20), nullable=True)
    to_status: Mapped[str | None] = mapped_column(String(20), nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")


class Rating(Base):
    """A citizen's 1-5 rating of an answer, feeding the satisfaction index."""

    __tablename__ = "ratings"
    __table_args__ = (UniqueConstraint("case_id", name="uq_rating_case"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"), nullable=True)
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OfficerNotice(Base):
    """Something an officer must see (case due soon, overdue, assigned), shown in the console."""

    __tablename__ = "officer_notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), nullable=True)
    kind: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(nullable=True)
