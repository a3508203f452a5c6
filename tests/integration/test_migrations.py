"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlite3
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

import bot.store.audit  # noqa: F401  (declares api_calls on the models' metadata)
import bot.store.privacy  # noqa: F401  (declares tracker_erasures)
from bot.store.migrate import upgrade
from bot.store.models import Base


async def test_migrated_schema_matches_the_models(database_url: str) -> None:
    engine = create_async_engine(database_url)

    def differences(connection: Connection) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        return list(compare_metadata(context, Base.metadata))

    try:
        async with engine.connect() as connection:
            found = await connection.run_sync(differences)
    finally:
        await engine.dispose()
    assert found == [], "a model and the migrations disagree (write a migration):\n" + "\n".join(
        map(str, found)
    )


async def test_the_outbox_migration_goes_down_and_up_again(database_url: str) -> None:
    from alembic import command
    from sqlalchemy import inspect

    from bot.store.migrate import alembic_config

    engine = create_async_engine(database_url)

    def down(connection: Connection) -> list[str]:
        config = alembic_config(database_url)
        config.attributes["connection"] = connection
        command.downgrade(config, "0013")
        keys = inspect(connection).get_foreign_keys("deliveries")
        return sorted(key["referred_table"] for key in keys)

    try:
        async with engine.begin() as connection:
            referred = await connection.run_sync(down)
    finally:
        await engine.dispose()
    assert referred == ["broadcasts", "cases", "contacts", "messages"], referred
    await upgrade(database_url)
    await test_migrated_schema_matches_the_models(database_url)


async def test_a_new_sqlite_file_is_in_wal_mode_before_any_process_opens_it(tmp_path: Any) -> None:
    """`db upgrade` leaves the file in WAL mode: processes started next (gateways, workers)
    do not race each other to convert it on their first connection."""
    path = tmp_path / "new.db"
    await upgrade(f"sqlite+aiosqlite:///{path}")
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
