"""zalo message kinds: cards, deferred deliveries, receipts, monthly quotas, case updates by case

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-26 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_DEFERRED = sa.text("status = 'deferred'")
_WITH_EXTERNAL_ID = sa.text("external_id IS NOT NULL")
_OF_A_CASE = sa.text("case_id IS NOT NULL")


def upgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("card", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("external_id", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("quota_pool", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("received_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("seen_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(
        "ix_deliveries_deferred_contact",
        "deliveries",
        ["contact_id"],
        sqlite_where=_DEFERRED,
        postgresql_where=_DEFERRED,
    )
    op.create_index(
        "ix_deliveries_external_id",
        "deliveries",
        ["external_id"],
        sqlite_where=_WITH_EXTERNAL_ID,
        postgresql_where=_WITH_EXTERNAL_ID,
    )
    op.create_index(
        "ix_deliveries_case",
        "deliveries",
        ["case_id"],
        sqlite_where=_OF_A_CASE,
        postgresql_where=_OF_A_CASE,
    )
    with op.batch_alter_table("broadcasts") as batch:
        batch.add_column(sa.Column("card", sa.JSON(), nullable=True))
    op.create_table(
        "platform_quotas",
        sa.Column("pool", sa.String(length=40), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("used", sa.Integer(), nullable=False),
        sa.Column("granted", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("pool", "period"),
    )


def downgrade() -> None:
    op.drop_table("platform_quotas")
    with op.batch_alter_table("broadcasts") as batch:
        batch.drop_column("card")
    op.drop_index("ix_deliveries_case", table_name="deliveries")
    op.drop_index("ix_deliveries_external_id", table_name="deliveries")
    op.drop_index("ix_deliveries_deferred_contact", table_name="deliveries")
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("seen_at")
        batch.drop_column("received_at")
        batch.drop_column("quota_pool")
        batch.drop_column("external_id")
        batch.drop_column("card")
