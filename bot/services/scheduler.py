"""Deadline watch: officers get a notice when a case is due soon and when it is overdue."""

from __future__ import annotations

from datetime import datetime, timedelta

import structlog
from sqlalchemy import select

from bot.domain import codes
from bot.domain.case_texts import format_due
from bot.domain.cases import OPEN_STATUSES
from bot.services.loops import LoopState, supervise
from bot.services.notices import notice_officers
from bot.store.db import Database
from bot.store.models import Case, utcnow

log = structlog.get_logger(__name__)


async def scan_deadlines(
    db: Database, due_soon_hours: int = 48, now: datetime | None = None
) -> int:
    """Write one due-soon and one overdue notice per case and deadline; returns notices made."""
    now = now or utcnow()
    horizon = now + timedelta(hours=due_soon_hours)
    made = 0
    async with db.session() as session:
        cases = (
            (
                await session.execute(
                    select(Case)
                    .where(
                        Case.status.in_(OPEN_STATUSES),
                        Case.due_at.is_not(None),
                        Case.due_at < horizon,
                        (Case.due_soon_notified.is_(False)) | (Case.overdue_notified.is_(False)),
                    )
                    # Every dispatcher process scans: a case another scan is noticing now is
                    # left to it (PostgreSQL; SQLite's write lock already takes turns).
                    .with_for_update(skip_locked=True)
                )
            )
            .scalars()
            .all()
        )
        for case in cases:
            assert case.due_at is not None
            overdue = case.due_at < now
            if overdue and case.overdue_notified:
                continue
            if not overdue and case.due_soon_notified:
                continue
            kind = "overdue" if overdue else "due_soon"
            text = (
                f"Hồ sơ {codes.display(case.code)} đã quá hạn ({format_due(case.due_at)})."
                if overdue
                else f"Hồ sơ {codes.display(case.code)} sắp đến hạn ({format_due(case.due_at)})."
            )
            made += await notice_officers(session, case, kind, text)
            if overdue:
                case.overdue_notified = True
                case.due_soon_notified = True
            else:
                case.due_soon_notified = True
    if made:
        log.info("deadline_notices", count=made)
    return made


async def run(db: Database, interval: float, due_soon_hours: int, state: LoopState) -> None:
    """Background loop: a scan now, then one every `interval` seconds (supervised)."""

    async def scan() -> None:
        await scan_deadlines(db, due_soon_hours)

    await supervise(state, scan, interval)
