"""Subscriptions from chat: a contact × topic × locality, stopped in one message."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.localities import COUNTRY, by_code
from bot.domain.subscriptions import SubscriptionStatus
from bot.errors import InvalidInput
from bot.store import contacts
from bot.store.db import Database
from bot.store.models import Contact, Subscription, Topic, utcnow


@dataclass(frozen=True, slots=True)
class TopicInfo:
    """A topic people can subscribe to."""

    slug: str
    name: str


async def topics(db: Database) -> list[TopicInfo]:
    """All topics, in the order they were created."""
    async with db.session() as session:
        rows = (await session.execute(select(Topic).order_by(Topic.id))).scalars().all()
        return [TopicInfo(t.slug, t.name) for t in rows]


def locality_label(code: str) -> str:
    """Vietnamese name of a stored locality code."""
    if code == COUNTRY:
        return "toàn quốc"
    loc = by_code(code)
    return loc.label if loc else code


async def subscribe(db: Database, contact_id: int, topic: str, locality: str) -> bool:
    """Start (or restart) a subscription; False when it was already active."""
    place = by_code(locality) if locality != COUNTRY else None
    if locality != COUNTRY and place is None:
        raise InvalidInput("Địa bàn không hợp lệ.", code="invalid_locality")
    province = f"p:{place.province_code}" if place is not None else COUNTRY
    async with db.session() as session:
        if (await session.execute(select(Topic).where(Topic.slug == topic))).first() is None:
            raise InvalidInput("Chủ đề không tồn tại.", code="invalid_topic")
        row = (
            await session.execute(
                select(Subscription).where(
                    Subscription.contact_id == contact_id,
                    Subscription.topic == topic,
                    Subscription.locality == locality,
                )
            )
        ).scalar_one_or_none()
        if row is None:
            session.add(
                Subscription(
                    contact_id=contact_id, topic=topic, locality=locality, province=province
                )
            )
            return True
        was_active = row.status == SubscriptionStatus.ACTIVE
        row.status, row.updated_at = SubscriptionStatus.ACTIVE, utcnow()
        return not was_active


async def unsubscribe(db: Database, contact_id: int, subscription_id: int | None = None) -> int:
    """Stop everything this contact receives, or only one of its subscriptions (another
    contact's id changes nothing); returns how many subscriptions ended."""
    query = update(Subscription).where(
        Subscription.contact_id == contact_id, Subscription.status != SubscriptionStatus.CANCELLED
    )
    if subscription_id is not None:
        query = query.where(Subscription.id == subscription_id)
    async with db.session() as session:
        result = await session.execute(
            query.values(status=SubscriptionStatus.CANCELLED, updated_at=utcnow())
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def active_for(db: Database, contact_id: int) -> list[tuple[int, str, str]]:
    """(id, topic name, locality label) of this contact's active subscriptions, oldest first
    (the numbers "bỏ 1", "bỏ 2" refer to this order)."""
    async with db.session() as session:
        rows = (
            await session.execute(
                select(Subscription.id, Subscription.locality, Topic.name)
                .join(Topic, Topic.slug == Subscription.topic)
                .where(
                    Subscription.contact_id == contact_id,
                    Subscription.status == SubscriptionStatus.ACTIVE,
                )
                .order_by(Subscription.id)
            )
        ).all()
    return [(sub_id, name, locality_label(locality)) for sub_id, locality, name in rows]


async def home_locality(db: Database, contact_id: int | None) -> str:
    """The place a contact told us about (their newest commune or province subscription),
    or "" when unknown; used to say where unanswered questions come from."""
    if contact_id is None:
        return ""
    async with db.session() as session:
        code = await session.scalar(
            select(Subscription.locality)
            .where(
                Subscription.contact_id == contact_id,
                Subscription.status != SubscriptionStatus.CANCELLED,
                Subscription.locality != COUNTRY,
            )
            .order_by(Subscription.id.desc())
            .limit(1)
        )
    return str(code or "")


async def set_reachable(session: AsyncSession, contact: Contact, reachable: bool) -> None:
    """Record whether the platform lets us reach a contact, pausing or resuming their
    subscriptions in the same transaction (blocked the bot, unfollowed, wrote again)."""
    if reachable == (contact.unreachable_at is None):
        return
    contact.unreachable_at = None if reachable else utcnow()
    paused, active = SubscriptionStatus.PAUSED, SubscriptionStatus.ACTIVE
    before, after = (paused, active) if reachable else (active, paused)
    await session.execute(
        update(Subscription)
        .where(Subscription.contact_id == contact.id, Subscription.status == before)
        .values(status=after, updated_at=utcnow())
    )


async def set_reachable_by_user(
    db: Database, channel: str, channel_user_id: str, reachable: bool
) -> None:
    """A platform's follow (reachable) or unfollow event for one of its users: a follow from
    someone new creates their contact (so later messages can reach them), an unfollow from
    someone we never knew changes nothing."""
    async with db.session() as session:
        contact = await contacts.find_contact(session, channel, channel_user_id)
        if contact is None:
            if reachable:
                await contacts.add_contact(session, channel, channel_user_id)
            return
        await set_reachable(session, contact, reachable)
