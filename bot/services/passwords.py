"""Console log-in: argon2 password hashes, set-password links (only their SHA-256 hash is
stored; valid 24 hours, used once), and the server-side check that ends sessions (password
changed, account disabled) on every request."""

from __future__ import annotations

import asyncio
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.actors import Actor
from bot.domain.roles import Role
from bot.errors import InvalidInput, NotFound, Unauthorized
from bot.services.users import create_user, hash_token, named_user, revoke_token
from bot.store.db import Database
from bot.store.models import User, utcnow
from bot.store.users import by_username

LINK_TTL = timedelta(hours=24)
MIN_LENGTH = 10
MAX_LENGTH = 256  # argon2 takes any length; a megabyte "password" is only a way to make us work
# One message for an unknown user, a wrong password, a disabled account or one with no
# password yet: the log-in page must not tell which usernames exist.
WRONG = "Tên đăng nhập hoặc mật khẩu không đúng."
LINK_GONE = (
    "Liên kết đặt mật khẩu không hợp lệ, đã dùng hoặc đã hết hạn; "
    "xin quản trị viên cấp liên kết mới."
)

# RFC 9106's second recommended profile (argon2-cffi's default): a change of these parameters
# in a later release rehashes each password at its next log-in.
_HASHER = PasswordHasher()
# Verified when the username is unknown, so that answer takes as long as a wrong password.
_DUMMY_HASH = _HASHER.hash(secrets.token_urlsafe(16))


@dataclass(frozen=True, slots=True)
class StaffLogin:
    """Who logged in, and the instant their session starts (compared with
    users.sessions_valid_after on every request)."""

    actor: Actor
    display_name: str
    started_at: datetime


def check_new_password(password: str) -> None:
    """Refuse passwords too short to resist guessing (or too long to hash cheaply)."""
    if len(password) < MIN_LENGTH:
        raise InvalidInput(f"Mật khẩu cần ít nhất {MIN_LENGTH} ký tự.", code="password_too_short")
    if len(password) > MAX_LENGTH:
        raise InvalidInput(f"Mật khẩu dài quá {MAX_LENGTH} ký tự.", code="password_too_long")


async def _hash(password: str) -> str:
    """Hashing costs tens of milliseconds and 64 MiB: off the event loop."""
    return await asyncio.to_thread(_HASHER.hash, password)


async def _verify(stored: str, password: str) -> bool:
    def verify() -> bool:
        try:
            return _HASHER.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(verify)


def _actor(user: User) -> Actor:
    return Actor(name=user.username, role=user.role, user_id=user.id, agency_id=user.agency_id)


async def _store_password(user: User, password: str, now: datetime) -> None:
    """A new password ends every session started before `now`, and any pending link."""
    user.password_hash = await _hash(password)
    user.password_token_hash = None
    user.password_token_expires_at = None
    user.sessions_valid_after = now


async def set_password(db: Database, username: str, password: str) -> None:
    """Give a user a password (the CLI); their other sessions end."""
    check_new_password(password)
    async with db.session() as session:
        user = await named_user(session, username)
        await _store_password(user, password, utcnow())


async def log_in(
    db: Database, username: str, password: str, now: datetime | None = None
) -> StaffLogin:
    """Check a username and password; rehash when argon2's parameters changed since."""
    now = now or utcnow()
    async with db.session() as session:
        user = await by_username(session, username)
        stored = user.password_hash if user is not None else None
        ok = await _verify(stored or _DUMMY_HASH, password)
        if user is None or stored is None or not ok or user.disabled_at is not None:
            raise Unauthorized(WRONG, code="wrong_credentials")
        if _HASHER.check_needs_rehash(stored):
            user.password_hash = await _hash(password)
        return StaffLogin(_actor(user), user.display_name or user.username, now)


async def session_user(
    db: Database, user_id: int, started_at: datetime
) -> tuple[Actor, str] | None:
    """The actor and display name of a console session still valid on the server: None when
    the account is gone or disabled, or its sessions were ended after this one started."""
    async with db.session() as session:
        user = await session.get(User, user_id)
        if user is None or user.disabled_at is not None:
            return None
        if user.sessions_valid_after is not None and started_at < user.sessions_valid_after:
            return None
        return _actor(user), user.display_name or user.username


