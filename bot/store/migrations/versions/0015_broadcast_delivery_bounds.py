"""broadcast delivery bounds: a broadcast's deliveries found by id range, not by an index

A million-row plan on PostgreSQL spent about a quarter of its time keeping the unique
index on (broadcast, contact) that the delivery report read. The planner's disjoint ranges
of contact ids already give each contact one delivery; the report now reads the id range
each broadcast's deliveries were written in (the primary key), which the planner records.
Matching subscribers reads one index of (contact, topic, status) only.

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

BACKFILL = """
    UPDATE broadcasts SET
        delivery_ids_after = (SELECT MIN(d.id) - 1 FROM deliveries d
                              WHERE d.broadcast_id = broadcasts.id),
        delivery_ids_upto = (SELECT MAX(d.id) FROM deliveries d
                             WHERE d.broadcast_id = broadcasts.id)
"""


def upgrade() -> None:
    with op.batch_alter_table("broadcasts") as batch:
        batch.add_column(sa.Column("delivery_ids_after", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("delivery_ids_upto", sa.Integer(), nullable=True))
    op.execute(BACKFILL)  # while the (broadcast, contact) index still makes it quick
    op.drop_index("uq_delivery_broadcast_contact", table_name="deliveries")
    op.create_index(
        "ix_subscriptions_contact_topic_status",
        "subscriptions",
        ["contact_id", "topic", "status"],
    )


def downgrade() -> None:
    op.drop_index("ix_subscriptions_contact_topic_status", table_name="subscriptions")
    op.create_index(
        "uq_delivery_broadcast_contact", "deliveries", ["broadcast_id", "contact_id"], unique=True
    )
    with op.batch_alter_table("broadcasts") as batch:
        batch.drop_column("delivery_ids_upto")
        batch.drop_column("delivery_ids_after")
