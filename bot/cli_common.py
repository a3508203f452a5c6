"""What the command line's sub-command modules share: running one piece of work on the
database and showing its result."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

from bot.settings import Settings

if TYPE_CHECKING:
    from bot.store.db import Database

T = TypeVar("T")


def on_database(
    settings: Settings, work: Callable[[Database], Awaitable[T]], show: Callable[[T], None]
) -> int:
    """Run `work` on the database and show its result; a domain error is one line and exit 2."""
    from bot.errors import GiaitrinhError
    from bot.store.db import Database

    async def run() -> T:
        db = Database(settings.database_url)
        try:
            return await work(db)
        finally:
            await db.dispose()

    try:
        result = asyncio.run(run())
    except GiaitrinhError as exc:
        print(f"error ({exc.code}): {exc.message}", file=sys.stderr)
        return 2
    show(result)
    return 0
