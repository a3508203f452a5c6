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


async def test_the_report_columns_are_filled_from_the_audit_trail(database_url: str) -> None:
    """Migration 0016: a case filed before it gets its channel from its contact and the
    times of its decision and answer from its audit trail; no deadlines (none were kept);
    it is counted in its month's tally."""
    from alembic import command
    from sqlalchemy import text

    from bot.store.migrate import alembic_config

    engine = create_async_engine(database_url)

    def down_and_fill(connection: Connection) -> None:
        config = alembic_config(database_url)
        config.attributes["connection"] = connection
        command.downgrade(config, "0015")
        for statement in (
            "INSERT INTO agencies (id, slug, name, locality, contact, office_hours, created_at)"
            " VALUES (901, 'cu', 'Cũ', '', '', '', '2026-03-02 03:00:00')",
            "INSERT INTO contacts (id, channel, channel_user_id, display_name, locale,"
            " created_at, last_seen_at) VALUES (902, 'zalo', 'z-1', '', 'vi',"
            " '2026-03-02 03:00:00', '2026-03-02 03:00:00')",
            "INSERT INTO cases (id, code, kind, status, agency_id, contact_id, anonymous,"
            " requester_name, requester_contact, target, subject, content, location,"
            " attachments, extensions, due_soon_notified, overdue_notified, answer,"
            " refusal_reason, created_at, updated_at) VALUES (903, 'OLDCASE01', 'explanation',"
            " 'answered', 901, 902, false, '', '', '', '', 'x', '', '[]', 0, false, false,"
            " 'ok', '', '2026-03-02 03:00:00', '2026-03-02 03:00:00')",
            "INSERT INTO case_events (case_id, at, actor, action, from_status, to_status, note)"
            " VALUES (903, '2026-03-03 03:00:00', 'a', 'transition', 'received', 'accepted', ''),"
            " (903, '2026-03-09 03:00:00', 'a', 'transition', 'accepted', 'answered', 'ok')",
        ):
            connection.execute(text(statement))

    try:
        async with engine.begin() as connection:
            await connection.run_sync(down_and_fill)
        await upgrade(database_url)
        async with engine.connect() as connection:
            row = (
                await connection.execute(
                    text(
                        "SELECT channel, decided_at, answered_at, accept_due_at, answer_due_at"
                        " FROM cases WHERE id = 903"
                    )
                )
            ).one()
            tally = (
                await connection.execute(
                    text(
                        "SELECT month, province, kind, channel, received, answered, answer_due"
                        " FROM case_tallies"
                    )
                )
            ).all()
    finally:
        await engine.dispose()
    assert [tuple(map(str, t)) for t in tally] == [
        ("2026-03-01", "", "explanation", "zalo", "1", "1", "0")  # on time or not: unknown
    ]
    channel, decided, answered, accept_due, answer_due = row
    assert channel == "zalo"
    assert str(decided).startswith("2026-03-03 03:00:00")
    assert str(answered).startswith("2026-03-09 03:00:00")
    assert accept_due is None and answer_due is None
