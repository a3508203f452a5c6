"""Case use cases: file, look up, transition, assign, rate. Each owns its transaction."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy import case as sql_case
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import codes
from bot.domain.cases import (
    OPEN_STATUSES,
    STATUS_LABELS,
    CaseState,
    Kind,
    Status,
    decide,
    initial_due_at,
)
from bot.domain.deadlines import VN_TZ
from bot.errors import Forbidden, InvalidInput, NotFound
from bot.store.agencies import primary_agency
from bot.store.db import Database
from bot.store.models import Agency, Case, CaseEvent, Delivery, OfficerNotice, Rating, User, utcnow


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts: an officer (scoped to an agency), an admin, the citizen, or the system."""

    name: str
    role: str  # admin | officer | operator | citizen | system
    user_id: int | None = None
    agency_id: int | None = None

    def may_see(self, agency_id: int) -> bool:
        """Admins see every agency; officers and operators only their own."""
        return self.role in {"admin", "system"} or self.agency_id == agency_id


@dataclass(frozen=True, slots=True)
class CaseDraft:
    """What a citizen filed through a form, before it is a case."""

    kind: Kind
    content: str
    target: str = ""
    subject: str = ""
    requester_name: str = ""
    requester_contact: str = ""
    location: str = ""
    attachments: tuple[dict[str, Any], ...] = ()
    anonymous: bool = False
    consent: bool = False


@dataclass(frozen=True, slots=True)
class FiledCase:
    """What the citizen is told after filing."""

    code: str
    kind: Kind
    due_at: datetime | None

    @property
    def display_code(self) -> str:
        """The code as people read it (XXXX-XXXXX)."""
        return codes.display(self.code)


@dataclass(frozen=True, slots=True)
class CaseView:
    """A case as the API and the chat show it."""

    id: int
    code: str
    kind: str
    status: str
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

    @property
    def overdue(self) -> bool:
        """Past its deadline and still open."""
        return self.due_at is not None and self.due_at < utcnow() and self.status in OPEN_STATUSES

    def as_json(self) -> dict[str, Any]:
        """JSON for the REST API."""
        return {
            "code": codes.display(self.code),
            "kind": self.kind,
            "status": self.status,
            "status_label": STATUS_LABELS[Status(self.status)],
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
        }


def format_due(due_at: datetime | None) -> str:
    """A deadline as Vietnamese citizens read it: 'ngày 27/02/2026'."""
    if due_at is None:
        return "không còn thời hạn chờ"
    return f"ngày {due_at.astimezone(VN_TZ):%d/%m/%Y}"


async def file_case(
    db: Database,
    draft: CaseDraft,
    contact_id: int | None,
    petition_days: int = 10,
    now: datetime | None = None,
) -> FiledCase:
    """Create a case from a confirmed draft; refuses personal data without consent."""
    now = now or utcnow()
    content = draft.content.strip()
    if not content:
        raise InvalidInput("Nội dung không được để trống.", code="content_required")
    personal = bool(draft.requester_name or draft.requester_contact)
    if personal and not draft.consent:
        raise InvalidInput("Chưa có đồng ý lưu thông tin cá nhân.", code="consent_required")
    if draft.kind is Kind.EXPLANATION and (draft.anonymous or not draft.requester_name):
        # The law does not accept anonymous explanation requests.
        raise InvalidInput("Yêu cầu giải trình cần họ tên người yêu cầu.", code="name_required")
    due_at = initial_due_at(draft.kind, now, petition_days)
    for _attempt in range(5):
        code = codes.new_code()
        try:
            async with db.session() as session:
                agency = await primary_agency(session)
                case = Case(
                    code=code,
                    kind=draft.kind.value,
                    status=Status.RECEIVED.value,
                    agency_id=agency.id,
                    contact_id=contact_id,
                    anonymous=draft.anonymous,
                    requester_name="" if draft.anonymous else draft.requester_name.strip(),
                    requester_contact="" if draft.anonymous else draft.requester_contact.strip(),
                    target=draft.target.strip(),
                    subject=draft.subject.strip(),
                    content=content,
                    location=draft.location.strip(),
                    attachments=list(draft.attachments),
                    consent_at=now if draft.consent else None,
                    due_at=due_at,
                    created_at=now,
                    updated_at=now,
                )
                session.add(case)
                await session.flush()
                session.add(
                    CaseEvent(
                        case_id=case.id,
                        at=now,
                        actor="citizen",
                        action="filed",
                        to_status=Status.RECEIVED.value,
                    )
                )
            return FiledCase(code=code, kind=draft.kind, due_at=due_at)
        except IntegrityError:
            continue  # a code collision (1 in 10^12): draw another
    raise RuntimeError("could not allocate a case code")


