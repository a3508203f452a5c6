"""case report columns and tallies: channel, place, topic, the milestones reports aggregate in
SQL, and per-month tallies of them

Reports (bot/domain/reports.py) count on-time decisions and answers and the working days an
answer took over up to a million cases, so each case keeps what they need as it moves rather
than reports replaying audit trails. Cases filed before this migration get the times of their
decision and answer from their audit trail; their deadlines were not recorded, so they are
left out of the on-time rates (and their working days of the percentiles).

A report over the whole country reads half a million cases a year at a million cases, too slow
for a page; the tallies keep, per month received, agency, province, topic, kind and channel,
the counts that no longer change (bot/store/tallies.py, which recounts them the same way),
and a partial index finds the open cases, whose lateness depends on when a report runs.

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-26 22:00:00
"""

from typing import Any

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

OPEN = sa.text("status IN ('accepted', 'extended', 'in_progress', 'received')")


def key() -> tuple[sa.Column[Any], ...]:
    """A tally's key columns (new ones for each table)."""
    return (
        sa.Column("month", sa.Date(), primary_key=True),
        sa.Column("agency_id", sa.Integer(), primary_key=True),
        sa.Column("province", sa.String(20), primary_key=True),
        sa.Column("topic", sa.String(80), primary_key=True),
    )


POSTGRES_MONTH = "CAST(date_trunc('month', c.created_at AT TIME ZONE 'Asia/Ho_Chi_Minh') AS DATE)"
SQLITE_MONTH = "date(c.created_at, '+7 hours', 'start of month')"  # Vietnam: UTC+7, no DST
TALLY = (
    """
    INSERT INTO case_tallies (month, agency_id, province, topic, kind, channel, received,
        withdrawn, acceptance_due, acceptance_on_time, answer_due, answer_on_time, answered,
        extended, extensions, ratings, rating_sum, satisfied, comments)
    SELECT {month}, c.agency_id, c.province, c.topic, c.kind, c.channel, COUNT(*),
        SUM(CASE WHEN c.status = 'withdrawn' THEN 1 ELSE 0 END),
        SUM(CASE WHEN c.status <> 'withdrawn' AND c.kind = 'explanation'
                  AND c.accept_due_at IS NOT NULL AND c.decided_at IS NOT NULL
             THEN 1 ELSE 0 END),
        SUM(CASE WHEN c.status <> 'withdrawn' AND c.kind = 'explanation'
                  AND c.decided_at <= c.accept_due_at THEN 1 ELSE 0 END),
        SUM(CASE WHEN c.status <> 'withdrawn' AND c.answer_due_at IS NOT NULL
                  AND c.answered_at IS NOT NULL THEN 1 ELSE 0 END),
        SUM(CASE WHEN c.status <> 'withdrawn' AND c.answered_at <= c.answer_due_at
             THEN 1 ELSE 0 END),
        COUNT(c.answered_at),
        SUM(CASE WHEN c.extensions > 0 THEN 1 ELSE 0 END), SUM(c.extensions),
        COUNT(r.id), COALESCE(SUM(r.score), 0),
        SUM(CASE WHEN r.score >= 4 THEN 1 ELSE 0 END),
        SUM(CASE WHEN r.comment <> '' THEN 1 ELSE 0 END)
    FROM cases c LEFT JOIN ratings r ON r.case_id = c.id
    GROUP BY 1, 2, 3, 4, 5, 6
    """,
    """
    INSERT INTO case_tally_days (month, agency_id, province, topic, days, cases)
    SELECT {month}, c.agency_id, c.province, c.topic, c.answer_working_days, COUNT(*)
    FROM cases c WHERE c.answer_working_days IS NOT NULL
    GROUP BY 1, 2, 3, 4, 5
    """,
)


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
    counted = ("received", "withdrawn", "acceptance_due", "acceptance_on_time", "answer_due",
               "answer_on_time", "answered", "extended", "extensions", "ratings", "rating_sum",
               "satisfied", "comments")  # fmt: skip
    op.create_table(
        "case_tallies",
        *key(),
        sa.Column("kind", sa.String(20), primary_key=True),
        sa.Column("channel", sa.String(20), primary_key=True),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in counted),
    )
    op.create_table(
        "case_tally_days",
        *key(),
        sa.Column("days", sa.Integer(), primary_key=True),
        sa.Column("cases", sa.Integer(), nullable=False),
    )
    op.create_index("ix_cases_open_created", "cases", ["created_at"], sqlite_where=OPEN,
                    postgresql_where=OPEN)  # fmt: skip
    sqlite = op.get_bind().dialect.name == "sqlite"
    month = SQLITE_MONTH if sqlite else POSTGRES_MONTH
    for statement in TALLY:
        op.execute(statement.replace("{month}", month))


def downgrade() -> None:
    op.drop_index("ix_cases_open_created", table_name="cases")
    op.drop_table("case_tally_days")
    op.drop_table("case_tallies")
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
