"""Reading cases: the view the API and the chat show, look-ups by code, the filtered list.

Nothing here changes a case; the use cases that do are in bot/services/cases.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import codes
from bot.domain.actors import Actor
from bot.domain.cases import OPEN_STATUSES, Kind, Status, status_label
from bot.domain.delivery import DeliveryStatus
from bot.errors import Forbidden, NotFound
from bot.store.cases import case_by_code
from bot.store.db import Database
from bot.store.models import Agency, Case, CaseEvent, Delivery, Rating, User, utcnow


@dataclass(frozen=True, slots=True)
class CaseView:
    """A case as the API and the chat show it."""

    id: int
    code: str
    kind: Kind
    status: Status
    agency: str
    target: str
    subject: str
    content: str
    requester_name: str
    requester_contact: str
    anonymous: bool
    due_at: datetime | None
    extensions: int
    assigned_to: str | None
    answer: str
    refusal_reason: str
    created_at: datetime
    updated_at: datetime
    events: tuple[dict[str, Any], ...] = field(default=())
    location: str = ""  # where a petition's problem is, as the citizen gave it
    attachments: tuple[Any, ...] = ()  # references (image URL, location), never files
    # The citizen's rating of the answer: {"score", "comment", "at"} (the detail view only).
    rating: dict[str, Any] | None = None
    # What the citizen was sent about the case and what became of it (the detail view only):
    # {"at", "status", "reason", "received_at", "seen_at"}, oldest first.
    citizen_updates: tuple[dict[str, Any], ...] = ()
    # The citizen agreed to publish it (Open311): its text and answer are open data.
    public: bool = False

    @property
    def is_open(self) -> bool:
        """Still waiting for the agency (so it can be withdrawn, and can be overdue)."""
        return self.status in OPEN_STATUSES

    @property
    def overdue(self) -> bool:
        """Past its deadline and still open."""
        return self.due_at is not None and self.due_at < utcnow() and self.is_open

    def as_json(self) -> dict[str, Any]:
        """JSON for the REST API."""
        return {
            "code": codes.display(self.code),
            "kind": self.kind.value,
            "status": self.status.value,
            "status_label": status_label(self.kind, self.status),
            "agency": self.agency,
            "target": self.target,
            "subject": self.subject,
            "content": self.content,
            "requester_name": self.requester_name,
            "requester_contact": self.requester_contact,
            "anonymous": self.anonymous,
            "due_at": self.due_at.isoformat() if self.due_at else None,
            "overdue": self.overdue,
            "extensions": self.extensions,
            "assigned_to": self.assigned_to,
            "answer": self.answer,
            "refusal_reason": self.refusal_reason,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "events": list(self.events),
            "location": self.location,
            "attachments": list(self.attachments),
            "rating": self.rating,
            "citizen_updates": list(self.citizen_updates),
            "public": self.public,
        }


@dataclass(frozen=True, slots=True)
class CaseFilter:
    """Filters of the case list (all optional)."""

    status: Status | None = None
    kind: Kind | None = None
    agency_id: int | None = None
    overdue: bool | None = None
    due_before: datetime | None = None
    text: str | None = None
    limit: int = 50
    offset: int = 0


async def case_view(session: AsyncSession, case: Case, with_events: bool = False) -> CaseView:
    """The view of a loaded case (with its audit trail for the API's detail and changes)."""
    agency = await session.get(Agency, case.agency_id)
    assigned = await session.get(User, case.assigned_to_id) if case.assigned_to_id else None
    events: tuple[dict[str, Any], ...] = ()
    updates: tuple[dict[str, Any], ...] = ()
    rating: dict[str, Any] | None = None
    if with_events:
        given = await session.scalar(select(Rating).where(Rating.case_id == case.id))
        if given is not None:
            rating = {
                "score": given.score,
                "comment": given.comment,
                "at": given.created_at.isoformat(),
            }
        rows = (
            (
                await session.execute(
                    select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)
                )
            )
            .scalars()
            .all()
        )
        events = tuple(
            {
                "at": e.at.isoformat(),
                "actor": e.actor,
                "action": e.action,
                "from": e.from_status,
                "to": e.to_status,
                "note": e.note,
            }
            for e in rows
        )
        updates = await _citizen_updates(session, case.id)
    return CaseView(
        id=case.id,
        code=case.code,
        kind=case.kind,
        status=case.status,
        agency=agency.name if agency else "",
        target=case.target,
        subject=case.subject,
        content=case.content,
        requester_name=case.requester_name,
        requester_contact=case.requester_contact,
        anonymous=case.anonymous,
        due_at=case.due_at,
        extensions=case.extensions,
        assigned_to=assigned.username if assigned else None,
        answer=case.answer,
        refusal_reason=case.refusal_reason,
        created_at=case.created_at,
        updated_at=case.updated_at,
        events=events,
        location=case.location,
        attachments=tuple(case.attachments or ()),
        rating=rating,
        citizen_updates=updates,
        public=case.public,
    )


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at else None