async def _view(session: AsyncSession, case: Case, with_events: bool = False) -> CaseView:
    agency = await session.get(Agency, case.agency_id)
    assigned = await session.get(User, case.assigned_to_id) if case.assigned_to_id else None
    events: tuple[dict[str, Any], ...] = ()
    if with_events:
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
    )


async def _load(session: AsyncSession, code_text: str, lock: bool = False) -> Case | None:
    code = codes.parse(code_text)
    if code is None:
        return None
    query = select(Case).where(Case.code == code)
    if lock:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def case_for_contact(db: Database, code_text: str, contact_id: int) -> CaseView | None:
    """The case only if this contact filed it; anyone else gets None, like an unknown code."""
    async with db.session() as session:
        case = await _load(session, code_text)
        if case is None or case.contact_id != contact_id:
            return None
        return await _view(session, case)


async def open_cases_for_contact(db: Database, contact_id: int) -> list[CaseView]:
    """This contact's cases that still wait for the agency, newest first."""
    async with db.session() as session:
        rows = (
            (
                await session.execute(
                    select(Case)
                    .where(
                        Case.contact_id == contact_id,
                        Case.status.in_([s.value for s in OPEN_STATUSES | {Status.ANSWERED}]),
                    )
                    .order_by(Case.id.desc())
                    .limit(10)
                )
            )
            .scalars()
            .all()
        )
        return [await _view(session, c) for c in rows]


async def get_case(db: Database, code_text: str, actor: Actor) -> CaseView:
    """One case with its audit trail, within the actor's agency."""
    async with db.session() as session:
        case = await _load(session, code_text)
        if case is None or not actor.may_see(case.agency_id):
            raise NotFound("Không tìm thấy hồ sơ.", code="case_not_found")
        return await _view(session, case, with_events=True)


@dataclass(frozen=True, slots=True)
class CaseFilter:
    """Filters of the case list (all optional)."""

    status: str | None = None
    kind: str | None = None
    agency_id: int | None = None
    overdue: bool | None = None
    due_before: datetime | None = None
    text: str | None = None
    limit: int = 50
    offset: int = 0


def _filtered(query: Select[tuple[Case]], f: CaseFilter, now: datetime) -> Select[tuple[Case]]:
    if f.status:
        query = query.where(Case.status == f.status)
    if f.kind:
        query = query.where(Case.kind == f.kind)
    if f.agency_id is not None:
        query = query.where(Case.agency_id == f.agency_id)
    open_values = [s.value for s in OPEN_STATUSES]
    if f.overdue is True:
        query = query.where(Case.due_at < now, Case.status.in_(open_values))
    elif f.overdue is False:
        query = query.where(or_(Case.due_at.is_(None), Case.due_at >= now))
    if f.due_before is not None:
        query = query.where(Case.due_at < f.due_before, Case.status.in_(open_values))
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
    if actor.role not in {"admin", "system"}:
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
        return int(total), [await _view(session, c) for c in rows]


