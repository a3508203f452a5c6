"""privacy: erased message texts, and the queue of engine sender ids whose tracker events
must be deleted

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-25 23:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

UNREDACTED = sa.text("redacted_at IS NULL")


def upgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("redacted_at", sa.DateTime(timezone=True), nullable=True))
    # Outside the batch: a partial index (the retention job's scan of texts still readable).
    op.create_index(
        "ix_messages_unredacted_created",
        "messages",
        ["created_at"],
        sqlite_where=UNREDACTED,
        postgresql_where=UNREDACTED,
    )

    op.create_table(
        "tracker_erasures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("engine_sender", sa.String(length=40), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("before", sa.DateTime(timezone=True), nullable=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_tracker_erasures_conversation_id", "tracker_erasures", ["conversation_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_tracker_erasures_conversation_id", table_name="tracker_erasures")
    op.drop_table("tracker_erasures")
    op.drop_index("ix_messages_unredacted_created", table_name="messages")
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_column("redacted_at")
