"""Agency staff accounts and API tokens (stored as SHA-256 hashes, shown once, expiring after
a set number of days, revocable)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.actors import Actor
from bot.domain.roles import Role
from bot.errors import InvalidInput, NotFound, Unauthorized
from bot.store.db import Database
from bot.store.models import Agency, User, utcnow
from bot.store.users import by_username

TOKEN_TTL_DAYS = 90  # the default of the `token_ttl_days` setting


def hash_token(token: str) -> str:
    """Tokens are random (no need for a slow hash); only the hash is stored."""
    return hashlib.sha256(token.encode()).hexdigest()


def _new_token(user: User, ttl_days: int) -> str:
    """Give the user a fresh token valid for `ttl_days` (the previous one stops working)."""
    token = "gt_" + secrets.token_urlsafe(32)
    user.api_token_hash = hash_token(token)
    user.token_expires_at = utcnow() + timedelta(days=ttl_days)
    return token


def _role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError as exc:
        names = ", ".join(r.value for r in Role)
        raise InvalidInput(f"role must be one of {names}", code="invalid_role") from exc


async def create_user(
    db: Database,
    username: str,
    role: Role | str,
    agency_slug: str | None,
    display_name: str = "",
    token_ttl_days: int = TOKEN_TTL_DAYS,
) -> str:
    """Create a staff account and return its new API token (the only time it is visible)."""
    role = _role(role)
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
        if await by_username(session, username) is not None:
            raise InvalidInput(f"user {username} exists", code="user_exists")
        user = User(
            username=username, display_name=display_name or username, role=role, agency_id=agency_id
        )
        token = _new_token(user, token_ttl_days)
        session.add(user)
    return token


async def named_user(session: AsyncSession, username: str) -> User:
    """The account with this username (404 `user_not_found` when there is none)."""
    user = await by_username(session, username)
    if user is None:
        raise NotFound(f"Không có tài khoản {username}.", code="user_not_found")
    return user


async def issue_token(db: Database, username: str, token_ttl_days: int = TOKEN_TTL_DAYS) -> str:
    """A fresh API token for an existing user (shown once); the old one stops working."""
    async with db.session() as session:
        return _new_token(await named_user(session, username), token_ttl_days)


async def revoke_token(db: Database, username: str) -> None:
    """Take a user's API token away (a leaked token, someone who left): 401 from now on."""
    async with db.session() as session:
        user = await named_user(session, username)
        user.api_token_hash = None
        user.token_expires_at = None


async def actor_for_token(db: Database, token: str, now: datetime | None = None) -> Actor:
    """The staff member a bearer token belongs to, while the token is valid."""
    if not token:
        raise Unauthorized("Thiếu mã truy cập (Authorization: Bearer ...).", code="unauthorized")
    async with db.session() as session:
        user = (
            await session.execute(select(User).where(User.api_token_hash == hash_token(token)))
        ).scalar_one_or_none()
    if user is None:
        raise Unauthorized("Mã truy cập không hợp lệ.", code="unauthorized")
    if user.token_expires_at is None or user.token_expires_at <= (now or utcnow()):
        raise Unauthorized(
            "Mã truy cập đã hết hạn; xin quản trị viên cấp mã mới.", code="token_expired"
        )
    return Actor(name=user.username, role=user.role, user_id=user.id, agency_id=user.agency_id)


@dataclass(frozen=True, slots=True)
class StaffAccount:
    """A staff account as the console's account list shows it (no secret, no hash)."""

    username: str
    display_name: str
    role: Role
    agency: str
    agency_id: int | None
    has_password: bool
    disabled: bool


async def list_users(db: Database, agency_id: int | None = None) -> list[StaffAccount]:
    """Staff accounts by username: all of them, or one agency's (and the admins of none)."""
    query = select(User, Agency.name).outerjoin(Agency, Agency.id == User.agency_id)
    if agency_id is not None:
        query = query.where(User.agency_id == agency_id)
    async with db.session() as session:
        rows = (await session.execute(query.order_by(User.username))).all()
    return [
        StaffAccount(
            username=user.username,
            display_name=user.display_name or user.username,
            role=user.role,
            agency=agency or "",
            agency_id=user.agency_id,
            has_password=user.password_hash is not None,
            disabled=user.disabled_at is not None,
        )
        for user, agency in rows
    ]
