"""Canned replies: answers operators insert and adapt (their agency's, and the deployment's
shared ones, which only an admin manages)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select

from bot.domain.actors import Actor
from bot.errors import Forbidden, NotFound
from bot.store.db import Database
from bot.store.models import CannedReply


@dataclass(frozen=True, slots=True)
class CannedView:
    """One prepared answer; `shared` ones serve every agency."""

    id: int
    title: str
    text: str
    shared: bool

    def as_json(self) -> dict[str, Any]:
        """The API's shape."""
        return {"id": self.id, "title": self.title, "text": self.text, "shared": self.shared}


def _view(row: CannedReply) -> CannedView:
    return CannedView(row.id, row.title, row.text, shared=row.agency_id is None)


async def for_actor(db: Database, actor: Actor) -> list[CannedView]:
    """The shared replies and the actor's agency's (every one for an admin), by title."""
    query = select(CannedReply).order_by(CannedReply.title, CannedReply.id)
    if not actor.sees_every_agency:
        query = query.where(
            or_(CannedReply.agency_id.is_(None), CannedReply.agency_id == actor.agency_id)
        )
    async with db.session(read_only=True) as session:
        return [_view(row) for row in (await session.execute(query)).scalars()]


async def add(db: Database, actor: Actor, title: str, text: str) -> CannedView:
    """A new reply for the actor's agency (an admin without an agency adds a shared one)."""
    async with db.session() as session:
        row = CannedReply(agency_id=actor.agency_id, title=title.strip(), text=text.strip())
        session.add(row)
        await session.flush()
        return _view(row)


async def remove(db: Database, actor: Actor, reply_id: int) -> None:
    """Delete one of the agency's replies (shared ones: admins only)."""
    async with db.session() as session:
        row = await session.get(CannedReply, reply_id)
        if row is None:
            raise NotFound("Không có câu trả lời mẫu này.", code="canned_reply_not_found")
        if row.agency_id is None and not actor.sees_every_agency:
            raise Forbidden("Chỉ quản trị sửa câu trả lời mẫu dùng chung.", code="forbidden")
        if row.agency_id is not None and not actor.may_see(row.agency_id):
            raise Forbidden("Câu trả lời mẫu thuộc cơ quan khác.", code="forbidden")
        await session.delete(row)
