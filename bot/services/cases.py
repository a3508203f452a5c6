"""Case use cases that change a case: file, transition, withdraw, assign. Each owns its
transaction; reading cases is in bot/services/case_queries.py, ratings in ratings.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError

from bot.domain import codes
from bot.domain.actors import Actor
from bot.domain.case_texts import case_update_card, citizen_update_text, rating_buttons
from bot.domain.cases import CaseState, Kind, Status, decide, initial_due_at
from bot.domain.delivery import DeliveryKind
from bot.domain.localities import by_code
from bot.domain.permissions import Action, require
from bot.domain.reports import case_tally, difference, filing_milestones, milestones
from bot.domain.roles import Role
from bot.errors import Forbidden, InvalidInput, NotFound
from bot.services.case_queries import CaseView, case_view
from bot.services.notices import notice_officers
from bot.store import tallies
from bot.store.agencies import primary_agency
from bot.store.cases import case_by_code
from bot.store.db import Database
from bot.store.models import Case, CaseEvent, Contact, Delivery, utcnow
from bot.store.users import by_username


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
    locality: str = ""  # "w:<commune>" or "p:<province>" (bot.domain.localities), for reports
    topic: str = ""  # a topic's slug, for reports
    public: bool = False  # the citizen agreed to publish it (Open311), without personal data
    channel: str = ""  # where it came from when not from a contact's chat ("open311")


@dataclass(frozen=True, slots=True)
class FiledCase:
    """What the citizen is told after filing."""

    code: str
    kind: Kind
    due_at: datetime | None
    id: int | None = None  # the stored case

    @property
    def display_code(self) -> str:
        """The code as people read it (XXXX-XXXXX)."""
        return codes.display(self.code)


async def file_case(
    db: Database,
    draft: CaseDraft,
    contact_id: int | None,
    petition_days: int = 10,
    now: datetime | None = None,
    filed_by: str = "citizen",
    agency_id: int | None = None,
) -> FiledCase:
    """Create a case from a confirmed draft; refuses personal data without consent.
    `filed_by` is the audit trail's actor (an operator filing from a conversation);
    `agency_id` the agency it goes to (None: the primary one)."""
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
    place = by_code(draft.locality) if draft.locality else None
    if draft.locality and place is None:
        raise InvalidInput(f"Không có địa bàn {draft.locality}.", code="invalid_locality")
    province = f"p:{place.province_code}" if place is not None else ""
    due_at = initial_due_at(draft.kind, now, petition_days)
    for _attempt in range(5):
        code = codes.new_code()
        try:
            async with db.session() as session:
                agency_id = agency_id or (await primary_agency(session)).id
                contact = await session.get(Contact, contact_id) if contact_id else None
                case = Case(
                    code=code,
                    kind=draft.kind,
                    status=Status.RECEIVED,
                    agency_id=agency_id,
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
                    public=draft.public,
                    due_at=due_at,
                    created_at=now,
                    updated_at=now,
                    channel=contact.channel if contact is not None else draft.channel,
                    locality=draft.locality,
                    province=province,
                    topic=draft.topic.strip(),
                    **filing_milestones(draft.kind, due_at),
                )
                session.add(case)
                await session.flush()
                await tallies.add(session, case, tally(case))
                session.add(
                    CaseEvent(
                        case_id=case.id,
                        at=now,
                        actor=filed_by,
                        action="filed",
                        to_status=Status.RECEIVED.value,
                    )
                )
            return FiledCase(code=code, kind=draft.kind, due_at=due_at, id=case.id)
        except IntegrityError:
            continue  # a code collision (1 in 10^12): draw another
    raise RuntimeError("could not allocate a case code")


def tally(case: Case) -> dict[str, int]:
    """What the case counts for in its month's report tally, as it stands."""
    return case_tally(
        case.kind,
        case.status,
        case.extensions,
        case.accept_due_at,
        case.decided_at,
        case.answer_due_at,
        case.answered_at,
    )


