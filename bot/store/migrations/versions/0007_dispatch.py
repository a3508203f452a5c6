"""dispatch: broadcast text and schedule, worker claims, one delivery per broadcast and contact,
subscribers by province

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 12:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("broadcasts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("text", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("send_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("planned_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("planned_upto", sa.Integer(), nullable=False, server_default="0")
        )
    # Broadcasts published before this revision were planned at once.
    op.execute("UPDATE broadcasts SET planned_at = created_at")

    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=80), nullable=True))
        batch_op.create_index(
            "uq_delivery_broadcast_contact", ["broadcast_id", "contact_id"], unique=True
        )

    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        # Place-targeted broadcasts are planned range by range of contact ids: the id ends
        # both indexes so that each range is an index range scan.
        batch_op.drop_index("ix_subscriptions_topic_locality_status")
        batch_op.create_index(
            "ix_subscriptions_topic_locality", ["topic", "locality", "status", "contact_id"]
        )
        batch_op.create_index(
            "ix_subscriptions_topic_province", ["topic", "province", "status", "contact_id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("subscriptions", schema=None) as batch_op:
        batch_op.drop_index("ix_subscriptions_topic_province")
        batch_op.drop_index("ix_subscriptions_topic_locality")
        batch_op.create_index(
            "ix_subscriptions_topic_locality_status", ["topic", "locality", "status"]
        )

    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index("uq_delivery_broadcast_contact")
        batch_op.drop_column("claimed_by")

    with op.batch_alter_table("broadcasts", schema=None) as batch_op:
        batch_op.drop_column("planned_upto")
        batch_op.drop_column("planned_at")
        batch_op.drop_column("send_at")
        batch_op.drop_column("text")
