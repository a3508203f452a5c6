"""explanation questions: the typical questions an explanation answers, written by the
publishing officer and searched with it

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-26 02:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A JSON list like `topics`; existing versions get an empty one.
    with op.batch_alter_table("explanations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("questions", sa.JSON(), nullable=False, server_default="[]")
        )


def downgrade() -> None:
    with op.batch_alter_table("explanations", schema=None) as batch_op:
        batch_op.drop_column("questions")
