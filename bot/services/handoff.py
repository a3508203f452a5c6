"""Handing conversations over to people: the citizen's request (from the actions), and the
operator's side — the queue, claims, replies, return to the bot, closing, opening a case.

Within working hours a request puts the conversation in `operator` mode at once: the bot
stays silent and the message flow keeps every citizen message for the console. Outside
them the request waits in the queue and the bot goes on helping until an operator claims
it. Whatever an operator says reaches the citizen's channel through the outbox (its
limits, retries and outcomes); the web chat, which polls, has it at once.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import structlog
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.channels import ChannelRegistry
from bot.domain import handoff as texts
from bot.domain.actors import Actor
from bot.domain.case_texts import filed_text
from bot.domain.handoff import OPEN, HandoffPolicy, HandoffReason, HandoffStatus
from bot.domain.messages import ConversationMode, Direction, MessageStatus
from bot.engine import EngineClient
from bot.errors import Conflict, Forbidden, InvalidInput, NotFound
from bot.services.cases import CaseDraft, FiledCase, file_case
from bot.services.handoff_views import HandoffView, Line, author, case_draft, view
from bot.store import contacts, handoffs, outbox
from bot.store.agencies import primary_agency
from bot.store.db import Database
from bot.store.models import Conversation, Handoff, Message, User, utcnow

log = structlog.get_logger(__name__)

MAX_REPLY_CHARS = 2000
TRANSCRIPT_LIMIT = 200


@dataclass(frozen=True, slots=True)
class Offer:
    """What the bot says before handing over, and whether a request is already open."""

    text: str
    open_now: bool
    already: bool


# -- the citizen's side (called by actions/handoff.py) --------------------------------------


async def _conversation(session: AsyncSession, engine_sender: str) -> Conversation:
    conversation = await contacts.conversation_for_sender(session, engine_sender)
    if conversation is None:
        raise NotFound("Không tìm thấy cuộc trò chuyện.", code="conversation_not_found")
    return conversation


async def offer(db: Database, engine_sender: str, policy: HandoffPolicy, now: datetime) -> Offer:
    """The question before handing over, true to the agency's hours and with its contact."""
    async with db.session(read_only=True) as session:
        conversation = await _conversation(session, engine_sender)
        if await handoffs.open_for_conversation(session, conversation.id) is not None:
            return Offer(texts.already_text(), open_now=True, already=True)
        agency = await primary_agency(session)
        hours = policy.hours_of(agency.office_hours)
        open_now = hours.is_open(now)
        text = texts.offer_text(open_now, hours.next_opening(now), now, agency.contact)
        return Offer(text, open_now=open_now, already=False)


async def request(
    db: Database, engine_sender: str, reason: HandoffReason, policy: HandoffPolicy, now: datetime
) -> str:
    """Put the conversation in the agency's queue; what the citizen is told."""
    async with db.session() as session:
        conversation = await _conversation(session, engine_sender)
        if await handoffs.open_for_conversation(session, conversation.id) is not None:
            return texts.already_text()
        agency = await primary_agency(session)
        hours = policy.hours_of(agency.office_hours)
        handoff = Handoff(
            conversation_id=conversation.id,
            agency_id=agency.id,
            reason=reason,
            requested_at=now,
            asked_in_id=await handoffs.newest_inbound(session, conversation.id),
        )
        try:
            async with session.begin_nested():  # one open request per conversation (index)
                session.add(handoff)
        except IntegrityError:
            return texts.already_text()
        log.info("handoff_requested", handoff_id=handoff.id, reason=reason.value)
        if not hours.is_open(now):  # the bot goes on helping until someone claims it
            return texts.waiting_text(hours.next_opening(now), now)
        conversation.mode = ConversationMode.OPERATOR
        position = await handoffs.waiting_before(session, handoff) + 1
        return texts.queued_text(position, policy.expected_minutes)


# -- the operator's side -------------------------------------------------------------------


def _scope(actor: Actor) -> int | None:
    return None if actor.sees_every_agency else actor.agency_id


async def queue(db: Database, actor: Actor, now: datetime | None = None) -> list[HandoffView]:
    """The open handoffs the actor's agency must answer (every agency's for an admin);
    claims whose operator left are back in the queue first."""
    async with db.session() as session:
        await handoffs.release_expired(session, now or utcnow())
        return [view(row) for row in await handoffs.queue(session, _scope(actor))]


async def fingerprint(
    db: Database, actor: Actor, now: datetime | None = None
) -> tuple[object, ...]:
    """Changes whenever the actor's queue or one of its open conversations changes (a live
    console page re-renders then); one cheap read."""
    async with db.session(read_only=True) as session:
        return await handoffs.changes(session, _scope(actor), now or utcnow())


