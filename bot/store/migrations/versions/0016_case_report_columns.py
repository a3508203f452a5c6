"""case report columns: channel, place, topic and the milestones reports aggregate in SQL

Reports (bot/domain/reports.py) count on-time decisions and answers and the working days an
answer took over up to a million cases, so each case keeps what they need as it moves rather
than reports replaying audit trails. Cases filed before this migration get the times of their
decision and answer from their audit trail; their deadlines were not recorded, so they are
left out of the on-time rates (and their working days of the percentiles).

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-26 22:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

BACKFILL = """
    UPDATE cases SET
        channel = COALESCE((SELECT c.channel FROM contacts c WHERE c.id = cases.contact_id), ''),
        decided_at = CASE WHEN kind = 'explanation' THEN
            (SELECT MIN(e.at) FROM case_events e WHERE e.case_id = cases.id
             AND e.to_status IN ('accepted', 'refused')) END,
        answered_at = (SELECT MIN(e.at) FROM case_events e WHERE e.case_id = cases.id
                       AND e.to_status = 'answered')
"""


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("channel", sa.String(20), nullable=False, server_default=""))
        batch.add_column(sa.Column("locality", sa.String(20), nullable=False, server_default=""))
        batch.add_column(sa.Column("province", sa.String(20), nullable=False, server_default=""))
        batch.add_column(sa.Column("topic", sa.String(80), nullable=False, server_default=""))
        for name in ("accept_due_at", "decided_at", "answer_due_at", "answered_at"):
            batch.add_column(sa.Column(name, sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("answer_working_days", sa.Integer(), nullable=True))
        batch.create_index("ix_cases_agency_created", ["agency_id", "created_at"])
        batch.create_index("ix_cases_province_created", ["province", "created_at"])
    op.execute(BACKFILL)


def downgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.drop_index("ix_cases_province_created")
        batch.drop_index("ix_cases_agency_created")
        for name in (
            "answer_working_days",
            "answered_at",
            "answer_due_at",
            "decided_at",
            "accept_due_at",
            "topic",
            "province",
            "locality",
            "channel",
        ):
            batch.drop_column(name)
