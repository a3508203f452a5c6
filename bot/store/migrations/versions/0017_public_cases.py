"""public cases: the citizen's consent to publish a case as open data (Open311)

`cases.public` is false for every case filed before this migration (nobody was asked) and
for every case whose citizen did not agree; a partial index finds the published ones by date.

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-26 22:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

PUBLIC = sa.text("public")


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(
            sa.Column("public", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_index("ix_cases_public_created", "cases", ["created_at"], sqlite_where=PUBLIC,
                    postgresql_where=PUBLIC)  # fmt: skip


def downgrade() -> None:
    op.drop_index("ix_cases_public_created", table_name="cases")
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("public")
