"""A monthly quota is one count for every process: processes taking units at the same time
never grant more than the limit, never less, and the reserve holds."""

from __future__ import annotations

import asyncio
import sys

from bot.store import quotas
from bot.store.db import Database
from tests.conftest import PROJECT_ROOT

TAKER = """
import asyncio, sys
from bot.store import quotas
from bot.store.db import Database

async def main(url: str, keep: int) -> None:
    db = Database(url)
    total = 0
    while True:
        async with db.session() as session:
            granted = await quotas.take(session, "zalo:proactive", "2026-11", 7, 500, keep)
        if not granted:
            break
        total += granted
    await db.dispose()
    print(total)

asyncio.run(main(sys.argv[1], int(sys.argv[2])))
"""


async def take_in_a_process(url: str, keep: int) -> int:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        TAKER,
        url,
        str(keep),
        cwd=PROJECT_ROOT,
        env={"PYTHONPATH": str(PROJECT_ROOT), "PATH": "/usr/bin:/bin"},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 0, err.decode()[-2000:]
    return int(out.decode().strip())


async def test_processes_taking_at_once_share_one_count(database_url: str) -> None:
    broadcasts = await asyncio.gather(
        *(take_in_a_process(database_url, keep=100) for _ in range(3))
    )
    assert sum(broadcasts) == 400, f"the reserve of 100 is left: {broadcasts}"
    updates = await asyncio.gather(*(take_in_a_process(database_url, keep=0) for _ in range(2)))
    assert sum(updates) == 100, f"case updates take the reserve, and no more: {updates}"
    db = Database(database_url)
    async with db.session() as session:
        assert await quotas.used(session, "zalo:proactive", "2026-11") == 500
        assert await quotas.take(session, "zalo:proactive", "2026-11", 1, 500) == 0
        await quotas.give_back(session, "zalo:proactive", "2026-11", 3)
        assert await quotas.take(session, "zalo:proactive", "2026-11", 10, 500) == 3
        assert await quotas.used(session, "zalo:proactive", "2026-12") == 0, "a month of its own"
    await db.dispose()
