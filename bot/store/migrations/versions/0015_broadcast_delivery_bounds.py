"""broadcast delivery ranges: planned rows found by their plan's id range, not by indexes

A million-row plan on PostgreSQL spent about half its time entering two indexes: the unique
one on (broadcast, contact), which the delivery report read, and the dispatcher's (status,
next attempt). The planner's disjoint ranges of contact ids already give each contact one
delivery, so the planner now records on the broadcast the range of ids its deliveries got
(`delivery_ids_after/upto`): the report reads that range of the primary key, and the
dispatcher claims planned rows (written without a due time) by walking it with a cursor
(`delivery_ids_claimed`); its index holds only rows with a due time (bot/store/queue.py).
Matching subscribers reads indexes only: the subscriptions' (contact, topic, status) for the
whole country, and the few contacts that cannot be reached.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-26 20:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

# Broadcasts planned before: their rows all have a due time (the dispatcher's index finds
# them), so the cursor starts at their end.
BACKFILL = """
    UPDATE broadcasts SET
        delivery_ids_after = (SELECT MIN(d.id) - 1 FROM deliveries d
                              WHERE d.broadcast_id = broadcasts.id),
        delivery_ids_upto = (SELECT MAX(d.id) FROM deliveries d
                             WHERE d.broadcast_id = broadcasts.id),
        delivery_ids_claimed = (SELECT MAX(d.id) FROM deliveries d
                                WHERE d.broadcast_id = broadcasts.id)
"""
HAS_DUE_TIME = sa.text("next_attempt_at IS NOT NULL")
UNREACHABLE = sa.text("unreachable_at IS NOT NULL")


def upgrade() -> None:
    with op.batch_alter_table("broadcasts") as batch:
        batch.add_column(sa.Column("delivery_ids_after", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("delivery_ids_upto", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("delivery_ids_claimed", sa.Integer(), nullable=True))
    op.execute(BACKFILL)  # while the (broadcast, contact) index still makes it quick
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_index("uq_delivery_broadcast_contact")
        batch.drop_index("ix_deliveries_status_next")
        batch.alter_column(
            "next_attempt_at", existing_type=sa.DateTime(timezone=True), nullable=True
        )
        batch.create_index(
            "ix_deliveries_status_next",
            ["status", "next_attempt_at"],
            sqlite_where=HAS_DUE_TIME,
            postgresql_where=HAS_DUE_TIME,
        )
    op.create_index(
        "ix_subscriptions_contact_topic_status",
        "subscriptions",
        ["contact_id", "topic", "status"],
    )
    op.create_index(
        "ix_contacts_unreachable",
        "contacts",
        ["id"],
        sqlite_where=UNREACHABLE,
        postgresql_where=UNREACHABLE,
    )


def downgrade() -> None:
    op.drop_index("ix_contacts_unreachable", table_name="contacts")
    op.drop_index("ix_subscriptions_contact_topic_status", table_name="subscriptions")
    # Planned rows not claimed yet get their due time back (as they were written before).
    op.execute("UPDATE deliveries SET next_attempt_at = created_at WHERE next_attempt_at IS NULL")
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_index("ix_deliveries_status_next")
        batch.alter_column(
            "next_attempt_at", existing_type=sa.DateTime(timezone=True), nullable=False
        )
        batch.create_index("ix_deliveries_status_next", ["status", "next_attempt_at"])
        batch.create_index(
            "uq_delivery_broadcast_contact", ["broadcast_id", "contact_id"], unique=True
        )
    with op.batch_alter_table("broadcasts") as batch:
        batch.drop_column("delivery_ids_claimed")
        batch.drop_column("delivery_ids_upto")
        batch.drop_column("delivery_ids_after")
