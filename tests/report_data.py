"""A generated data set for the report tests: a few hundred cases received across Tết 2026
and month boundaries (some in the hour around Vietnam midnight), taken through the real case
services (file, decide, extend, answer, withdraw) at chosen instants; ratings, handoffs,
question gaps and broadcasts beside them. Everything is recorded here as plain data, so the
test computes the right figures from these records, not from the product."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from bot.domain.actors import Actor
from bot.domain.cases import Kind, Status
from bot.domain.delivery import DeliveryKind, DeliveryStatus
from bot.domain.handoff import HandoffReason, HandoffStatus
from bot.domain.roles import Role
from bot.services.cases import CaseDraft, file_case, transition_case
from bot.services.ratings import rate_case
from bot.store.db import Database
from bot.store.models import (
    Agency,
    Broadcast,
    Contact,
    Conversation,
    Delivery,
    Explanation,
    Handoff,
    QuestionGap,
)

DEMO = "ubnd-phuong-demo"  # the primary agency: cases are filed there
OTHER = "ubnd-xa-bao-cao"
# Two provinces and three of their communes each (vietnam-provinces codes).
PLACES = {"p:1": ["w:70", "w:73", "w:4"], "p:4": ["w:1273", "w:1279", "w:1288"]}
TOPICS = ["dat-dai", "giao-thong", ""]
CHANNELS = ["telegram", "zalo", "web", None]  # None: filed without a chat
GAP_TEXTS = ["Thủ tục cấp sổ đỏ thế nào?", "Phí đỗ xe là bao nhiêu?", "Giờ làm việc của xã?"]
ADMIN = Actor(name="report-test", role=Role.ADMIN)
WINDOW_START = datetime(2026, 1, 2, 0, 0, tzinfo=UTC)
WINDOW_DAYS = 88  # to the end of March 2026


@dataclass
class GenCase:
    """One generated case and everything that happened to it."""

    kind: Kind
    agency: str
    channel: str | None
    province: str  # "" without a place
    locality: str  # the stored code: a commune's, the province's itself, or ""
    topic: str
    received_at: datetime
    events: list[tuple[Status, datetime]] = field(default_factory=list)
    rating: tuple[int, str] | None = None
    code: str = ""

    @property
    def status(self) -> Status:
        """Where it stands after its events."""
        return self.events[-1][0] if self.events else Status.RECEIVED


@dataclass
class GenHandoff:
    agency: str
    requested_at: datetime
    first_response_at: datetime | None
    ended_at: datetime | None


@dataclass
class GenGap:
    text: str
    locality: str
    created_at: datetime


@dataclass
class GenBroadcast:
    agency: str
    created_at: datetime
    deliveries: list[tuple[DeliveryStatus, bool, bool]]  # status, received, seen


@dataclass
class DataSet:
    cases: list[GenCase] = field(default_factory=list)
    handoffs: list[GenHandoff] = field(default_factory=list)
    gaps: list[GenGap] = field(default_factory=list)
    broadcasts: list[GenBroadcast] = field(default_factory=list)


def _received(rnd: random.Random) -> datetime:
    """A receipt time: mostly anywhere in the window, often just around a month's end in
    Vietnam (17:00 UTC) or just before Tết."""
    pick = rnd.random()
    if pick < 0.25:  # within an hour of Vietnam midnight at a month's end
        day = rnd.choice([datetime(2026, 1, 31, tzinfo=UTC), datetime(2026, 2, 28, tzinfo=UTC)])
        return day + timedelta(hours=17, minutes=rnd.randint(-60, 59))
    if pick < 0.4:  # the week before Tết (Tết: 16 to 20 February 2026)
        return datetime(2026, 2, 9, 1, tzinfo=UTC) + timedelta(minutes=rnd.randint(0, 7 * 1440))
    return WINDOW_START + timedelta(minutes=rnd.randint(0, WINDOW_DAYS * 1440))


def _later(rnd: random.Random, after: datetime, max_days: int) -> datetime:
    return after + timedelta(minutes=rnd.randint(30, max_days * 1440))


def _plan(rnd: random.Random, kind: Kind, received: datetime) -> list[tuple[Status, datetime]]:
    """What happens to a case, in order."""
    events: list[tuple[Status, datetime]] = []
    at = received
    if kind is Kind.EXPLANATION:
        fate = rnd.random()
        if fate < 0.05:
            return [(Status.WITHDRAWN, _later(rnd, at, 4))]
        if fate < 0.1:
            return []  # never decided
        at = _later(rnd, at, 10)  # some after the 5 working days
        if fate < 0.2:
            return [(Status.REFUSED, at)]
        events.append((Status.ACCEPTED, at))
    elif rnd.random() < 0.08:  # a petition refused: its answer deadline no longer runs
        return [(Status.REFUSED, _later(rnd, at, 10))]
    fate = rnd.random()
    if fate < 0.06:
        return [*events, (Status.WITHDRAWN, _later(rnd, at, 10))]
    extend = rnd.random() < 0.25
    # A petition has no acceptance: it is worked on (in progress) before it can be extended.
    if rnd.random() < 0.5 or (extend and kind is Kind.PETITION):
        at = _later(rnd, at, 3)
        events.append((Status.IN_PROGRESS, at))
    if extend:
        at = _later(rnd, at, 12)
        events.append((Status.EXTENDED, at))
    if fate < 0.15:
        return events  # never answered
    events.append((Status.ANSWERED, _later(rnd, at, 16)))
    return events


async def generate(db: Database, seed: int = 16, count: int = 320) -> DataSet:
    """Make the data set in `db` (with the demo agency loaded) and return its records."""
    rnd = random.Random(seed)
    data = DataSet()
    async with db.session() as session:
        session.add(Agency(slug=OTHER, name="UBND xã Báo Cáo"))
        contacts: dict[str, int] = {}
        for channel in CHANNELS:
            if channel is not None:
                contact = Contact(channel=channel, channel_user_id=f"report-{channel}")
                session.add(contact)
                await session.flush()
                contacts[channel] = contact.id
    for _ in range(count):
        kind = Kind.EXPLANATION if rnd.random() < 0.6 else Kind.PETITION
        channel = rnd.choice(CHANNELS)
        province = rnd.choice([*PLACES, ""])
        locality = ""
        if province:
            locality = province if rnd.random() < 0.2 else rnd.choice(PLACES[province])
        received = _received(rnd)
        case = GenCase(
            kind=kind,
            agency=OTHER if rnd.random() < 0.25 else DEMO,
            channel=channel,
            province=province,
            locality=locality,
            topic=rnd.choice(TOPICS),
            received_at=received,
            events=_plan(rnd, kind, received),
        )
        await _file(db, case, contacts.get(channel) if channel else None)
        if case.status is Status.ANSWERED and channel is not None and rnd.random() < 0.7:
            score = rnd.randint(1, 5)
            comment = rnd.choice(["", "", "Cảm ơn cán bộ.", "Trả lời chậm."])
            assert await rate_case(db, case.code, contacts[channel], score, comment)
            if rnd.random() < 0.3:  # rated again: the later score replaces it, the comment stays
                score = rnd.randint(1, 5)
                assert await rate_case(db, case.code, contacts[channel], score)
            case.rating = (score, comment)
        data.cases.append(case)
    await _recent(db, rnd, data, contacts)
    await _beside_cases(db, rnd, data)
    return data


async def _recent(
    db: Database, rnd: random.Random, data: DataSet, contacts: dict[str, int]
) -> None:
    """A few cases received in the last day, whose deadlines have not come yet: out of the
    on-time rates until they do."""
    now = datetime.now(UTC)
    for n in range(10):
        kind = Kind.EXPLANATION if n % 2 else Kind.PETITION
        received = now - timedelta(hours=rnd.randint(2, 24))
        events = [(Status.ACCEPTED, received + timedelta(minutes=30))] if n % 4 == 1 else []
        case = GenCase(kind, DEMO, "web", "", "", "", received, events)
        await _file(db, case, contacts["web"])
        data.cases.append(case)


async def _file(db: Database, case: GenCase, contact_id: int | None) -> None:
    async with db.session() as session:
        agency = await session.execute(select(Agency.id).where(Agency.slug == case.agency))
        agency_id = agency.scalar_one()
    filed = await file_case(
        db,
        CaseDraft(
            kind=case.kind,
            content="Nội dung phản ánh, kiến nghị để kiểm tra báo cáo.",
            requester_name="Nguyễn Văn Báo",
            consent=True,
            locality=case.locality,
            topic=case.topic,
        ),
        contact_id,
        now=case.received_at,
        agency_id=agency_id,
    )
    case.code = filed.code
    for status, at in case.events:
        note = "" if status in (Status.ACCEPTED, Status.IN_PROGRESS, Status.WITHDRAWN) else "Lý do."
        await transition_case(db, case.code, status, ADMIN, note, now=at)


async def _beside_cases(db: Database, rnd: random.Random, data: DataSet) -> None:
    """Handoffs, question gaps and broadcasts of the same months."""
    async with db.session() as session:
        agencies = {
            slug: (await session.execute(select(Agency.id).where(Agency.slug == slug))).scalar_one()
            for slug in (DEMO, OTHER)
        }
        contact = Contact(channel="web", channel_user_id="report-handoffs")
        session.add(contact)
        await session.flush()
        for _ in range(40):
            requested = _received(rnd)
            first = (
                requested + timedelta(seconds=rnd.randint(5, 3600)) if rnd.random() < 0.8 else None
            )
            ended = (
                (first or requested) + timedelta(seconds=rnd.randint(60, 7200))
                if rnd.random() < 0.7
                else None
            )
            handoff = GenHandoff(rnd.choice([DEMO, OTHER]), requested, first, ended)
            conversation = Conversation(contact_id=contact.id)
            session.add(conversation)
            await session.flush()
            session.add(
                Handoff(
                    conversation_id=conversation.id,
                    agency_id=agencies[handoff.agency],
                    status=HandoffStatus.CLOSED if ended else HandoffStatus.WAITING,
                    reason=HandoffReason.ASKED,
                    requested_at=requested,
                    first_response_at=first,
                    ended_at=ended,
                )
            )
            data.handoffs.append(handoff)
        for _ in range(60):
            text = rnd.choice(GAP_TEXTS)
            text = rnd.choice([text, text.upper(), f"  {text} "])
            gap = GenGap(text, rnd.choice(["", "w:70", "w:1273", "p:4"]), _received(rnd))
            session.add(
                QuestionGap(
                    text=gap.text,
                    reason="unanswered",
                    locality=gap.locality,
                    created_at=gap.created_at,
                )
            )
            data.gaps.append(gap)
        for n in range(6):
            slug = rnd.choice([DEMO, OTHER])
            explanation = Explanation(
                agency_id=agencies[slug], slug=f"bao-cao-{n}", title=f"Tin {n}"
            )
            session.add(explanation)
            await session.flush()
            created = _received(rnd)
            broadcast = Broadcast(
                explanation_id=explanation.id, created_at=created, planned_at=created
            )
            session.add(broadcast)
            await session.flush()
            rows = [
                (
                    rnd.choice(list(DeliveryStatus)),
                    rnd.random() < 0.5,
                    rnd.random() < 0.3,
                )
                for _ in range(rnd.randint(0, 25))
            ]
            ids = []
            for status, got, seen in rows:
                delivery = Delivery(
                    contact_id=contact.id,
                    kind=DeliveryKind.BROADCAST,
                    broadcast_id=broadcast.id,
                    text="tin",
                    status=status,
                    received_at=created if got else None,
                    seen_at=created if seen else None,
                )
                session.add(delivery)
                await session.flush()
                ids.append(delivery.id)
            if ids:  # planned rows, already looked at: the running dispatcher leaves them
                await session.execute(
                    update(Delivery).where(Delivery.id.in_(ids)).values(next_attempt_at=None)
                )
                broadcast.delivery_ids_after = min(ids) - 1
                broadcast.delivery_ids_upto = broadcast.delivery_ids_claimed = max(ids)
            data.broadcasts.append(GenBroadcast(slug, created, rows))
