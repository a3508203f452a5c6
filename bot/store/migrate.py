"""Run Alembic migrations from code (the CLI and the tests use this, no alembic.ini needed)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import create_async_engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str) -> Config:
    """An Alembic config pointing at our migrations and the given database."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def private_file(path: Path) -> None:
    """Create a database file that only its owner can read (0600, its folder 0700 when
    this creates it), or narrow an existing one; SQLite gives its journals the same mode."""
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True)
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    if path.stat().st_uid == os.geteuid():
        path.chmod(0o600)


async def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at `url` to `revision` (a SQLite file is created private, in WAL
    mode)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        private_file(Path(parsed.database))
    engine = create_async_engine(url, hide_parameters=True)  # no values in error messages
    config = alembic_config(url)

    def _upgrade(connection: Connection) -> None:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    if parsed.get_backend_name() == "sqlite":
        # WAL from the start (bot/store/db.py): processes started next do not race each
        # other to convert the file on their first connection.
        async with engine.connect() as connection:
            await connection.exec_driver_sql("PRAGMA journal_mode=WAL")
    async with engine.begin() as connection:
        await connection.run_sync(_upgrade)
    await engine.dispose()


def upgrade_sync(url: str, revision: str = "head") -> None:
    """Blocking wrapper for the CLI."""
    asyncio.run(upgrade(url, revision))
