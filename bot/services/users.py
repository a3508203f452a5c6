"""Agency staff accounts and API tokens (stored as SHA-256 hashes, shown once)."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select

from bot.domain.actors import Actor
from bot.domain.roles import Role
from bot.errors import InvalidInput, Unauthorized
from bot.store.db import Database
from bot.store.models import Agency, User


def hash_token(token: str) -> str:
    """Tokens are random (no need for a slow hash); only the hash is stored."""
    return hashlib.sha256(token.encode()).hexdigest()


def _role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError as exc:
        names = ", ".join(r.value for r in Role)
        raise InvalidInput(f"role must be one of {names}", code="invalid_role") from exc


async def create_user(
    db: Database, username: str, role: Role | str, agency_slug: str | None, display_name: str = ""
) -> str:
    """Create a staff account and return its new API token (the only time it is visible)."""
    role = _role(role)
    token = "gt_" + secrets.token_urlsafe(32)
    async with db.session() as session:
        agency_id = None
        if agency_slug:
            agency = (
                await session.execute(select(Agency).where(Agency.slug == agency_slug))
            ).scalar_one_or_none()
            if agency is None:
                raise InvalidInput(f"unknown agency {agency_slug}", code="unknown_agency")
            agency_id = agency.id
        elif role is not Role.ADMIN:
            raise InvalidInput("officers and operators belong to an agency", code="agency_required")
        if (await session.execute(select(User).where(User.username == username))).first():
            raise InvalidInput(f"user {username} exists", code="user_exists")
        session.add(
            User(
                username=username,
                display_name=display_name or username,
                role=role,
                agency_id=agency_id,
                api_token_hash=hash_token(token),
            )
        )
    return token


async def actor_for_token(db: Database, token: str) -> Actor:
    """The staff member a bearer token belongs to."""
    if not token:
        raise Unauthorized("Thiếu mã truy cập (Authorization: Bearer ...).", code="unauthorized")
    async with db.session() as session:
        user = (
            await session.execute(select(User).where(User.api_token_hash == hash_token(token)))
        ).scalar_one_or_none()
    if user is None:
        raise Unauthorized("Mã truy cập không hợp lệ.", code="unauthorized")
    return Actor(name=user.username, role=user.role, user_id=user.id, agency_id=user.agency_id)
