"""join the two speed-ups of the manager review (stored follow-up days, stored review
figures), made side by side on the same parent, into one line of history

Revision ID: r18d_merge_review_follow_ups
Revises: r18b_follow_up_days, r18c_review_figures
Create Date: 2026-12-04 18:40:00

No schema change: the two revisions touch different tables.
"""


# revision identifiers, used by Alembic.
revision = 'r18d_merge_review_follow_ups'
down_revision = ('r18b_follow_up_days', 'r18c_review_figures')
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
