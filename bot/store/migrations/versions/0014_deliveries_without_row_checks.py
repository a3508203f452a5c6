"""deliveries without per-row checks: no foreign keys, a dedupe index only where there is a key

A million-row broadcast plan spent most of its time on PostgreSQL in the foreign keys'
per-row triggers (four per row, two of them on NULL columns) and in a unique index that
every planned row (without a dedupe key) entered. The writers take the ids from rows they
have just read or written, and nothing deletes the rows they name (bot/store/models/outbox.py).

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-26 13:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

# (column, referred table, PostgreSQL's name of the constraint)
FOREIGN_KEYS = (
    ("contact_id", "contacts", "deliveries_contact_id_fkey"),
    ("case_id", "cases", "deliveries_case_id_fkey"),
    ("message_id", "messages", "deliveries_message_id_fkey"),
    ("broadcast_id", "broadcasts", "fk_deliveries_broadcast_id"),
)
# SQLite keeps the first three unnamed: batch mode names them by this convention to drop them.
SQLITE_NAMES = {"fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s"}
WITH_KEY = sa.text("dedupe_key IS NOT NULL")


def _sqlite_name(column: str, table: str, name: str) -> str:
    return name if column == "broadcast_id" else f"fk_deliveries_{column}_{table}"


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    with op.batch_alter_table("deliveries", naming_convention=SQLITE_NAMES) as batch:
        for column, table, name in FOREIGN_KEYS:
            batch.drop_constraint(
                _sqlite_name(column, table, name) if sqlite else name, type_="foreignkey"
            )
        batch.drop_constraint("uq_delivery_dedupe_key", type_="unique")
        batch.create_index(
            "uq_delivery_dedupe_key",
            ["dedupe_key"],
            unique=True,
            sqlite_where=WITH_KEY,
            postgresql_where=WITH_KEY,
        )


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    with op.batch_alter_table("deliveries", naming_convention=SQLITE_NAMES) as batch:
        batch.drop_index("uq_delivery_dedupe_key")
        batch.create_unique_constraint("uq_delivery_dedupe_key", ["dedupe_key"])
        for column, table, name in FOREIGN_KEYS:
            batch.create_foreign_key(
                _sqlite_name(column, table, name) if sqlite else name, table, [column], ["id"]
            )