async def _load(session: AsyncSession, actor: Actor, handoff_id: int) -> Handoff:
    handoff = await session.get(Handoff, handoff_id)
    if handoff is None:
        raise NotFound("Không có cuộc trò chuyện này.", code="handoff_not_found")
    if not actor.may_see(handoff.agency_id):
        raise Forbidden("Cuộc trò chuyện thuộc cơ quan khác.", code="other_agency")
    return handoff


async def details(
    db: Database, actor: Actor, handoff_id: int, engine: EngineClient | None = None
) -> tuple[HandoffView, list[Line]]:
    """One handoff and its conversation's transcript (oldest first); with the engine, each
    citizen message carries the intent the bot understood (read from its tracker)."""
    async with db.session(read_only=True) as session:
        handoff = await _load(session, actor, handoff_id)
        shown = await _view_of(session, handoff.id)
        conversation = await session.get(Conversation, handoff.conversation_id)
        assert conversation is not None
        sender = conversation.engine_sender
        lines = [
            Line(
                id=message.id,
                at=message.created_at,
                direction=message.direction,
                author=author(message, operator),
                text=message.text,
                kind=message.kind,
                status=message.status,
                attachments=list(message.attachments or []),
            )
            for message, operator in await handoffs.transcript(
                session, handoff.conversation_id, TRANSCRIPT_LIMIT
            )
        ]
    if engine is not None:
        intents = await engine.understood(sender)
        lines = [replace(line, intent=intents.get(line.id)) for line in lines]
    return shown, lines


async def _tell(
    session: AsyncSession,
    channels: ChannelRegistry,
    conversation_id: int,
    text: str,
    kind: str,
    sent_by: int | None,
    now: datetime,
) -> Message:
    """Store a message to the citizen and hand it to the outbox (the web chat, which
    polls, has it as soon as it is stored)."""
    conversation, contact = await contacts.conversation_with_contact(session, conversation_id)
    pushes = channels.pushes(contact.channel)
    message = Message(
        conversation_id=conversation.id,
        direction=Direction.OUT,
        channel=contact.channel,
        kind=kind,
        text=text,
        buttons=[],
        status=MessageStatus.QUEUED if pushes else MessageStatus.SENT,
        sent_by_id=sent_by,
        created_at=now,
    )
    session.add(message)
    await session.flush()
    if pushes:
        outbox.queue_reply(session, message, contact.id, now)
    conversation.updated_at = now
    return message


async def _user(session: AsyncSession, actor: Actor) -> User:
    user = await session.get(User, actor.user_id) if actor.user_id is not None else None
    if user is None:
        raise Forbidden("Cần đăng nhập bằng tài khoản cán bộ.", code="forbidden")
    return user


async def claim(
    db: Database,
    channels: ChannelRegistry,
    actor: Actor,
    handoff_id: int,
    policy: HandoffPolicy,
    now: datetime | None = None,
) -> HandoffView:
    """Take a conversation: refused (409 `already_claimed`) while another operator holds
    it; the bot goes silent and the citizen is told who answers."""
    now = now or utcnow()
    until = now + timedelta(seconds=policy.lease_seconds)
    async with db.session() as session:
        handoff = await _load(session, actor, handoff_id)
        user = await _user(session, actor)
        if handoff.status not in OPEN:
            raise Conflict("Cuộc trò chuyện đã kết thúc.", code="handoff_ended")
        mine = handoff.status is HandoffStatus.CLAIMED and handoff.claimed_by_id == user.id
        if not await handoffs.take(session, handoff.id, user.id, until, now):
            raise Conflict("Cán bộ khác đang trả lời cuộc trò chuyện này.", code="already_claimed")
        conversation = await session.get(Conversation, handoff.conversation_id)
        assert conversation is not None
        conversation.mode = ConversationMode.OPERATOR
        if not mine:
            text = texts.claimed_text(user.display_name)
            await _tell(session, channels, conversation.id, text, "handoff", user.id, now)
            log.info("handoff_claimed", handoff_id=handoff.id, user_id=user.id)
    return await _one(db, handoff_id)


async def _view_of(session: AsyncSession, handoff_id: int) -> HandoffView:
    row = await handoffs.one(session, handoff_id)
    assert row is not None, handoff_id
    return view(row)


async def _one(db: Database, handoff_id: int) -> HandoffView:
    async with db.session(read_only=True) as session:
        return await _view_of(session, handoff_id)


async def renew(
    db: Database, actor: Actor, policy: HandoffPolicy, now: datetime | None = None
) -> int:
    """Keep the operator's claims while their console is open; how many were renewed."""
    now = now or utcnow()
    if actor.user_id is None:
        return 0
    async with db.session() as session:
        until = now + timedelta(seconds=policy.lease_seconds)
        return await handoffs.renew(session, actor.user_id, until, now)