async def transition_case(
    db: Database,
    code_text: str,
    to: str,
    actor: Actor,
    note: str = "",
    petition_days: int = 10,
    now: datetime | None = None,
) -> CaseView:
    """Change a case's status through the status machine, audit it, and notify the citizen
    (or, when the citizen made the change, the officers in charge)."""
    now = now or utcnow()
    try:
        target = Status(to)
    except ValueError as exc:
        raise InvalidInput(f"Trạng thái không hợp lệ: {to}", code="invalid_status") from exc
    if not actor.is_citizen:  # a citizen withdraws their own case (checked below)
        require(actor, Action.CHANGE_CASES)
    async with db.session() as session:
        case = await case_by_code(session, code_text, lock=True)
        if case is None:
            raise NotFound("Không tìm thấy hồ sơ.", code="case_not_found")
        if not actor.may_see(case.agency_id):
            raise Forbidden("Hồ sơ thuộc cơ quan khác.", code="other_agency")
        if target is Status.WITHDRAWN and not actor.may_withdraw:
            raise Forbidden("Chỉ người gửi mới rút được yêu cầu.", code="citizen_only")
        before, days_before = tally(case), case.answer_working_days
        state = CaseState(case.kind, case.status, case.due_at, case.extensions)
        decision = decide(state, target, now, note, petition_days)
        case.status = decision.to_status
        if case.due_at != decision.due_at:
            case.due_soon_notified = False
            case.overdue_notified = False
        case.due_at = decision.due_at
        case.extensions = decision.extensions
        case.updated_at = now
        for column, value in milestones(
            case.kind, target, decision.due_at, now, case.created_at
        ).items():
            setattr(case, column, value)
        await tallies.add(session, case, difference(tally(case), before))
        if case.answer_working_days != days_before:
            if days_before is not None:
                await tallies.add_days(session, case, days_before, -1)
            if case.answer_working_days is not None:
                await tallies.add_days(session, case, case.answer_working_days, 1)
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
        if actor.is_citizen:  # the officers in charge must see it stop
            await notice_officers(
                session,
                case,
                "withdrawn",
                f"Người gửi đã rút yêu cầu {codes.display(case.code)}; hồ sơ dừng xử lý.",
            )
        if case.contact_id is not None and not case.anonymous and not actor.is_citizen:
            session.add(
                Delivery(
                    contact_id=case.contact_id,
                    kind=DeliveryKind.CASE_UPDATE,
                    case_id=case.id,
                    dedupe_key=f"case-event:{event.id}",
                    text=citizen_update_text(
                        case.code, target, case.due_at, decision.note, kind=case.kind
                    ),
                    buttons=rating_buttons(case.code) if target is Status.ANSWERED else [],
                    card=case_update_card(
                        case.code, target, case.due_at, decision.note, kind=case.kind
                    ).as_json(),
                    next_attempt_at=now,
                    created_at=now,
                )
            )
        return await case_view(session, case, with_events=True)


async def withdraw_for_contact(db: Database, code_text: str, contact_id: int) -> CaseView:
    """The citizen who filed a case withdraws it (audited, officers noticed); for anyone
    else the case does not exist, as with an unknown code."""
    async with db.session() as session:
        case = await case_by_code(session, code_text)
        if case is None or case.contact_id != contact_id:
            raise NotFound("Không tìm thấy hồ sơ.", code="case_not_found")
        actor = Actor.citizen(contact_id, case.agency_id)
    return await transition_case(
        db, code_text, Status.WITHDRAWN, actor, note="Người gửi rút yêu cầu qua trò chuyện."
    )


async def assign_case(db: Database, code_text: str, username: str, actor: Actor) -> CaseView:
    """Give a case to an officer of the same agency (audited)."""
    require(actor, Action.ASSIGN_CASES)
    async with db.session() as session:
        case = await case_by_code(session, code_text, lock=True)
        if case is None:
            raise NotFound("Không tìm thấy hồ sơ.", code="case_not_found")
        if not actor.may_see(case.agency_id):
            raise Forbidden("Hồ sơ thuộc cơ quan khác.", code="other_agency")
        user = await by_username(session, username)
        if user is None or (user.agency_id != case.agency_id and user.role is not Role.ADMIN):
            raise InvalidInput("Không có cán bộ này trong cơ quan.", code="unknown_officer")
        case.assigned_to_id = user.id
        case.updated_at = utcnow()
        session.add(
            CaseEvent(case_id=case.id, actor=actor.name, action="assign", note=user.username)
        )
        await session.flush()
        return await case_view(session, case, with_events=True)
