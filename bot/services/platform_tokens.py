"""Platform access tokens kept in the database: the Zalo OA pair and its refresh lease.

The connector (connectors/zalo/tokens.py) calls Zalo's OAuth server; these functions own the
transactions around that call: take the lease and read the single-use refresh token, then
either store the new pair or record why the refresh failed (the working pair is kept).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.store import zalo_tokens
from bot.store.db import Database
from bot.store.models import utcnow


@dataclass(frozen=True, slots=True)
class TokenStatus:
    """What /healthz shows about the Zalo token."""

    expires_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None

    def as_json(self) -> dict[str, str | None]:
        """For /healthz: a failed refresh must be visible before sends start failing."""
        return {
            "expires_at": self.expires_at.isoformat() if self.expires_at else None,
            "last_refresh_error": self.last_error,
            "last_refresh_error_at": self.last_error_at.isoformat() if self.last_error_at else None,
        }


async def seed_zalo(db: Database, access_token: str, refresh_token: str) -> None:
    """Store the configured pair the first time the gateway starts with Zalo."""
    async with db.session() as session:
        await zalo_tokens.ensure_row(session, access_token, refresh_token)


async def zalo_access_token(db: Database) -> str:
    """The stored access token ("" before it was seeded)."""
    async with db.session(read_only=True) as session:
        row = await zalo_tokens.read(session)
        return row.access_token if row else ""


async def zalo_status(db: Database) -> TokenStatus:
    """Expiry and the last refresh error, for the health endpoint."""
    async with db.session(read_only=True) as session:
        row = await zalo_tokens.read(session)
        if row is None:
            return TokenStatus(None, "no token configured", None)
        return TokenStatus(row.expires_at, row.last_error, row.last_error_at)


async def lease_zalo_refresh(
    db: Database, holder: str, lease: timedelta, margin: timedelta | None
) -> str | None:
    """The refresh token when `holder` took the refresh lease (for `lease`), None when another
    process holds it or the token is not due (expiring within `margin`; None forces)."""
    now = utcnow()
    async with db.session() as session:
        due_before = None if margin is None else now + margin
        if not await zalo_tokens.take_lease(session, holder, now, now + lease, due_before):
            return None
        return await zalo_tokens.refresh_token(session)


async def store_zalo_pair(
    db: Database, holder: str, access_token: str, refresh_token: str, expires_in: timedelta
) -> None:
    """Keep the pair Zalo just issued (both at once: the old refresh token is spent)."""
    done = utcnow()
    async with db.session() as session:
        await zalo_tokens.write_pair(
            session, holder, access_token, refresh_token, done + expires_in, done
        )


async def zalo_refresh_failed(db: Database, holder: str, error: str) -> None:
    """Release the lease and record the error (shown on /healthz); the working pair stays."""
    async with db.session() as session:
        await zalo_tokens.release(session, holder, error, utcnow())
