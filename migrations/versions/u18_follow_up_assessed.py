"""follow-up days: whether each milestone's assessment is recorded, in the days' indexes

Revision ID: u18_follow_up_assessed
Revises: t15_lead_last_session
Create Date: 2026-12-05 01:00:00

The follow-ups lists count what is due and overdue by looking, for each stored day in
the range, for an assessment: at 10,000 patients PostgreSQL read all 19,738 assessments
for the overdue count (3.8 ms). The days now carry whether they were assessed, in the
indexes the lists read, and every writer of an assessment sets it
(tracker.recall.follow_up_days.mark_assessed).
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = 'u18_follow_up_assessed'
down_revision = 't15_lead_last_session'
branch_labels = None
depends_on = None

OLD_INDEXES = {
    "ix_follow_up_days_due_on": ["due_on", "series_id", "milestone_months"],
    "ix_follow_up_days_lead_due_on": ["lead_practitioner_id", "due_on", "series_id",
                                      "milestone_months"],
}


def upgrade():
    # A plain ADD / DROP COLUMN on both databases (SQLite 3.35 and later do both): no
    # table is rebuilt.
    op.add_column("follow_up_days", sa.Column("assessed", sa.Boolean(), nullable=False,
                                              server_default=sa.false()))
    op.execute(
        "UPDATE follow_up_days SET assessed = EXISTS (SELECT 1 FROM follow_up_assessments a"
        " WHERE a.series_id = follow_up_days.series_id"
        " AND a.milestone_months = follow_up_days.milestone_months)")
    for name, columns in OLD_INDEXES.items():
        op.drop_index(name, table_name="follow_up_days")
        op.create_index(name, "follow_up_days", [*columns, "assessed"])


def downgrade():
    for name, columns in OLD_INDEXES.items():
        op.drop_index(name, table_name="follow_up_days")
        op.create_index(name, "follow_up_days", columns)
    op.drop_column("follow_up_days", "assessed")