async def _held(
    session: AsyncSession, actor: Actor, handoff_id: int, now: datetime, policy: HandoffPolicy
) -> Handoff:
    """The handoff, if the actor holds the claim (else 409 `not_claimed`). A lease that ran
    out while nobody else took the conversation is taken again, in the same one UPDATE."""
    handoff = await _load(session, actor, handoff_id)
    if handoff.status not in OPEN:
        raise Conflict("Cuộc trò chuyện đã kết thúc.", code="handoff_ended")
    holder = handoff.claimed_by_id
    if handoff.status is not HandoffStatus.CLAIMED or holder is None or holder != actor.user_id:
        raise Conflict("Hãy nhận cuộc trò chuyện trước khi trả lời.", code="not_claimed")
    until = now + timedelta(seconds=policy.lease_seconds)
    if not await handoffs.take(session, handoff.id, holder, until, now):
        raise Conflict("Cán bộ khác đã nhận cuộc trò chuyện này.", code="not_claimed")
    await session.refresh(handoff)
    return handoff


async def reply(
    db: Database,
    channels: ChannelRegistry,
    actor: Actor,
    handoff_id: int,
    text: str,
    policy: HandoffPolicy,
    now: datetime | None = None,
) -> Line:
    """An operator's message to the citizen (the first one sets the first-response time)."""
    now = now or utcnow()
    text = text.strip()
    if not text:
        raise InvalidInput("Tin nhắn trống.", code="empty_text")
    if len(text) > MAX_REPLY_CHARS:
        raise InvalidInput(
            f"Tin nhắn dài quá {MAX_REPLY_CHARS} ký tự; hãy chia thành nhiều tin.",
            code="text_too_long",
        )
    async with db.session() as session:
        handoff = await _held(session, actor, handoff_id, now, policy)
        user = await _user(session, actor)
        message = await _tell(
            session, channels, handoff.conversation_id, text, "operator", user.id, now
        )
        handoff.first_response_at = handoff.first_response_at or now
        return Line(
            id=message.id,
            at=now,
            direction=Direction.OUT,
            author=f"operator:{user.display_name}",
            text=text,
            kind=message.kind,
            status=message.status,
            attachments=[],
        )


async def finish(
    db: Database,
    channels: ChannelRegistry,
    actor: Actor,
    handoff_id: int,
    status: HandoffStatus,
    policy: HandoffPolicy,
    now: datetime | None = None,
) -> HandoffView:
    """Return the conversation to the bot, or close it; the citizen is told which."""
    if status not in (HandoffStatus.RETURNED, HandoffStatus.CLOSED):
        raise InvalidInput("status must be returned or closed", code="invalid_status")
    now = now or utcnow()
    async with db.session() as session:
        handoff = await _load(session, actor, handoff_id)
        if handoff.status not in OPEN:
            raise Conflict("Cuộc trò chuyện đã kết thúc.", code="handoff_ended")
        # A waiting one may be ended by any operator of the agency (the citizen said they no
        # longer need anyone); a claimed one only by its holder, or an admin.
        if handoff.status is HandoffStatus.CLAIMED and not actor.sees_every_agency:
            await _held(session, actor, handoff_id, now, policy)
        handoff.status = status
        handoff.ended_at = now
        handoff.ended_by_id = actor.user_id
        handoff.lease_until = None
        conversation = await session.get(Conversation, handoff.conversation_id)
        assert conversation is not None
        conversation.mode = ConversationMode.BOT
        said = texts.returned_text() if status is HandoffStatus.RETURNED else texts.closed_text()
        await _tell(session, channels, conversation.id, said, "handoff", actor.user_id, now)
        log.info("handoff_ended", handoff_id=handoff.id, status=status.value)
    return await _one(db, handoff_id)


async def open_case(
    db: Database,
    channels: ChannelRegistry,
    actor: Actor,
    handoff_id: int,
    draft: CaseDraft,
    policy: HandoffPolicy,
    petition_days: int,
) -> FiledCase:
    """File a case for the citizen from the conversation (the operator holds it), with what
    the citizen attached in it since asking (the conversation's, not the caller's word). The
    case keeps the conversation's contact, so its updates reach the citizen's chat, and the
    citizen gets its code as after filing it themselves."""
    now = utcnow()
    async with db.session() as session:
        handoff = await _held(session, actor, handoff_id, now, policy)
        conversation = await session.get(Conversation, handoff.conversation_id)
        assert conversation is not None
        contact_id = conversation.contact_id
    shown, lines = await details(db, actor, handoff_id)
    attachments = tuple(case_draft(lines, shown.asked_in_id)["attachments"])
    filed = await file_case(
        db,
        replace(draft, attachments=attachments),
        contact_id,
        petition_days,
        now=now,
        filed_by=f"user:{actor.name}",
    )
    async with db.session() as session:
        handoff = await _load(session, actor, handoff_id)
        handoff.case_id = filed.id
        said = filed_text(filed.code, filed.kind, filed.due_at, draft.anonymous)
        await _tell(session, channels, handoff.conversation_id, said, "case", actor.user_id, now)
    log.info("handoff_case_opened", handoff_id=handoff_id)
    return filed