async def _citizen_updates(session: AsyncSession, case_id: int) -> tuple[dict[str, Any], ...]:
    """The case's updates to the citizen and what became of each (sent, received, seen,
    waiting with the platform's reason...), so an officer knows whether the citizen knows."""
    rows = await session.execute(
        select(Delivery).where(Delivery.case_id == case_id).order_by(Delivery.id)
    )
    return tuple(
        {
            "at": d.created_at.isoformat(),
            "status": d.status.value,
            "reason": d.error if d.status is not DeliveryStatus.SENT else None,
            "sent_at": _iso(d.sent_at),
            "received_at": _iso(d.received_at),
            "seen_at": _iso(d.seen_at),
        }
        for d in rows.scalars()
    )


async def case_for_contact(db: Database, code_text: str, contact_id: int) -> CaseView | None:
    """The case only if this contact filed it; anyone else gets None, like an unknown code."""
    async with db.session() as session:
        case = await case_by_code(session, code_text)
        if case is None or case.contact_id != contact_id:
            return None
        return await case_view(session, case)


async def open_cases_for_contact(db: Database, contact_id: int) -> list[CaseView]:
    """This contact's cases that still wait for the agency, newest first."""
    async with db.session() as session:
        rows = (
            (
                await session.execute(
                    select(Case)
                    .where(
                        Case.contact_id == contact_id,
                        Case.status.in_(OPEN_STATUSES | {Status.ANSWERED}),
                    )
                    .order_by(Case.id.desc())
                    .limit(10)
                )
            )
            .scalars()
            .all()
        )
        return [await case_view(session, c) for c in rows]


async def get_case(db: Database, code_text: str, actor: Actor) -> CaseView:
    """One case with its audit trail, within the actor's agency."""
    async with db.session() as session:
        case = await case_by_code(session, code_text)
        if case is None:
            raise NotFound("Không tìm thấy hồ sơ.", code="case_not_found")
        if not actor.may_see(case.agency_id):
            raise Forbidden("Hồ sơ thuộc cơ quan khác.", code="other_agency")
        return await case_view(session, case, with_events=True)


def _filtered(query: Select[tuple[Case]], f: CaseFilter, now: datetime) -> Select[tuple[Case]]:
    if f.status:
        query = query.where(Case.status == f.status)
    if f.kind:
        query = query.where(Case.kind == f.kind)
    if f.agency_id is not None:
        query = query.where(Case.agency_id == f.agency_id)
    if f.overdue is True:
        query = query.where(Case.due_at < now, Case.status.in_(OPEN_STATUSES))
    elif f.overdue is False:
        query = query.where(or_(Case.due_at.is_(None), Case.due_at >= now))
    if f.due_before is not None:
        query = query.where(Case.due_at < f.due_before, Case.status.in_(OPEN_STATUSES))
    if f.text:
        like = f"%{f.text.strip()}%"
        query = query.where(
            or_(Case.content.ilike(like), Case.subject.ilike(like), Case.target.ilike(like))
        )
    return query


async def list_cases(db: Database, f: CaseFilter, actor: Actor) -> tuple[int, list[CaseView]]:
    """Cases the actor may see, filtered, most urgent first; returns (total, page)."""
    now = utcnow()
    base = select(Case)
    if not actor.sees_every_agency:
        base = base.where(Case.agency_id == actor.agency_id)
    base = _filtered(base, f, now)
    async with db.session() as session:
        total = await session.scalar(select(func.count()).select_from(base.subquery())) or 0
        rows = (
            (
                await session.execute(
                    base.order_by(Case.due_at.is_(None), Case.due_at, Case.id)
                    .limit(max(1, min(f.limit, 200)))
                    .offset(max(0, f.offset))
                )
            )
            .scalars()
            .all()
        )
        return int(total), [await case_view(session, c) for c in rows]