def citizen_update_text(case: Case, to: Status, note: str = "") -> str:
    """The Vietnamese message a citizen receives when their case changes."""
    code = codes.display(case.code)
    if to is Status.ACCEPTED:
        return (
            f"Hồ sơ {code} đã được cơ quan chấp nhận xử lý. "
            f"Thời hạn trả lời: {format_due(case.due_at)}."
        )
    if to is Status.REFUSED:
        return f"Hồ sơ {code} không được chấp nhận. Lý do: {case.refusal_reason}"
    if to is Status.IN_PROGRESS:
        return f"Hồ sơ {code} đang được xử lý. Hạn trả lời: {format_due(case.due_at)}."
    if to is Status.EXTENDED:
        return f"Hồ sơ {code} được gia hạn xử lý đến {format_due(case.due_at)}. Lý do: {note}"
    if to is Status.ANSWERED:
        return (
            f"Hồ sơ {code} đã có trả lời của cơ quan:\n\n{case.answer}\n\n"
            "Anh/chị đánh giá câu trả lời này thế nào? (1 = rất không hài lòng, 5 = rất hài lòng)"
        )
    if to is Status.CLOSED:
        return f"Hồ sơ {code} đã kết thúc. Cảm ơn anh/chị."
    return f"Hồ sơ {code}: {STATUS_LABELS[to]}."


def rating_buttons(code: str) -> list[dict[str, str]]:
    """1-5 buttons whose payload carries the case code and the score."""
    return [
        {"title": f"{n} ★", "payload": f'/rate{{"case_code":"{code}","rating":"{n}"}}'}
        for n in range(1, 6)
    ]


async def transition_case(
    db: Database,
    code_text: str,
    to: str,
    actor: Actor,
    note: str = "",
    petition_days: int = 10,
    now: datetime | None = None,
) -> CaseView:
    """Change a case's status through the status machine, audit it, and notify the citizen."""
    now = now or utcnow()
    try:
        target = Status(to)
    except ValueError as exc:
        raise InvalidInput(f"Trạng thái không hợp lệ: {to}", code="invalid_status") from exc
    async with db.session() as session:
        case = await _load(session, code_text, lock=True)
        if case is None or not actor.may_see(case.agency_id):
            raise NotFound("Không tìm thấy hồ sơ.", code="case_not_found")
        if target is Status.WITHDRAWN and actor.role not in {"citizen", "admin"}:
            raise Forbidden("Chỉ người gửi mới rút được yêu cầu.", code="citizen_only")
        state = CaseState(Kind(case.kind), Status(case.status), case.due_at, case.extensions)
        decision = decide(state, target, now, note, petition_days)
        case.status = decision.to_status
        if case.due_at != decision.due_at:
            case.due_soon_notified = False
            case.overdue_notified = False
        case.due_at = decision.due_at
        case.extensions = decision.extensions
        case.updated_at = now
        if target is Status.ANSWERED:
            case.answer = decision.note
        if target is Status.REFUSED:
            case.refusal_reason = decision.note
        event = CaseEvent(
            case_id=case.id,
            at=now,
            actor=actor.name,
            action="transition",
            from_status=decision.from_status.value,
            to_status=decision.to_status.value,
            note=decision.note,
        )
        session.add(event)
        await session.flush()
        if actor.role == "citizen":  # the officers in charge must see it stop
            await _notice_officers(
                session,
                case,
                "withdrawn",
                f"Người gửi đã rút yêu cầu {codes.display(case.code)}; hồ sơ dừng xử lý.",
            )
        if case.contact_id is not None and not case.anonymous and actor.role != "citizen":
            session.add(
                Delivery(
                    contact_id=case.contact_id,
                    kind="case_update",
                    case_id=case.id,
                    dedupe_key=f"case-event:{event.id}",
                    text=citizen_update_text(case, target, decision.note),
                    buttons=rating_buttons(case.code) if target is Status.ANSWERED else [],
                    next_attempt_at=now,
                    created_at=now,
                )
            )
        return await _view(session, case, with_events=True)


