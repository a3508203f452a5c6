"""conversation leases: which process hands a conversation to the engine, until when

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-26 13:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("lease_holder", sa.String(length=80), nullable=True))
        batch.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("lease_until")
        batch.drop_column("lease_holder")
