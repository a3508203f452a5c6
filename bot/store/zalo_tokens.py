"""The Zalo OA token row (`zalo_tokens`, id 1): its statements, in one place.

The refresh token is single-use, so who may refresh is decided by the database: a lease
taken with one conditional UPDATE (two processes cannot both win it), and the new pair
written by the lease holder in one UPDATE.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.models import ZaloToken, utcnow

ROW = 1  # the one row


async def ensure_row(session: AsyncSession, access_token: str, refresh_token: str) -> None:
    """Seed the row with the configured pair the first time (later pairs come from refreshes)."""
    if await session.get(ZaloToken, ROW) is None:
        session.add(
            ZaloToken(
                id=ROW,
                access_token=access_token,
                refresh_token=refresh_token,
                # Unknown age: treat as due, so the first round refreshes it.
                expires_at=utcnow(),
            )
        )


async def read(session: AsyncSession) -> ZaloToken | None:
    """The row, or None before it was seeded."""
    return await session.get(ZaloToken, ROW)


async def take_lease(
    session: AsyncSession, holder: str, now: datetime, until: datetime, due_before: datetime | None
) -> bool:
    """Take the refresh lease if nobody holds it (and, unless `due_before` is None, only if the
    token expires before then); True when this holder has it. One UPDATE, so two processes
    cannot both win."""
    free = or_(ZaloToken.lease_until.is_(None), ZaloToken.lease_until < now)
    due = (
        ()
        if due_before is None
        else (or_(ZaloToken.expires_at.is_(None), ZaloToken.expires_at < due_before),)
    )
    result = await session.execute(
        update(ZaloToken)
        .where(ZaloToken.id == ROW, free, *due)
        .values(lease_until=until, lease_holder=holder)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


async def refresh_token(session: AsyncSession) -> str:
    """The stored (single-use) refresh token."""
    return (
        await session.execute(select(ZaloToken.refresh_token).where(ZaloToken.id == ROW))
    ).scalar_one()


async def write_pair(
    session: AsyncSession,
    holder: str,
    access_token: str,
    refresh_token: str,
    expires_at: datetime,
    refreshed_at: datetime,
) -> None:
    """Store a new pair and release the lease, in one UPDATE, only for the lease holder."""
    await session.execute(
        update(ZaloToken)
        .where(ZaloToken.id == ROW, ZaloToken.lease_holder == holder)
        .values(
            access_token=access_token,
            refresh_token=refresh_token,
            expires_at=expires_at,
            refreshed_at=refreshed_at,
            last_error=None,
            last_error_at=None,
            lease_until=None,
            lease_holder=None,
        )
    )


async def release(session: AsyncSession, holder: str, error: str, at: datetime) -> None:
    """Give the lease back after a failed refresh, keeping the working pair and the error."""
    await session.execute(
        update(ZaloToken)
        .where(ZaloToken.id == ROW, ZaloToken.lease_holder == holder)
        .values(lease_until=None, lease_holder=None, last_error=error, last_error_at=at)
    )