async def officers_for(session: AsyncSession, case: Case) -> list[int]:
    """Who must see what happens to a case: the assigned officer, or, while nobody is
    assigned, every officer of the agency."""
    if case.assigned_to_id is not None:
        return [case.assigned_to_id]
    rows = await session.execute(
        select(User.id).where(User.agency_id == case.agency_id, User.role == "officer")
    )
    return list(rows.scalars())


async def _notice_officers(session: AsyncSession, case: Case, kind: str, text: str) -> None:
    users = await officers_for(session, case)
    session.add_all(
        OfficerNotice(user_id=user_id, case_id=case.id, kind=kind, text=text) for user_id in users
    )


async def withdraw_for_contact(db: Database, code_text: str, contact_id: int) -> CaseView:
    """The citizen who filed a case withdraws it (audited, officers noticed); for anyone
    else the case does not exist, as with an unknown code."""
    async with db.session() as session:
        case = await _load(session, code_text)
        if case is None or case.contact_id != contact_id:
            raise NotFound("Không tìm thấy hồ sơ.", code="case_not_found")
        actor = Actor(f"citizen:{contact_id}", "citizen", agency_id=case.agency_id)
    return await transition_case(
        db, code_text, Status.WITHDRAWN.value, actor, note="Người gửi rút yêu cầu qua trò chuyện."
    )


async def assign_case(db: Database, code_text: str, username: str, actor: Actor) -> CaseView:
    """Give a case to an officer of the same agency (audited)."""
    async with db.session() as session:
        case = await _load(session, code_text, lock=True)
        if case is None or not actor.may_see(case.agency_id):
            raise NotFound("Không tìm thấy hồ sơ.", code="case_not_found")
        user = (
            await session.execute(select(User).where(User.username == username))
        ).scalar_one_or_none()
        if user is None or (user.agency_id != case.agency_id and user.role != "admin"):
            raise InvalidInput("Không có cán bộ này trong cơ quan.", code="unknown_officer")
        case.assigned_to_id = user.id
        case.updated_at = utcnow()
        session.add(
            CaseEvent(case_id=case.id, actor=actor.name, action="assign", note=user.username)
        )
        await session.flush()
        return await _view(session, case, with_events=True)


async def rate_case(
    db: Database,
    code_text: str,
    contact_id: int,
    score: int,
    comment: str = "",
    keep_score: bool = False,
) -> bool:
    """Record the citizen's 1-5 rating of their answered case (a later one replaces it).

    With keep_score, only adds the comment to the existing rating.
    """
    if not keep_score and not 1 <= score <= 5:
        raise InvalidInput("Điểm đánh giá từ 1 đến 5.", code="invalid_rating")
    async with db.session() as session:
        case = await _load(session, code_text)
        if case is None or case.contact_id != contact_id:
            return False
        if case.status not in {Status.ANSWERED.value, Status.CLOSED.value}:
            return False
        existing = (
            await session.execute(select(Rating).where(Rating.case_id == case.id))
        ).scalar_one_or_none()
        if keep_score:
            if existing is None:
                return False
            existing.comment = comment
        elif existing is None:
            session.add(
                Rating(case_id=case.id, contact_id=contact_id, score=score, comment=comment)
            )
        else:
            existing.score = score
            existing.comment = comment or existing.comment
        return True


async def satisfaction(db: Database, agency_id: int | None = None) -> dict[str, Any]:
    """Satisfaction index: share of ratings ≥ 4, mean score and count."""
    async with db.session() as session:
        satisfied = func.sum(sql_case((Rating.score >= 4, 1), else_=0))
        query = select(func.count(), func.avg(Rating.score), satisfied).select_from(Rating)
        if agency_id is not None:
            query = query.join(Case, Case.id == Rating.case_id).where(Case.agency_id == agency_id)
        count, mean, satisfied = (await session.execute(query)).one()
    count = int(count or 0)
    return {
        "ratings": count,
        "mean": round(float(mean), 2) if mean is not None else None,
        "satisfied_share": round(int(satisfied or 0) / count, 3) if count else None,
    }