async def change_password(
    db: Database, user_id: int, current: str, new: str, now: datetime | None = None
) -> datetime:
    """Change one's own password (the current one is asked again); every other session
    ends. Returns the instant the caller's own session restarts at."""
    now = now or utcnow()
    check_new_password(new)
    async with db.session() as session:
        user = await session.get(User, user_id)
        if user is None or user.password_hash is None:
            raise Unauthorized(WRONG, code="wrong_credentials")
        if not await _verify(user.password_hash, current):
            raise InvalidInput("Mật khẩu hiện tại không đúng.", code="wrong_password")
        await _store_password(user, new, now)
    return now


async def issue_password_link(db: Database, username: str, now: datetime | None = None) -> str:
    """A fresh set-password token for a user (shown once; the previous link stops working)."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    async with db.session() as session:
        user = await named_user(session, username)
        user.password_token_hash = hash_token(token)
        user.password_token_expires_at = now + LINK_TTL
    return token


async def _by_link(session: AsyncSession, token: str, now: datetime) -> User:
    # Locked (PostgreSQL) so that two uses of one link at the same moment are one use.
    query = select(User).where(User.password_token_hash == hash_token(token)).with_for_update()
    user = (await session.execute(query)).scalar_one_or_none()
    expires = user.password_token_expires_at if user is not None else None
    if user is None or expires is None or expires <= now or user.disabled_at is not None:
        raise NotFound(LINK_GONE, code="link_invalid")
    return user


async def link_owner(db: Database, token: str, now: datetime | None = None) -> str:
    """The username a set-password link is for, while it is valid."""
    async with db.session() as session:
        return (await _by_link(session, token, now or utcnow())).username


async def use_password_link(
    db: Database, token: str, password: str, now: datetime | None = None
) -> str:
    """Set the password through a link, which then stops working; returns the username."""
    now = now or utcnow()
    check_new_password(password)
    async with db.session() as session:
        user = await _by_link(session, token, now)
        await _store_password(user, password, now)
        return user.username


async def disable_user(db: Database, username: str, now: datetime | None = None) -> None:
    """Someone left: no log-in, no session, no API token from now on."""
    now = now or utcnow()
    async with db.session() as session:
        user = await named_user(session, username)
        user.disabled_at = now
        user.sessions_valid_after = now
        user.api_token_hash = None
        user.token_expires_at = None
        user.password_token_hash = None
        user.password_token_expires_at = None


USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,79}$")
ACCOUNT_ERRORS = {  # the users service's codes, in the admins' language
    "invalid_role": "Vai trò không hợp lệ.",
    "unknown_agency": "Không có cơ quan này.",
    "agency_required": "Cán bộ và tổng đài viên phải thuộc một cơ quan.",
    "user_exists": "Tên đăng nhập này đã có.",
}


async def create_account(
    db: Database, username: str, role: Role | str, agency_slug: str, display_name: str
) -> str:
    """A staff account created by an admin in the console, and its first set-password link's
    token (shown once). No password passes through anyone's hands, and it has no API token
    until one is issued (`giaitrinh user token`): nothing valid that nobody has seen."""
    username, display_name = username.strip(), display_name.strip()
    if not USERNAME.match(username):
        raise InvalidInput(
            "Tên đăng nhập gồm 2 đến 80 chữ thường không dấu, chữ số, dấu chấm, gạch ngang "
            "hoặc gạch dưới.",
            code="invalid_username",
        )
    if len(display_name) > 200:
        raise InvalidInput("Họ tên dài quá 200 ký tự.", code="invalid_name")
    try:
        await create_user(db, username, role, agency_slug or None, display_name)
    except InvalidInput as exc:
        raise InvalidInput(ACCOUNT_ERRORS.get(exc.code, exc.message), code=exc.code) from exc
    await revoke_token(db, username)
    return await issue_password_link(db, username)
