"""A citizen's requests about their own data, from chat: what is stored ("xem dữ liệu của
tôi") and erasing it ("xóa dữ liệu của tôi").

Erasing keeps what the agency must keep: a case stays, with its deadlines and audit trail,
but loses the citizen's name and contact, the phone and ID numbers in its text, and its
link to the contact. The engine forgets the dialogue after the turn (bot/services/privacy.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.actors import Actor
from bot.domain.privacy import CaseHeld, DataHeld, Erased, ErasureReason, redact_identifiers
from bot.errors import NotFound
from bot.services.privacy import retention_days
from bot.services.subscriptions import locality_label
from bot.store import contacts
from bot.store import privacy as store
from bot.store.db import Database
from bot.store.models import Case, CaseEvent, Contact, Conversation, utcnow

ANONYMISED_NOTE = (
    "Người gửi đã yêu cầu xóa dữ liệu cá nhân: hồ sơ được giữ, đã bỏ họ tên, thông tin liên hệ "
    "và các số điện thoại, số giấy tờ trong nội dung."
)


async def _own_conversation(
    session: AsyncSession, contact_id: int, sender: str
) -> tuple[Conversation, Contact]:
    """The conversation the engine talks in, if it is this contact's (both ids must agree:
    the sender id is random and only the gateway knows it)."""
    conversation = await contacts.conversation_for_sender(session, sender)
    contact = await session.get(Contact, contact_id)
    if conversation is None or contact is None or conversation.contact_id != contact_id:
        raise NotFound("Không tìm thấy dữ liệu của anh/chị.", code="contact_not_found")
    return conversation, contact


def _personal_fields(case: Case) -> tuple[str, ...]:
    fields = []
    if case.requester_name:
        fields.append("họ tên")
    if case.requester_contact:
        fields.append("thông tin liên hệ")
    return tuple(fields)


async def data_held(db: Database, contact_id: int, sender: str) -> DataHeld:
    """What is stored about the contact, without the values themselves."""
    days = retention_days(db)
    async with db.session() as session:
        _, contact = await _own_conversation(session, contact_id, sender)
        subscriptions = await store.subscriptions_of(session, contact_id)
        cases = await store.cases_of(session, contact_id)
        messages, oldest = await store.readable_messages(session, contact_id)
        return DataHeld(
            channel=contact.channel,
            display_name=contact.display_name,
            subscriptions=tuple(f"{name} – {locality_label(code)}" for name, code in subscriptions),
            cases=tuple(CaseHeld(c.code, c.kind, c.status, _personal_fields(c)) for c in cases),
            messages=messages,
            retention_days=days,
            oldest_erased_on=_plus_days(oldest, days),
        )


def _plus_days(at: datetime | None, days: int) -> datetime | None:
    return None if at is None else at + timedelta(days=days)


def _anonymise(case: Case, names: tuple[str, ...]) -> None:
    """The case without its citizen: no name, contact or link; numbers out of its text."""
    names = (case.requester_name, *names)
    case.subject = redact_identifiers(case.subject, names)
    case.content = redact_identifiers(case.content, names)
    case.target = redact_identifiers(case.target, names)
    case.location = redact_identifiers(case.location, names)
    case.requester_name = ""
    case.requester_contact = ""
    case.anonymous = True
    case.contact_id = None


async def erase_contact(db: Database, contact_id: int, sender: str) -> Erased:
    """Erase everything stored about the contact in one transaction: message texts,
    subscriptions, display name, the outbox's copies; cases are anonymised (kept for the
    agency's duties) and the engine's dialogue state is deleted after this turn."""
    now = utcnow()
    async with db.session() as session:
        conversation, contact = await _own_conversation(session, contact_id, sender)
        conversations = await store.conversation_ids(session, contact_id)
        messages = await store.redact_conversations(session, conversations, now)
        await store.redact_finished_deliveries(session, contact_id)
        subscriptions = await store.delete_subscriptions(session, contact_id)
        names = (contact.display_name,)
        contact.display_name = ""
        cases = list(await store.cases_of(session, contact_id))
        for case in cases:
            _anonymise(case, names)
            event = CaseEvent(case_id=case.id, actor="citizen", action="anonymised")
            event.note = ANONYMISED_NOTE
            session.add(event)
        citizen = Actor.citizen(contact_id, 0).name  # its audit name (agency plays no part)
        await store.unlink_case_events(session, [case.id for case in cases], citizen)
        for rating in await store.ratings_of(session, contact_id):
            rating.contact_id = None
            rating.comment = redact_identifiers(rating.comment, names)
        reason = ErasureReason.ERASE_REQUEST
        for other in conversations:
            if other != conversation.id:  # no turn runs there: forget it now
                old = await session.get(Conversation, other)
                assert old is not None
                if await store.retire_sender(session, other, old.engine_sender):
                    store.add_erasure(session, other, old.engine_sender, reason)
        store.add_erasure(session, conversation.id, sender, reason)  # after this turn
    return Erased(messages, subscriptions, bool(names[0]), tuple(case.code for case in cases))
